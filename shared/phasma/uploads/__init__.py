"""Uploads: the bounded multipart read, re-encoding and pending-upload bookkeeping."""
