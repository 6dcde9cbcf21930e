"""Request and response shapes of the `sessions` function."""

from __future__ import annotations

from uuid import UUID

from phasma.http.bodies import RequestBody, Text
from phasma.models import CamelModel, Timestamp


class LoginBody(RequestBody):
    email: Text = ""
    password: Text = ""


class Session(CamelModel):
    """docs/api.md §9.4."""

    id: UUID
    created: Timestamp
    expires_at: Timestamp
    current: bool
    device: str  # "Firefox on Android" (phasma.sessions.devices), fixed at login
    last_used: Timestamp  # updated at most every SESSION_LAST_USED_EVERY_SECONDS


class SessionList(CamelModel):
    sessions: list[Session]
