"""The `users` function: registration, profiles and the signed-in account."""

from phasma.http.function import http_function

handle = http_function("users")
