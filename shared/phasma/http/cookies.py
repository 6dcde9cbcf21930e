"""The `session` cookie (api.md §5.1)."""

from __future__ import annotations

from werkzeug import Response

from phasma.config import Limits

COOKIE_NAME = "session"


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
