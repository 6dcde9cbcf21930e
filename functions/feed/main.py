"""The `feed` function: the signed-in user's home feed."""

from phasma.http.function import http_function

handle = http_function("feed")
