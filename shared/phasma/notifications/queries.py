"""SQL for notifications: the list, the unread count, read state, the stream's poll,
and the worker's creates and deletes (docs/domain.md §4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from phasma.config import Limits
from phasma.db.pool import Executor
from phasma.media_urls import token_for
from phasma.notifications.models import Notification
from phasma.pagination import Page, PageRequest, after_cursor, build_page, cursor_params
from phasma.visibility import not_muted, visible

# A private account's post image (docs/api.md §E) is signed for the recipient when they
# may see the post (their own, or they follow its author), and left out otherwise: a
# private author mentioning a non-follower shows them no photo.
_POST_IMAGE_PRIVATE = "(SELECT pu.private FROM users pu WHERE pu.id = p.user_id)"
_POST_IMAGE_SHOWN = """(p.user_id = n.user_id OR EXISTS (
    SELECT 1 FROM follows f WHERE f.follower_id = n.user_id AND f.followee_id = p.user_id))"""

# Every Notification read selects these from `notifications n JOIN users a` (the actor's
# current profile, when the recipient may meet the actor: `visible`, with `:viewer_id`
# the recipient) and the post and comment it is about, when it has them: the quote is
# the comment, or for a mention in a caption the caption, cut in SQL to one character
# more than the excerpt so `to_notification` knows when to add the ellipsis.
_COLUMNS = f"""
    n.id, n.public_id, n.type, n.entity_id, n.read, n.created,
    a.username AS actor_username, a.name AS actor_name, a.avatar AS actor_avatar,
    p.public_id AS post_public_id, p.filename AS post_filename,
    {_POST_IMAGE_PRIVATE} AS post_image_private, {_POST_IMAGE_SHOWN} AS post_image_shown,
    left(CASE WHEN n.comment_id IS NOT NULL THEN c.body
              WHEN n.type = 'mention' THEN p.description END,
         {Limits.NOTIFICATION_EXCERPT_CHARS + 1}) AS excerpt
"""
_WITH_ACTORS = f"""
    notifications n JOIN users a ON a.id = n.actor_id AND {visible("a")}
    LEFT JOIN posts p ON p.id = n.post_id
    LEFT JOIN comments c ON c.id = n.comment_id
"""

# The list reads the (user_id, created DESC, id DESC) index; the first page and the
# continuation are separate statements so each stays one prepared plan.
_LIST = """
    SELECT {columns} FROM {source}
    WHERE n.user_id = :user_id {after}
    ORDER BY n.created DESC, n.id DESC
    LIMIT :limit
"""
LIST_FIRST_PAGE = _LIST.format(columns=_COLUMNS, source=_WITH_ACTORS, after="")
LIST_NEXT_PAGE = _LIST.format(
    columns=_COLUMNS, source=_WITH_ACTORS, after=after_cursor("n.created", "n.id")
)
# Served by the partial index (user_id) WHERE NOT read; counts what the list shows, so
# a notification from an account hidden by a block is never counted either.
UNREAD_COUNT = f"""
    SELECT count(*) FROM notifications n JOIN users a ON a.id = n.actor_id AND {visible("a")}
    WHERE n.user_id = :user_id AND NOT n.read
"""
# The stream's poll: the database clock, the unread count, and the recipient's
# notifications created at or after `:since` that the stream has not sent yet, oldest first.
STREAM_CLOCK = f"SELECT now() AS now, ({UNREAD_COUNT}) AS unread"
STREAM_NEW = f"""
    SELECT {_COLUMNS} FROM {_WITH_ACTORS}
    WHERE n.user_id = :user_id AND n.created >= :since
      AND NOT (n.public_id = ANY(CAST(:sent AS uuid[])))
    ORDER BY n.created, n.id
    LIMIT :limit
"""
CREATED_OF = """
    SELECT created FROM notifications WHERE public_id = :public_id AND user_id = :user_id
"""


def to_notification(row: dict[str, Any]) -> Notification:
    """The API shape of a row selected with the notification columns."""
    filename = row["post_filename"]
    private = bool(row["post_image_private"])
    if private and not row["post_image_shown"]:
        filename = None
    return Notification(
        id=row["public_id"],
        actor_username=row["actor_username"],
        actor_name=row["actor_name"],
        actor_avatar=row["actor_avatar"],
        type=row["type"],
        entity_id=row["entity_id"],
        read=row["read"],
        created=row["created"],
        post_id=row["post_public_id"],
        post_filename=filename,
        post_media_token=token_for(filename) if filename and private else None,
        excerpt=excerpt(row["excerpt"]),
    )


def excerpt(text: str | None) -> str | None:
    """At most `NOTIFICATION_EXCERPT_CHARS` characters of a quote, "…" marking a cut."""
    if not text:
        return None
    limit = Limits.NOTIFICATION_EXCERPT_CHARS
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def notification_page(executor: Executor, user_id: int, page: PageRequest) -> Page[Notification]:
    """One page of the user's notifications, newest first."""
    sql = LIST_FIRST_PAGE if page.cursor is None else LIST_NEXT_PAGE
    # The recipient is the viewer of the visibility rule.
    rows = executor.fetch_all(sql, user_id=user_id, viewer_id=user_id, **cursor_params(page))
    trimmed = build_page(rows, page.limit, lambda row: (row["created"], row["id"]))
    return Page([to_notification(row) for row in trimmed.items], trimmed.next_cursor)


