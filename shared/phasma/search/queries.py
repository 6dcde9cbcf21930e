"""SQL for recent searches (docs/domain.md §2.8): the list with its current rows, and deletes."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from phasma.config import Limits
from phasma.db.pool import Executor

# Users and hashtags are resolved from their current rows at read time; the caller
# drops entries whose row is gone (a renamed or deleted user, a never-created tag).
_LIST = """
SELECT recent_searches.public_id, recent_searches.entity_type, recent_searches.reference,
       users.username, users.name, users.avatar,
       hashtags.name AS hashtag_name, hashtags.post_count
FROM recent_searches
LEFT JOIN users
       ON recent_searches.entity_type = 'users' AND users.username = recent_searches.reference
LEFT JOIN hashtags
       ON recent_searches.entity_type = 'hashtags' AND hashtags.name = recent_searches.reference
WHERE recent_searches.user_id = :user_id
ORDER BY recent_searches.created DESC, recent_searches.id DESC
LIMIT :limit
"""


def recent_searches(executor: Executor, user_id: int) -> list[dict[str, Any]]:
    """The user's newest entries with the rows they refer to (NULL columns when gone)."""
    return executor.fetch_all(_LIST, user_id=user_id, limit=Limits.RECENT_SEARCHES_MAX)


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
