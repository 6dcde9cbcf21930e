"""The `search` function: users, posts and hashtags, typeahead, recent searches."""

from phasma.http.function import http_function

handle = http_function("search")
