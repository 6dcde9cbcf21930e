"""SQL for notifications: the list, the unread count, read state, the stream's poll,
and the worker's creates and deletes (domain.md §4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from phasma.db.pool import Executor
from phasma.notifications.models import Notification
from phasma.pagination import Page, PageRequest, build_page
from phasma.users.queries import live

# Every Notification read selects these from `notifications n JOIN users a` (the actor's
# current profile).
_COLUMNS = """
    n.id, n.public_id, n.type, n.entity_id, n.read, n.created,
    a.username AS actor_username, a.name AS actor_name, a.avatar AS actor_avatar
"""
_WITH_ACTORS = f"notifications n JOIN users a ON a.id = n.actor_id AND {live('a')}"

# The list reads the (user_id, created DESC, id DESC) index; the first page and the
# continuation are separate statements so each stays one prepared plan.
_LIST = """
    SELECT {columns} FROM {source}
    WHERE n.user_id = :user_id {after}
    ORDER BY n.created DESC, n.id DESC
    LIMIT :limit
"""
_AFTER_CURSOR = """
    AND (n.created, n.id) < (CAST(:cursor_created AS timestamptz), CAST(:cursor_id AS bigint))
"""
LIST_FIRST_PAGE = _LIST.format(columns=_COLUMNS, source=_WITH_ACTORS, after="")
LIST_NEXT_PAGE = _LIST.format(columns=_COLUMNS, source=_WITH_ACTORS, after=_AFTER_CURSOR)
# Served by the partial index (user_id) WHERE NOT read.
UNREAD_COUNT = "SELECT count(*) FROM notifications WHERE user_id = :user_id AND NOT read"
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
    return Notification(
        id=row["public_id"],
        actor_username=row["actor_username"],
        actor_name=row["actor_name"],
        actor_avatar=row["actor_avatar"],
        type=row["type"],
        entity_id=row["entity_id"],
        read=row["read"],
        created=row["created"],
    )


def notification_page(executor: Executor, user_id: int, page: PageRequest) -> Page[Notification]:
    """One page of the user's notifications, newest first."""
    params: dict[str, Any] = {"user_id": user_id, "limit": page.limit + 1}
    if page.cursor is None:
        rows = executor.fetch_all(LIST_FIRST_PAGE, **params)
    else:
        rows = executor.fetch_all(
            LIST_NEXT_PAGE,
            cursor_created=page.cursor.created,
            cursor_id=page.cursor.id,
            **params,
        )
    trimmed = build_page(rows, page.limit, lambda row: (row["created"], row["id"]))
    return Page([to_notification(row) for row in trimmed.items], trimmed.next_cursor)


def unread_count(executor: Executor, user_id: int) -> int:
    return executor.fetch_value(UNREAD_COUNT, user_id=user_id)


def mark_read(executor: Executor, user_id: int, public_id: UUID) -> bool:
    """Mark one of the user's notifications read; False when the user has none with that id.

    Ownership is part of the statement itself (security.md §7), so another user's id
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
    row = executor.fetch_one(STREAM_CLOCK, user_id=user_id)
    assert row is not None  # a SELECT without FROM always returns its row
    return row["now"], row["unread"]


def created_since(
    executor: Executor, user_id: int, since: datetime, sent: list[UUID], limit: int
) -> list[Notification]:
    """Up to `limit` of the user's notifications created at or after `since`, not in `sent`."""
    rows = executor.fetch_all(
        STREAM_NEW, user_id=user_id, since=since, sent=[str(item) for item in sent], limit=limit
    )
    return [to_notification(row) for row in rows]


def created_time_of(executor: Executor, user_id: int, public_id: UUID) -> datetime | None:
    """When the user's notification `public_id` was created (None when it is not theirs)."""
    return executor.fetch_value(CREATED_OF, public_id=public_id, user_id=user_id)


# -- the worker's writes (domain.md §4) -------------------------------------------------
#
# A create inserts only while the fact still holds (the like, comment or follow row
# exists, actor and recipient match the payload, and they differ), reading the fact
# under FOR KEY SHARE: an unlike, uncomment, unfollow or post deletion racing with it
# waits for this transaction, so its own unconditional delete always runs after the
# insert and nothing is left behind. `external_id` is the CloudEvent id, and
# ON CONFLICT DO NOTHING covers both unique constraints: a redelivered event, or a
# second event for the same (recipient, actor, type, entity), inserts nothing.

_INSERT_FACT = """
    INSERT INTO notifications (external_id, user_id, actor_id, type, entity_id)
    SELECT :event_id, recipient_id, actor_id, '{type}', CAST(entity_id AS text) FROM fact
    ON CONFLICT DO NOTHING
"""
CREATE_LIKE = """
    WITH fact AS (
        SELECT p.user_id AS recipient_id, l.user_id AS actor_id, p.public_id AS entity_id
        FROM likes l
        JOIN posts p ON p.id = l.post_id
        JOIN users actor ON actor.id = l.user_id
        JOIN users recipient ON recipient.id = p.user_id
        WHERE p.public_id = :post_id
          AND actor.public_id = :actor_id AND recipient.public_id = :recipient_id
          AND l.user_id <> p.user_id
        FOR KEY SHARE OF l
    )
    """ + _INSERT_FACT.format(type="like")
CREATE_COMMENT = """
    WITH fact AS (
        SELECT p.user_id AS recipient_id, c.user_id AS actor_id, c.public_id AS entity_id
        FROM comments c
        JOIN posts p ON p.id = c.post_id
        JOIN users actor ON actor.id = c.user_id
        JOIN users recipient ON recipient.id = p.user_id
        WHERE c.public_id = :comment_id AND p.public_id = :post_id
          AND actor.public_id = :actor_id AND recipient.public_id = :recipient_id
          AND c.user_id <> p.user_id
        FOR KEY SHARE OF c
    )
    """ + _INSERT_FACT.format(type="comment")
CREATE_FOLLOW = """
    WITH fact AS (
        SELECT f.followee_id AS recipient_id, f.follower_id AS actor_id,
               actor.public_id AS entity_id
        FROM follows f
        JOIN users actor ON actor.id = f.follower_id
        JOIN users recipient ON recipient.id = f.followee_id
        WHERE actor.public_id = :actor_id AND recipient.public_id = :recipient_id
        FOR KEY SHARE OF f
    )
    """ + _INSERT_FACT.format(type="follow")
# Deletes are unconditional: whatever the order events arrive in, a removed fact
# leaves no notification behind, and deleting twice is harmless.
DELETE_BETWEEN = """
    DELETE FROM notifications n USING users actor, users recipient
    WHERE n.type = :type AND n.entity_id = :entity_id
      AND actor.id = n.actor_id AND actor.public_id = :actor_id
      AND recipient.id = n.user_id AND recipient.public_id = :recipient_id
"""
DELETE_COMMENT = "DELETE FROM notifications WHERE type = 'comment' AND entity_id = :comment_id"
DELETE_FOR_POST = """
    DELETE FROM notifications
    WHERE (type = 'like' AND entity_id = :post_id)
       OR (type = 'comment' AND entity_id = ANY(CAST(:comment_ids AS varchar[])))
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


def delete_comment(executor: Executor, comment_id: UUID) -> int:
    return executor.execute(DELETE_COMMENT, comment_id=str(comment_id))


def delete_for_post(executor: Executor, post_id: UUID, comment_ids: list[UUID]) -> int:
    """Every `like` notification of the post and the `comment` one of each removed comment."""
    return executor.execute(
        DELETE_FOR_POST,
        post_id=str(post_id),
        comment_ids=[str(comment_id) for comment_id in comment_ids],
    )
