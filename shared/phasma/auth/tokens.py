"""Session tokens: 21 CSPRNG bytes as 28 base64url characters; only their HMAC is stored."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{28}")


def new_token() -> str:
    """A fresh session token (21 random bytes, unpadded base64url)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(21)).decode("ascii")


def is_well_formed(token: str | None) -> bool:
    """True for exactly 28 characters of `[A-Za-z0-9_-]`; anything else is no session."""
    return token is not None and _TOKEN_SHAPE.fullmatch(token) is not None


def token_key(token: str, secret: str) -> str:
    """The sessions row key: hex HMAC-SHA256 of the token under `SESSION_HASH_SECRET`."""
    return hmac.new(secret.encode(), token.encode("ascii"), hashlib.sha256).hexdigest()
