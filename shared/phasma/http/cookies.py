"""The `session` cookie (docs/api.md §5.1) and the `device` cookie (docs/api.md §A.5)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from uuid import UUID

from werkzeug import Response

from phasma.config import Limits

COOKIE_NAME = "session"
DEVICE_COOKIE_NAME = "device"

# The device cookie's signing key is derived from SESSION_HASH_SECRET under its own
# label, so a device signature can never stand in for any other HMAC of that secret.
_DEVICE_KEY_LABEL = b"phasma device cookie v1"
# `<user public id>.<issued, unix seconds>.<device id>.<signature>`: about 110 characters.
_DEVICE_COOKIE_MAX_CHARS = 200
# A cookie issued by a replica whose clock runs a little ahead is still accepted.
_CLOCK_SKEW_SECONDS = 300


def set_session_cookie(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=Limits.SESSION_TTL_SECONDS,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=secure,
    )


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    response.set_cookie(
        COOKIE_NAME, "", max_age=0, path="/", httponly=True, samesite="Strict", secure=secure
    )


@dataclass(frozen=True)
class DeviceCookie:
    """A verified device cookie: the account it names and this device's own id.

    It holds no secret: the account's public id, when it was issued and a random
    device id (which names the device's login-throttle counter), signed.
    """

    user_id: UUID
    issued: int
    device_id: str


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
    response.set_cookie(
        DEVICE_COOKIE_NAME,
        value,
        max_age=Limits.DEVICE_COOKIE_TTL_SECONDS,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=secure,
    )
