"""The event catalogue (docs/domain.md §5.3-§5.4): a public contract, documented in docs/events.md.

Each payload is a camelCase pydantic model; changes are additive only, and an
incompatible change gets a new type name. Consumers ignore unknown fields.
"""

from __future__ import annotations

from typing import Final, Literal
from uuid import UUID

from pydantic import ConfigDict

from phasma.models import CamelModel, Timestamp

Topic = Literal["entity-changes", "activity"]
MailKind = Literal["verify", "reset", "email_changed_notice", "export_ready"]


class EventPayload(CamelModel):
    """Base of every payload: readers ignore fields added after they were written."""

    model_config = CamelModel.model_config | ConfigDict(extra="ignore")


class UserCreated(EventPayload):
    user_id: UUID
    username: str
    name: str
    bio: str | None
    avatar: str | None
    created: Timestamp


class UserUpdated(EventPayload):
    user_id: UUID
    username: str
    previous_username: str | None  # set only when the username changed
    name: str
    bio: str | None
    avatar: str | None


class UserDeleted(EventPayload):
    """`phasma.user.deleted`: the account asked to be removed (docs/api.md §C) and is gone for
    every reader. Its posts, comments, likes, follows and the rest are then removed by the
    `account-remover`, which records `phasma.post.deleted` and `phasma.hashtag.updated` for
    each post and tag it changes; no per-like, per-comment or per-follow events follow."""

    user_id: UUID
    username: str
    deleted: Timestamp


class UserModerated(EventPayload):
    """`phasma.user.suspended` and `phasma.user.reinstated` (docs/api.md §D): a moderator hid the
    account (and everything of it) from every reader, or showed it again. Nothing is
    deleted; readers re-read the account and its posts."""

    user_id: UUID
    username: str


class PostCreated(EventPayload):
    post_id: UUID
    author_id: UUID
    username: str
    description: str | None
    hashtags: list[str]
    filename: str  # the first image's
    filenames: list[str]  # every image's, in display order (docs/api.md §F albums)
    created: Timestamp
    author_is_celebrity: bool  # the latch as read in the creating transaction


class PostUpdated(EventPayload):
    post_id: UUID
    author_id: UUID
    description: str | None
    alt_text: str | None
    hashtags: list[str]  # after the edit, as `PostCreated` carries them
    edited: Timestamp


class PostDeleted(EventPayload):
    post_id: UUID
    author_id: UUID
    filename: str  # the first image's
    filenames: list[str]  # every image's, in display order
    comment_ids: list[UUID]  # captured before the cascade removed them


class HashtagUpdated(EventPayload):
    name: str
    post_count: int  # after the change; 0 = no live posts


class PostLikeChanged(EventPayload):
    """`phasma.post.liked` and `phasma.post.unliked`."""

    post_id: UUID
    actor_id: UUID  # the liker
    recipient_id: UUID  # the post's author


class CommentChanged(EventPayload):
    """`phasma.comment.created` and `phasma.comment.deleted`."""

    comment_id: UUID
    post_id: UUID
    actor_id: UUID  # who commented, or who deleted it
    recipient_id: UUID  # the post's author


class FollowChanged(EventPayload):
    """`phasma.user.followed` and `phasma.user.unfollowed`; for a private account
    (docs/api.md §E) also `phasma.user.follow_requested` and
    `phasma.user.follow_request_closed` (actor: the requester)."""

    actor_id: UUID  # the follower
    recipient_id: UUID  # the followee


class MailRequested(EventPayload):
    """`phasma.mail.requested`: what to mail, never a secret (docs/api.md §B).

    The mailer mints the link's token itself, so no token crosses the broker.
    """

    kind: MailKind
    user_id: UUID
    address: str  # the recipient: the address to verify, the account's, or the old one


class ExportRequested(EventPayload):
    """`phasma.export.requested`: build the ZIP of export `export_id` (docs/api.md §C)."""

    export_id: UUID
    user_id: UUID


class ReportsDecided(EventPayload):
    """`phasma.reports.decided` (docs/api.md §D): a moderator's decision closed every open report
    on one subject. Each reporter learns that their report was reviewed (never how); the
    author learns when the decision removed their post or comment."""

    action: Literal["dismiss", "remove", "suspend"]
    subject_type: Literal["post", "comment", "user"]
    subject_id: UUID
    author_id: UUID
    content_removed: bool  # this decision deleted the post or comment
    report_ids: list[UUID]


# type -> (topic, payload model)
CATALOGUE: Final[dict[str, tuple[Topic, type[EventPayload]]]] = {
    "phasma.user.created": ("entity-changes", UserCreated),
    "phasma.user.updated": ("entity-changes", UserUpdated),
    "phasma.user.deleted": ("entity-changes", UserDeleted),
    "phasma.user.suspended": ("entity-changes", UserModerated),
    "phasma.user.reinstated": ("entity-changes", UserModerated),
    "phasma.post.created": ("entity-changes", PostCreated),
    "phasma.post.updated": ("entity-changes", PostUpdated),
    "phasma.post.deleted": ("entity-changes", PostDeleted),
    "phasma.hashtag.updated": ("entity-changes", HashtagUpdated),
    "phasma.post.liked": ("activity", PostLikeChanged),
    "phasma.post.unliked": ("activity", PostLikeChanged),
    "phasma.comment.created": ("activity", CommentChanged),
    "phasma.comment.deleted": ("activity", CommentChanged),
    "phasma.user.followed": ("activity", FollowChanged),
    "phasma.user.unfollowed": ("activity", FollowChanged),
    "phasma.user.follow_requested": ("activity", FollowChanged),
    "phasma.user.follow_request_closed": ("activity", FollowChanged),
    "phasma.mail.requested": ("activity", MailRequested),
    "phasma.export.requested": ("activity", ExportRequested),
    "phasma.reports.decided": ("activity", ReportsDecided),
}