def unread_count(executor: Executor, user_id: int) -> int:
    unread: int = executor.fetch_value(UNREAD_COUNT, user_id=user_id, viewer_id=user_id)
    return unread


def mark_read(executor: Executor, user_id: int, public_id: UUID) -> bool:
    """Mark one of the user's notifications read; False when the user has none with that id.

    Ownership is part of the statement itself (docs/api.md §5.5), so another user's id
    changes nothing and is indistinguishable from a missing one. An already read row
    still matches, so a repeat succeeds.
    """
    return bool(
        executor.execute(
            """
            UPDATE notifications SET read = true
            WHERE public_id = :public_id AND user_id = :user_id
            """,
            public_id=public_id,
            user_id=user_id,
        )
    )


def mark_all_read(executor: Executor, user_id: int) -> int:
    """Mark every unread notification of the user read; returns how many changed."""
    return executor.execute(
        "UPDATE notifications SET read = true WHERE user_id = :user_id AND NOT read",
        user_id=user_id,
    )


def stream_clock(executor: Executor, user_id: int) -> tuple[datetime, int]:
    """The database's current time and the user's unread count."""
    row = executor.fetch_one(STREAM_CLOCK, user_id=user_id, viewer_id=user_id)
    assert row is not None  # a SELECT without FROM always returns its row
    return row["now"], row["unread"]


def created_since(
    executor: Executor, user_id: int, since: datetime, sent: list[UUID], limit: int
) -> list[Notification]:
    """Up to `limit` of the user's notifications created at or after `since`, not in `sent`."""
    rows = executor.fetch_all(
        STREAM_NEW,
        user_id=user_id,
        viewer_id=user_id,
        since=since,
        sent=[str(item) for item in sent],
        limit=limit,
    )
    return [to_notification(row) for row in rows]


def created_time_of(executor: Executor, user_id: int, public_id: UUID) -> datetime | None:
    """When the user's notification `public_id` was created (None when it is not theirs)."""
    created: datetime | None = executor.fetch_value(
        CREATED_OF, public_id=public_id, user_id=user_id
    )
    return created


# -- the worker's writes (docs/domain.md §4) -------------------------------------------------
#
# A create inserts only while the fact still holds (the like, comment, follow or post
# row exists, actor and recipient match the payload, and `MAY_NOTIFY` allows it),
# reading the fact under FOR KEY SHARE: an unlike, uncomment, unfollow or post deletion
# racing with it waits for this transaction, so its own unconditional delete always
# runs after the insert and nothing is left behind. `external_id` is the CloudEvent id
# (with the recipient for a mention, since one event mentions several people), and
# ON CONFLICT DO NOTHING covers both unique constraints: a redelivered event, or a
# second event for the same (recipient, actor, type, entity), inserts nothing.

# Whether `actor_id` may notify `recipient_id` at all: the one rule every kind of
# notification passes through. Never oneself; never across a block in either direction,
# nor from an account the recipient muted (docs/api.md §D): the readers' own rule
# (`visibility.visible`, `not_muted`) with the recipient as the viewer, row by row.
MAY_NOTIFY = f"""fact.actor_id <> fact.recipient_id
    AND EXISTS (
        SELECT 1 FROM users may_actor
        WHERE may_actor.id = fact.actor_id AND {visible("may_actor", viewer="fact.recipient_id")})
    AND {not_muted("fact.actor_id", viewer="fact.recipient_id")}"""

_INSERT_FACT = f"""
    INSERT INTO notifications
        (external_id, user_id, actor_id, type, entity_id, post_id, comment_id)
    SELECT {{external_id}}, recipient_id, actor_id, '{{type}}', CAST(entity_id AS text),
           post_id, comment_id
    FROM fact
    WHERE {MAY_NOTIFY}
    ON CONFLICT DO NOTHING
"""
_BY_EVENT = ":event_id"
_BY_EVENT_AND_RECIPIENT = ":event_id || ':mention:' || recipient_id"
CREATE_LIKE = """
    WITH fact AS (
        SELECT p.user_id AS recipient_id, l.user_id AS actor_id, p.public_id AS entity_id,
               p.id AS post_id, CAST(NULL AS bigint) AS comment_id
        FROM likes l
        JOIN posts p ON p.id = l.post_id
        JOIN users actor ON actor.id = l.user_id
        JOIN users recipient ON recipient.id = p.user_id
        WHERE p.public_id = :post_id
          AND actor.public_id = :actor_id AND recipient.public_id = :recipient_id
        FOR KEY SHARE OF l
    )
    """ + _INSERT_FACT.format(external_id=_BY_EVENT, type="like")
