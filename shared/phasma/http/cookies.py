"""The `session` cookie (docs/api.md §5.1) and the `device` cookie (docs/api.md §A.5).

The one definition of both: their names, the device cookie's shape and the
attributes every private cookie carries, for the API and for the site, which
relays them on its own origin (`phasma.frontend.cookies`). A session token's
shape is `phasma.auth.tokens.is_well_formed`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from uuid import UUID

from werkzeug import Response

from phasma.auth.devices import DeviceCookie
from phasma.config import Limits

COOKIE_NAME = "session"
DEVICE_COOKIE_NAME = "device"

# The device cookie's signing key is derived from SESSION_HASH_SECRET under its own
# label, so a device signature can never stand in for any other HMAC of that secret.
_DEVICE_KEY_LABEL = b"phasma device cookie v1"
# `<user public id>.<issued, unix seconds>.<device id>.<signature>`: about 110 characters.
_DEVICE_COOKIE_MAX_CHARS = 200
# What `new_device_cookie` writes. Only the API can check the signature; the site
# relays nothing of another shape.
DEVICE_SHAPE = re.compile(r"[0-9a-f-]{36}\.[0-9]{1,12}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}")
# A cookie issued by a replica whose clock runs a little ahead is still accepted.
_CLOCK_SKEW_SECONDS = 300


def set_private_cookie(
    response: Response, name: str, value: str, max_age: int | None, *, secure: bool
) -> None:
    """A cookie no script may read and no other site may send (max_age 0 removes it)."""
    response.set_cookie(
        name, value, max_age=max_age, path="/", httponly=True, samesite="Strict", secure=secure
    )


def set_session_cookie(response: Response, token: str, *, secure: bool) -> None:
    set_private_cookie(response, COOKIE_NAME, token, Limits.SESSION_TTL_SECONDS, secure=secure)


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    set_private_cookie(response, COOKIE_NAME, "", 0, secure=secure)


def _device_signature(payload: str, secret: str) -> str:
    key = hmac.new(secret.encode(), _DEVICE_KEY_LABEL, hashlib.sha256).digest()
    digest = hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_device_cookie(user_id: UUID, secret: str) -> str:
    """A fresh signed device cookie value for the account `user_id` (its public id)."""
    payload = f"{user_id}.{int(time.time())}.{secrets.token_urlsafe(12)}"
    return f"{payload}.{_device_signature(payload, secret)}"


def read_device_cookie(value: str | None, secret: str) -> DeviceCookie | None:
    """The device cookie when its signature is ours and it has not expired, else None."""
    if not value or len(value) > _DEVICE_COOKIE_MAX_CHARS or not value.isascii():
        return None
    payload, _, signature = value.rpartition(".")
    expected = _device_signature(payload, secret)
    if not hmac.compare_digest(signature.encode("ascii"), expected.encode("ascii")):
        return None
    parts = payload.split(".")
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2]:
        return None
    try:
        user_id = UUID(parts[0])
    except ValueError:
        return None
    issued = int(parts[1])
    age = time.time() - issued
    if not -_CLOCK_SKEW_SECONDS <= age <= Limits.DEVICE_COOKIE_TTL_SECONDS:
        return None
    return DeviceCookie(user_id=user_id, issued=issued, device_id=parts[2])


def set_device_cookie(response: Response, value: str, *, secure: bool) -> None:
    set_private_cookie(
        response, DEVICE_COOKIE_NAME, value, Limits.DEVICE_COOKIE_TTL_SECONDS, secure=secure
    )
