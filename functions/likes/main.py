"""The `likes` function: like and unlike posts, the posts a user liked."""

from phasma.http.function import http_function

handle = http_function("likes")
