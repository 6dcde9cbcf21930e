"""The `posts` function: create and delete posts, post pages, profiles' posts, popular posts."""

from phasma.http.function import http_function

handle = http_function("posts")