CREATE_COMMENT = """
    WITH fact AS (
        SELECT p.user_id AS recipient_id, c.user_id AS actor_id, c.public_id AS entity_id,
               p.id AS post_id, c.id AS comment_id
        FROM comments c
        JOIN posts p ON p.id = c.post_id
        JOIN users actor ON actor.id = c.user_id
        JOIN users recipient ON recipient.id = p.user_id
        WHERE c.public_id = :comment_id AND p.public_id = :post_id
          AND actor.public_id = :actor_id AND recipient.public_id = :recipient_id
        FOR KEY SHARE OF c
    )
    """ + _INSERT_FACT.format(external_id=_BY_EVENT, type="comment")
CREATE_FOLLOW = """
    WITH fact AS (
        SELECT f.followee_id AS recipient_id, f.follower_id AS actor_id,
               actor.public_id AS entity_id,
               CAST(NULL AS bigint) AS post_id, CAST(NULL AS bigint) AS comment_id
        FROM follows f
        JOIN users actor ON actor.id = f.follower_id
        JOIN users recipient ON recipient.id = f.followee_id
        WHERE actor.public_id = :actor_id AND recipient.public_id = :recipient_id
        FOR KEY SHARE OF f
    )
    """ + _INSERT_FACT.format(external_id=_BY_EVENT, type="follow")
# A pending request to a private account (docs/api.md §E): the follow's twin, read from
# `follow_requests`; accepting, declining or withdrawing it deletes the notification.
CREATE_FOLLOW_REQUEST = """
    WITH fact AS (
        SELECT r.target_id AS recipient_id, r.requester_id AS actor_id,
               actor.public_id AS entity_id,
               CAST(NULL AS bigint) AS post_id, CAST(NULL AS bigint) AS comment_id
        FROM follow_requests r
        JOIN users actor ON actor.id = r.requester_id
        JOIN users recipient ON recipient.id = r.target_id
        WHERE actor.public_id = :actor_id AND recipient.public_id = :recipient_id
        FOR KEY SHARE OF r
    )
    """ + _INSERT_FACT.format(external_id=_BY_EVENT, type="follow_request")
# Mentions: the text is read under the same lock as the insert that follows it, so
# the usernames the worker found are those of the row as it stands; unknown names
# join no user and insert nothing.
POST_TEXT = """
    SELECT p.description FROM posts p JOIN users actor ON actor.id = p.user_id
    WHERE p.public_id = :post_id AND actor.public_id = :actor_id
    FOR KEY SHARE OF p
"""
COMMENT_TEXT = """
    SELECT c.body FROM comments c
    JOIN posts p ON p.id = c.post_id
    JOIN users actor ON actor.id = c.user_id
    WHERE c.public_id = :comment_id AND p.public_id = :post_id AND actor.public_id = :actor_id
    FOR KEY SHARE OF c
"""
CREATE_POST_MENTIONS = """
    WITH fact AS (
        SELECT recipient.id AS recipient_id, p.user_id AS actor_id, p.public_id AS entity_id,
               p.id AS post_id, CAST(NULL AS bigint) AS comment_id
        FROM posts p
        JOIN users actor ON actor.id = p.user_id
        JOIN users recipient ON recipient.username = ANY(CAST(:usernames AS varchar[]))
        WHERE p.public_id = :post_id AND actor.public_id = :actor_id
        FOR KEY SHARE OF p
    )
    """ + _INSERT_FACT.format(external_id=_BY_EVENT_AND_RECIPIENT, type="mention")
CREATE_COMMENT_MENTIONS = """
    WITH fact AS (
        SELECT recipient.id AS recipient_id, c.user_id AS actor_id, c.public_id AS entity_id,
               c.post_id, c.id AS comment_id
        FROM comments c
        JOIN posts p ON p.id = c.post_id
        JOIN users actor ON actor.id = c.user_id
        JOIN users recipient ON recipient.username = ANY(CAST(:usernames AS varchar[]))
        WHERE c.public_id = :comment_id AND p.public_id = :post_id
          AND actor.public_id = :actor_id
        FOR KEY SHARE OF c
    )
    """ + _INSERT_FACT.format(external_id=_BY_EVENT_AND_RECIPIENT, type="mention")
