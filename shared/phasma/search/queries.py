"""SQL for recent searches (docs/domain.md §2.8): the list with its current rows, and deletes."""

from __future__ import annotations

from typing import Literal, TypedDict
from uuid import UUID

from phasma.config import Limits
from phasma.db.pool import Executor
from phasma.visibility import visible

# Users and hashtags are resolved from their current rows at read time; the caller
# drops entries whose row is gone (a renamed or deleted user, a never-created tag) or
# that the viewer may no longer meet (a block either way: `visible`).
_LIST = f"""
SELECT recent_searches.public_id, recent_searches.entity_type, recent_searches.reference,
       users.username, users.name, users.avatar,
       hashtags.name AS hashtag_name, hashtags.post_count
FROM recent_searches
LEFT JOIN users
       ON recent_searches.entity_type = 'users' AND users.username = recent_searches.reference
      AND {visible("users")}
LEFT JOIN hashtags
       ON recent_searches.entity_type = 'hashtags' AND hashtags.name = recent_searches.reference
WHERE recent_searches.user_id = :user_id
ORDER BY recent_searches.created DESC, recent_searches.id DESC
LIMIT :limit
"""


class RecentRow(TypedDict):
    """A recent search and the row it refers to: the user's or the tag's columns are
    None when it refers to the other kind, or to one that is gone."""

    public_id: UUID
    entity_type: Literal["users", "hashtags", "posts"]
    reference: str
    username: str | None
    name: str | None
    avatar: str | None
    hashtag_name: str | None
    post_count: int | None


def recent_searches(executor: Executor, user_id: int) -> list[RecentRow]:
    """The user's newest entries with the rows they refer to (NULL columns when gone)."""
    return executor.fetch_all_as(
        RecentRow, _LIST, user_id=user_id, viewer_id=user_id, limit=Limits.RECENT_SEARCHES_MAX
    )


def record(executor: Executor, user_id: int, entity_type: str, reference: str) -> None:
    """Insert or bump the entry, then keep the newest 10 (call inside a transaction).

    The user row lock serialises concurrent recordings of one user, so two of them can
    never both see room for one more entry.
    """
    executor.execute("SELECT 1 FROM users WHERE id = :user_id FOR UPDATE", user_id=user_id)
    executor.execute(
        """
        INSERT INTO recent_searches (user_id, entity_type, reference)
        VALUES (:user_id, :entity_type, :reference)
        ON CONFLICT (user_id, entity_type, reference) DO UPDATE SET created = now()
        """,
        user_id=user_id,
        entity_type=entity_type,
        reference=reference,
    )
    executor.execute(
        """
        DELETE FROM recent_searches
        WHERE user_id = :user_id AND id NOT IN (
            SELECT id FROM recent_searches
            WHERE user_id = :user_id
            ORDER BY created DESC, id DESC
            LIMIT :keep
        )
        """,
        user_id=user_id,
        keep=Limits.RECENT_SEARCHES_MAX,
    )


def delete_one(executor: Executor, user_id: int, public_id: UUID) -> bool:
    """Delete one of the user's entries; False when it is not theirs or does not exist."""
    return bool(
        executor.execute(
            "DELETE FROM recent_searches WHERE public_id = :public_id AND user_id = :user_id",
            public_id=public_id,
            user_id=user_id,
        )
    )


def delete_all(executor: Executor, user_id: int) -> None:
    executor.execute("DELETE FROM recent_searches WHERE user_id = :user_id", user_id=user_id)
