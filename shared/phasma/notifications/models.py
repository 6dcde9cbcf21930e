"""The Notification response shape (api.md §9.5) and the unread count."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from phasma.models import CamelModel, Timestamp

NotificationType = Literal["like", "comment", "follow", "export_ready"]


class Notification(CamelModel):
    """api.md §9.5: the actor fields are the actor's current profile."""

    id: UUID
    actor_username: str
    actor_name: str
    actor_avatar: str | None
    type: NotificationType
    entity_id: str
    read: bool
    created: Timestamp


class UnreadCount(CamelModel):
    """`GET /notifications/unread-count`: `{"count": n}`."""

    count: int


def notification_json(notification: Notification) -> dict[str, Any]:
    """A Notification as the JSON object of a list page or a stream event."""
    return notification.model_dump(mode="json", by_alias=True)