# Moderation (docs/api.md §D): the recipient is their own actor, as for `export_ready`, so no
# notification names the moderator, and MAY_NOTIFY (which refuses oneself) is not the
# rule here: the fact is the decision itself. A reporter is told that their report was
# reviewed (the entity is the report; never the outcome); the author of removed content
# that it was removed (the entity is the post's or comment's id). Keyed by the event id
# and the recipient, so a redelivery inserts nothing.
CREATE_REPORTS_REVIEWED = """
    INSERT INTO notifications (external_id, user_id, actor_id, type, entity_id)
    SELECT :event_id || ':reviewed:' || r.reporter_id, r.reporter_id, r.reporter_id,
           'report_reviewed', CAST(r.public_id AS text)
    FROM reports r
    WHERE r.public_id = ANY(CAST(:report_ids AS uuid[])) AND r.status = 'closed'
    ON CONFLICT DO NOTHING
"""
CREATE_CONTENT_REMOVED = """
    INSERT INTO notifications (external_id, user_id, actor_id, type, entity_id)
    SELECT :event_id || ':removed', u.id, u.id, 'content_removed', CAST(:subject_id AS text)
    FROM users u
    WHERE u.public_id = :author_id
      AND EXISTS (
          SELECT 1 FROM reports r
          WHERE r.public_id = ANY(CAST(:report_ids AS uuid[]))
            AND r.subject_id = CAST(:subject_id AS uuid) AND r.author_id = u.id
            AND r.decision = 'remove')
    ON CONFLICT DO NOTHING
"""
# Deletes are unconditional: whatever the order events arrive in, a removed fact
# leaves no notification behind, and deleting twice is harmless.
DELETE_BETWEEN = """
    DELETE FROM notifications n USING users actor, users recipient
    WHERE n.type = :type AND n.entity_id = :entity_id
      AND actor.id = n.actor_id AND actor.public_id = :actor_id
      AND recipient.id = n.user_id AND recipient.public_id = :recipient_id
"""
# A comment's own notification and the mentions in it.
DELETE_COMMENT = """
    DELETE FROM notifications WHERE type IN ('comment', 'mention') AND entity_id = :comment_id
"""
DELETE_FOR_POST = """
    DELETE FROM notifications
    WHERE (type IN ('like', 'mention') AND entity_id = :post_id)
       OR (type IN ('comment', 'mention') AND entity_id = ANY(CAST(:comment_ids AS varchar[])))
"""


def create(executor: Executor, statement: str, event_id: str, **fact: UUID) -> bool:
    """Run one of the CREATE_* statements for event `event_id`; True when a row was inserted."""
    return bool(executor.execute(statement, event_id=event_id, **fact))


def delete_between(
    executor: Executor, kind: str, entity_id: UUID, actor_id: UUID, recipient_id: UUID
) -> int:
    """Delete the `kind` notification of `entity_id` from the actor to the recipient."""
    return executor.execute(
        DELETE_BETWEEN,
        type=kind,
        entity_id=str(entity_id),
        actor_id=actor_id,
        recipient_id=recipient_id,
    )


def create_mentions(
    executor: Executor, statement: str, event_id: str, usernames: list[str], **fact: UUID
) -> bool:
    """Run one of the CREATE_*_MENTIONS statements; True when any row was inserted."""
    return bool(executor.execute(statement, event_id=event_id, usernames=usernames, **fact))


def delete_comment(executor: Executor, comment_id: UUID) -> int:
    """The comment's `comment` notification and its mentions' ones."""
    return executor.execute(DELETE_COMMENT, comment_id=str(comment_id))


def delete_for_post(executor: Executor, post_id: UUID, comment_ids: list[UUID]) -> int:
    """The post's `like` and `mention` notifications, and the `comment` and `mention` ones of
    each removed comment."""
    return executor.execute(
        DELETE_FOR_POST,
        post_id=str(post_id),
        comment_ids=[str(comment_id) for comment_id in comment_ids],
    )


def create_reports_reviewed(executor: Executor, event_id: str, report_ids: list[UUID]) -> int:
    """A `report_reviewed` for the reporter of each closed report; how many were new."""
    return executor.execute(
        CREATE_REPORTS_REVIEWED,
        event_id=event_id,
        report_ids=[str(report_id) for report_id in report_ids],
    )


def create_content_removed(
    executor: Executor, event_id: str, author_id: UUID, subject_id: UUID, report_ids: list[UUID]
) -> bool:
    """The `content_removed` notification of a moderator's `remove`, to the author, while
    the closed reports say so (a forged event cannot invent one)."""
    return bool(
        executor.execute(
            CREATE_CONTENT_REMOVED,
            event_id=event_id,
            author_id=author_id,
            subject_id=str(subject_id),
            report_ids=[str(report_id) for report_id in report_ids],
        )
    )
