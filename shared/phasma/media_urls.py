"""Signed image URLs for private accounts (docs/api.md §E; docs/security.md, "Private media").

A private account's post images are served only with `?token=<expires>-<signature>`:
an HMAC-SHA256 of the filename and the expiry under a key derived from
`SESSION_HASH_SECRET` with a label of its own (as the device cookie and mail tokens
derive theirs), so no other HMAC of that secret can stand in for one. Whoever may read
a post gets its images' tokens in the Post shape; the media function checks them.

The key reaches the code that builds Posts through `signing_key_var`, which the HTTP
pipeline sets for each request from its function's settings: a Post is built deep in
the slices' queries, which never see the settings. Outside a request (workers, the
exporter) no token is made, and none is needed: nothing there shows an image.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import re
import time
from typing import Final

from phasma.config import Limits

_KEY_LABEL: Final = b"phasma media url v1"
# `<expires, unix seconds>-<32 hex characters: the first 128 bits of the HMAC>`.
_TOKEN_SHAPE: Final = re.compile(r"([0-9]{1,12})-([0-9a-f]{32})")

signing_key_var: contextvars.ContextVar[bytes | None] = contextvars.ContextVar(
    "media_signing_key", default=None
)


def signing_key(secret: str) -> bytes:
    """The media URL key derived from `SESSION_HASH_SECRET`."""
    return hmac.new(secret.encode(), _KEY_LABEL, hashlib.sha256).digest()


def _signature(key: bytes, filename: str, expires: int) -> str:
    message = f"{filename}:{expires}".encode("ascii")
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def expiry(now: float) -> int:
    """When a URL handed out at `now` expires: at least the TTL ahead, rounded up to a
    step, so the pages of one step share one URL (and the browser's cached copy)."""
    step = Limits.MEDIA_URL_EXPIRY_STEP_SECONDS
    earliest = int(now) + Limits.MEDIA_URL_TTL_SECONDS
    return -(-earliest // step) * step


def make_token(key: bytes, filename: str, now: float) -> str:
    expires = expiry(now)
    return f"{expires}-{_signature(key, filename, expires)}"


def token_for(filename: str) -> str | None:
    """The token of `filename` under the current request's key; None outside a request."""
    key = signing_key_var.get()
    if key is None:
        return None
    return make_token(key, filename, time.time())


def token_expiry(key: bytes, filename: str, token: str, now: float) -> int | None:
    """The expiry of a valid, unexpired token for `filename`, else None."""
    match = _TOKEN_SHAPE.fullmatch(token)
    if match is None:
        return None
    expires = int(match.group(1))
    if expires <= now:
        return None
    if not hmac.compare_digest(_signature(key, filename, expires), match.group(2)):
        return None
    return expires
