"""The browser's cookies on the frontend origin: `session` and `device` (relayed), `theme`.

The backend sets `session` on its own answers (login, every refresh, a clear)
and `device` on a login (docs/api.md §A.5); the frontend re-emits what it
saw on its own origin (docs/frontend.md §2.2): always `HttpOnly`, `SameSite=Strict`,
`Path=/`, `Secure` unless `COOKIE_SECURE=false`, with the backend's `Max-Age`.
The browser's `device` cookie goes back to the backend only with the calls that
check a password (`POST /sessions`, `PUT /users/me`). Their names, shapes and
attributes are the API's own (`phasma.http.cookies`, `phasma.auth.tokens`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from werkzeug import Response

from phasma.auth.tokens import is_well_formed
from phasma.http.cookies import COOKIE_NAME, DEVICE_COOKIE_NAME, DEVICE_SHAPE, set_private_cookie

THEME_COOKIE = "theme"
# A one-time message for the next page (`messages.FLASHES` names them); short-lived in
# case that page never renders.
FLASH_COOKIE = "flash"
FLASH_MAX_AGE_SECONDS = 60
THEMES = ("light", "dark", "system")
THEME_MAX_AGE_SECONDS = 31_536_000
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
        return is_well_formed(self.value) and self.max_age is not None and self.max_age > 0


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
    found = _last_cookie(headers, COOKIE_NAME)
    return SessionCookie(*found) if found is not None else None


def read_device_cookie(headers: Iterable[str]) -> DeviceCookie | None:
    """The last `device` cookie among `Set-Cookie` headers, or None when there is none."""
    found = _last_cookie(headers, DEVICE_COOKIE_NAME)
    return DeviceCookie(*found) if found is not None else None


def well_formed_token(value: str | None) -> str | None:
    """The browser's session token when it has the token shape, else None."""
    return value if is_well_formed(value) else None


def well_formed_device(value: str | None) -> str | None:
    """The browser's device cookie when it has the device cookie's shape, else None."""
    return value if value is not None and DEVICE_SHAPE.fullmatch(value) else None


def set_session(response: Response, cookie: SessionCookie, *, secure: bool) -> None:
    """Re-emit a valid backend session cookie on the frontend origin."""
    set_private_cookie(response, COOKIE_NAME, cookie.value, cookie.max_age, secure=secure)


def delete_session(response: Response, *, secure: bool) -> None:
    """Remove the frontend's session cookie."""
    set_private_cookie(response, COOKIE_NAME, "", 0, secure=secure)


def set_device(response: Response, cookie: DeviceCookie, *, secure: bool) -> None:
    """Re-emit a valid backend device cookie on the frontend origin."""
    set_private_cookie(response, DEVICE_COOKIE_NAME, cookie.value, cookie.max_age, secure=secure)


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
    set_private_cookie(response, FLASH_COOKIE, key, FLASH_MAX_AGE_SECONDS, secure=secure)


def clear_flash(response: Response, *, secure: bool) -> None:
    """The message was shown: drop the cookie."""
    set_private_cookie(response, FLASH_COOKIE, "", 0, secure=secure)
