"""The event catalogue (domain.md §5.3-§5.4): a public contract, documented in docs/events.md.

Each payload is a camelCase pydantic model; changes are additive only, and an
incompatible change gets a new type name.
"""

from __future__ import annotations

from typing import Final, Literal
from uuid import UUID

from phasma.models import CamelModel, Timestamp

Topic = Literal["entity-changes", "activity"]


class UserCreated(CamelModel):
    user_id: UUID
    username: str
    name: str
    bio: str | None
    avatar: str | None
    created: Timestamp


class UserUpdated(CamelModel):
    user_id: UUID
    username: str
    previous_username: str | None  # set only when the username changed
    name: str
    bio: str | None
    avatar: str | None


# type -> (topic, payload model)
CATALOGUE: Final[dict[str, tuple[Topic, type[CamelModel]]]] = {
    "phasma.user.created": ("entity-changes", UserCreated),
    "phasma.user.updated": ("entity-changes", UserUpdated),
}
