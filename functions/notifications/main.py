"""The `notifications` function: list, unread count, mark read, the live stream."""

from phasma.http.function import http_function

handle = http_function("notifications")
