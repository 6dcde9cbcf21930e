"""Outgoing mail: the `mailer` worker, its single-use tokens, templates and SMTP client."""
