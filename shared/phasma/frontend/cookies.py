"""The browser's cookies on the frontend origin: `session` and `device` (relayed), `theme`.

The backend sets `session` on its own answers (login, every refresh, a clear)
and `device` on a login (docs/api.md §A.5); the frontend re-emits what it
saw on its own origin (docs/frontend.md §2.2): always `HttpOnly`, `SameSite=Strict`,
`Path=/`, `Secure` unless `COOKIE_SECURE=false`, with the backend's `Max-Age`.
The browser's `device` cookie goes back to the backend only with the calls that
check a password (`POST /sessions`, `PUT /users/me`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from werkzeug import Response

SESSION_COOKIE = "session"
DEVICE_COOKIE = "device"
THEME_COOKIE = "theme"
# A one-time message for the next page (`messages.FLASHES` names them); short-lived in
# case that page never renders.
FLASH_COOKIE = "flash"
FLASH_MAX_AGE_SECONDS = 60
THEMES = ("light", "dark", "system")
THEME_MAX_AGE_SECONDS = 31_536_000
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{28}")
# `<user public id>.<issued>.<device id>.<signature>`; only the backend can check the
# signature, the frontend relays nothing of another shape.
DEVICE_SHAPE = re.compile(r"[0-9a-f-]{36}\.[0-9]{1,12}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}")
_MAX_AGE = re.compile(r"-?[0-9]+")


@dataclass(frozen=True)
class SessionCookie:
    """What one backend `Set-Cookie: session=...` said."""

    value: str
    max_age: int | None  # None when absent or not an integer

    @property
    def cleared(self) -> bool:
        """The backend ended the session (empty value or `Max-Age` of zero or less)."""
        return self.value == "" or (self.max_age is not None and self.max_age <= 0)

    @property
    def valid(self) -> bool:
        """A well-formed token with a positive integer `Max-Age`: safe to re-emit."""
        return (
            TOKEN_SHAPE.fullmatch(self.value) is not None
            and self.max_age is not None
            and self.max_age > 0
        )


def parse_set_cookie(header: str) -> tuple[str, str, dict[str, str]]:
    """`name`, `value` and lowercased attributes of one `Set-Cookie` header."""
    first, *attributes = header.split(";")
    name, _, value = first.partition("=")
    parsed: dict[str, str] = {}
    for attribute in attributes:
        key, _, attribute_value = attribute.partition("=")
        parsed[key.strip().lower()] = attribute_value.strip()
    return name.strip(), value.strip().strip('"'), parsed


@dataclass(frozen=True)
class DeviceCookie:
    """What one backend `Set-Cookie: device=...` said."""

    value: str
    max_age: int | None

    @property
    def valid(self) -> bool:
        """The device cookie's shape with a positive integer `Max-Age`: safe to re-emit."""
        return (
            DEVICE_SHAPE.fullmatch(self.value) is not None
            and self.max_age is not None
            and self.max_age > 0
        )


def _last_cookie(headers: Iterable[str], cookie_name: str) -> tuple[str, int | None] | None:
    """Value and `Max-Age` (None when absent or not an integer) of the last `cookie_name`."""
    found: tuple[str, int | None] | None = None
    for header in headers:
        name, value, attributes = parse_set_cookie(header)
        if name != cookie_name:
            continue
        raw_max_age = attributes.get("max-age", "")
        found = value, int(raw_max_age) if _MAX_AGE.fullmatch(raw_max_age) else None
    return found


def read_session_cookie(headers: Iterable[str]) -> SessionCookie | None:
    """The last `session` cookie among `Set-Cookie` headers, or None when there is none."""
    found = _last_cookie(headers, SESSION_COOKIE)
    return SessionCookie(*found) if found is not None else None


def read_device_cookie(headers: Iterable[str]) -> DeviceCookie | None:
    """The last `device` cookie among `Set-Cookie` headers, or None when there is none."""
    found = _last_cookie(headers, DEVICE_COOKIE)
    return DeviceCookie(*found) if found is not None else None


def well_formed_token(value: str | None) -> str | None:
    """The browser's session token when it has the token shape, else None."""
    return value if value is not None and TOKEN_SHAPE.fullmatch(value) else None


def well_formed_device(value: str | None) -> str | None:
    """The browser's device cookie when it has the device cookie's shape, else None."""
    return value if value is not None and DEVICE_SHAPE.fullmatch(value) else None


def _set_private(
    response: Response, name: str, value: str, max_age: int | None, *, secure: bool
) -> None:
    """A cookie no script may read and no other site may send (max_age 0 removes it)."""
    response.set_cookie(
        name, value, max_age=max_age, path="/", httponly=True, secure=secure, samesite="Strict"
    )


def set_session(response: Response, cookie: SessionCookie, *, secure: bool) -> None:
    """Re-emit a valid backend session cookie on the frontend origin."""
    _set_private(response, SESSION_COOKIE, cookie.value, cookie.max_age, secure=secure)


def delete_session(response: Response, *, secure: bool) -> None:
    """Remove the frontend's session cookie."""
    _set_private(response, SESSION_COOKIE, "", 0, secure=secure)


def set_device(response: Response, cookie: DeviceCookie, *, secure: bool) -> None:
    """Re-emit a valid backend device cookie on the frontend origin."""
    _set_private(response, DEVICE_COOKIE, cookie.value, cookie.max_age, secure=secure)


def theme_of(value: str | None) -> str:
    """The theme a cookie value names; anything unknown is `system`."""
    return value if value in THEMES else "system"


def set_theme(response: Response, theme: str, *, secure: bool) -> None:
    """The `theme` cookie of docs/frontend.md §3.3 (readable by scripts, so not HttpOnly)."""
    response.set_cookie(
        THEME_COOKIE,
        theme_of(theme),
        max_age=THEME_MAX_AGE_SECONDS,
        path="/",
        secure=secure,
        samesite="Lax",
    )


def set_flash(response: Response, key: str, *, secure: bool) -> None:
    """Ask the next page to show the message `key` (a name, never the text itself)."""
    _set_private(response, FLASH_COOKIE, key, FLASH_MAX_AGE_SECONDS, secure=secure)


def clear_flash(response: Response, *, secure: bool) -> None:
    """The message was shown: drop the cookie."""
    _set_private(response, FLASH_COOKIE, "", 0, secure=secure)
