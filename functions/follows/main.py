"""The `follows` function: follow, unfollow, follower and following lists."""

from phasma.http.function import http_function

handle = http_function("follows")
