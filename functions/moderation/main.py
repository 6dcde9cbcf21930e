"""The `moderation` function: reports, the moderation queue, decisions and reinstating."""

from phasma.http.function import http_function

handle = http_function("moderation")
