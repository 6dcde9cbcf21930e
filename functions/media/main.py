"""The `media` function: stream stored images with immutable caching."""

from phasma.http.function import http_function

handle = http_function("media")
