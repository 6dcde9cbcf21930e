"""The Notification response shape (docs/api.md §9.5) and the unread count."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from phasma.models import CamelModel, Timestamp

NotificationType = Literal[
    "like",
    "comment",
    "follow",
    "mention",
    "export_ready",
    "follow_request",
    "content_removed",
    "report_reviewed",
]


class Notification(CamelModel):
    """docs/api.md §9.5: the actor fields are the actor's current profile.

    Beyond the baseline (docs/api.md): `postId` and `postFilename` name the post a
    like, comment or mention is about (null for a follow, or once the post is gone),
    `postMediaToken` signs the image of a private account's post (docs/api.md §E), and
    `excerpt` quotes the comment, or the caption of a mention in a post."""

    id: UUID
    actor_username: str
    actor_name: str
    actor_avatar: str | None
    type: NotificationType
    entity_id: str
    read: bool
    created: Timestamp
    post_id: UUID | None = None
    post_filename: str | None = None
    post_media_token: str | None = None  # `?token=` of a private account's image
    excerpt: str | None = None


class UnreadCount(CamelModel):
    """`GET /notifications/unread-count`: `{"count": n}`."""

    count: int


def notification_json(notification: Notification) -> dict[str, Any]:
    """A Notification as the JSON object of a list page or a stream event."""
    return notification.model_dump(mode="json", by_alias=True)
