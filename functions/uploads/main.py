"""The `uploads` function: validate, re-encode and store an image as a pending upload."""

from phasma.http.function import http_function

handle = http_function("uploads")
