"""SQL for the social graph: follow rows, the followee's counter and the two lists."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from phasma.config import Limits
from phasma.db.pool import Executor
from phasma.pagination import Cursor
from phasma.users.queries import USER_COLUMNS, live

Direction = Literal["followers", "following"]

# A first page reads "strictly after" a key no row can reach, so both pages share
# one statement whose row comparison the list indexes serve.
_BEFORE_EVERY_ROW = Cursor(datetime.max.replace(tzinfo=UTC), 2**63 - 1)

# followers: who follows the user (newest follow first, follower id tie-break);
# following: whom the user follows (followee id tie-break). Each reads its own index
# of docs/domain.md §1.2: (followee_id, created DESC, follower_id DESC) and the mirror.
_LISTS: dict[Direction, str] = {
    "followers": f"""
        SELECT {USER_COLUMNS}, f.created AS followed_at
        FROM follows f JOIN users u ON u.id = f.follower_id AND {live("u")}
        WHERE f.followee_id = :user_id
          AND (f.created, f.follower_id)
              < (CAST(:after_created AS timestamptz), CAST(:after_id AS bigint))
        ORDER BY f.created DESC, f.follower_id DESC
        LIMIT :limit
    """,
    "following": f"""
        SELECT {USER_COLUMNS}, f.created AS followed_at
        FROM follows f JOIN users u ON u.id = f.followee_id AND {live("u")}
        WHERE f.follower_id = :user_id
          AND (f.created, f.followee_id)
              < (CAST(:after_created AS timestamptz), CAST(:after_id AS bigint))
        ORDER BY f.created DESC, f.followee_id DESC
        LIMIT :limit
    """,
}


def user_key(executor: Executor, username: str) -> dict[str, Any] | None:
    """The internal and public id of the user called `username`, if any."""
    return executor.fetch_one(
        f"SELECT id, public_id FROM users WHERE username = :username AND {live('users')}",
        username=username,
    )


def insert_follow(executor: Executor, follower_id: int, followee_id: int) -> bool:
    """Create the follow; False when it already existed (a no-op)."""
    return bool(
        executor.execute(
            """
            INSERT INTO follows (follower_id, followee_id) VALUES (:follower_id, :followee_id)
            ON CONFLICT DO NOTHING
            """,
            follower_id=follower_id,
            followee_id=followee_id,
        )
    )


def delete_follow(executor: Executor, follower_id: int, followee_id: int) -> bool:
    """Remove the follow; False when there was none (a no-op)."""
    return bool(
        executor.execute(
            "DELETE FROM follows WHERE follower_id = :follower_id AND followee_id = :followee_id",
            follower_id=follower_id,
            followee_id=followee_id,
        )
    )


def count_new_follower(executor: Executor, user_id: int) -> None:
    """`follower_count + 1`, latching `is_celebrity` once the new count exceeds the threshold."""
    # SET expressions read the row as it was before the update, hence the `+ 1`.
    executor.execute(
        f"""
        UPDATE users
        SET follower_count = follower_count + 1,
            is_celebrity = is_celebrity
                OR follower_count + 1 > {Limits.CELEBRITY_FOLLOWER_THRESHOLD}
        WHERE id = :user_id
        """,
        user_id=user_id,
    )


def count_lost_follower(executor: Executor, user_id: int) -> None:
    """`follower_count - 1`, never below 0; the celebrity latch never resets."""
    executor.execute(
        "UPDATE users SET follower_count = GREATEST(follower_count - 1, 0) WHERE id = :user_id",
        user_id=user_id,
    )


def follow_page(
    executor: Executor,
    direction: Direction,
    user_id: int,
    viewer_id: int | None,
    cursor: Cursor | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Up to `limit` user rows of one list, strictly after `cursor`, with `followed_at`."""
    after = cursor or _BEFORE_EVERY_ROW
    return executor.fetch_all(
        _LISTS[direction],
        user_id=user_id,
        viewer_id=viewer_id,
        after_created=after.created,
        after_id=after.id,
        limit=limit,
    )
