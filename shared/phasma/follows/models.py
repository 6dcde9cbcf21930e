"""Response shapes of the follows function."""

from __future__ import annotations

from phasma.accounts import User
from phasma.models import CamelModel


class UserPage(CamelModel):
    """A cursor page of users (docs/api.md §8): `{"items": [...], "nextCursor": ...}`."""

    items: list[User]
    next_cursor: str | None
