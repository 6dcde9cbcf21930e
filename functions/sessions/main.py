"""The `sessions` function: log in, list and revoke sessions, log out."""

from phasma.http.function import http_function

handle = http_function("sessions")
