"""The `comments` function: list, create and delete comments on posts."""

from phasma.http.function import http_function

handle = http_function("comments")
