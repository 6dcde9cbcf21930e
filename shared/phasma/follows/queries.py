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
# of domain.md §1.2: (followee_id, created DESC, follower_id DESC) and the mirror.
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


def lock_followee(executor: Executor, username: str) -> dict[str, Any] | None:
    """`user_key` plus `private`, the row locked as the follow's counter update would.

    A privacy switch locks the same row (`users.queries.lock_user`), so a follow either
    sees the account private and leaves a request that the switch to public then
    accepts, or sees it public and follows: no request is left behind on a public
    account. The lock is the one the counter update takes anyway, so it adds no wait.
    """
    return executor.fetch_one(
        f"""
        SELECT id, public_id, private FROM users
        WHERE username = :username AND {live("users")}
        FOR NO KEY UPDATE
        """,
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


# -- follow requests (api-2.md §E) ------------------------------------------------


def insert_request(executor: Executor, requester_id: int, target_id: int) -> bool:
    """Create the pending request; False when it already existed (a no-op)."""
    return bool(
        executor.execute(
            """
            INSERT INTO follow_requests (requester_id, target_id)
            VALUES (:requester_id, :target_id)
            ON CONFLICT DO NOTHING
            """,
            requester_id=requester_id,
            target_id=target_id,
        )
    )


def delete_request(executor: Executor, requester_id: int, target_id: int) -> bool:
    """Remove the pending request; False when there was none."""
    return bool(
        executor.execute(
            """
            DELETE FROM follow_requests
            WHERE requester_id = :requester_id AND target_id = :target_id
            """,
            requester_id=requester_id,
            target_id=target_id,
        )
    )


def take_all_requests(executor: Executor, target_id: int) -> list[dict[str, Any]]:
    """Delete every pending request to `target_id`; the live requesters' keys, oldest first.

    Requests of accounts removed or suspended since are dropped with the rest: their
    owners are gone for every reader, so they follow no one.
    """
    return executor.fetch_all(
        f"""
        WITH taken AS (
            DELETE FROM follow_requests WHERE target_id = :target_id
            RETURNING requester_id, created
        )
        SELECT u.id, u.public_id FROM taken JOIN users u ON u.id = taken.requester_id
        WHERE {live("u")}
        ORDER BY taken.created, u.id
        """,
        target_id=target_id,
    )


def count_new_followers(executor: Executor, user_id: int, added: int) -> None:
    """`count_new_follower` for `added` follows at once, the celebrity latch included."""
    executor.execute(
        f"""
        UPDATE users
        SET follower_count = follower_count + :added,
            is_celebrity = is_celebrity
                OR follower_count + :added > {Limits.CELEBRITY_FOLLOWER_THRESHOLD}
        WHERE id = :user_id
        """,
        user_id=user_id,
        added=added,
    )


# The target's requests, newest first, from the (target_id, created DESC,
# requester_id DESC) index; a first page starts strictly after a key no row reaches.
_REQUESTS = f"""
    SELECT {USER_COLUMNS}, r.created AS requested_at
    FROM follow_requests r JOIN users u ON u.id = r.requester_id AND {live("u")}
    WHERE r.target_id = :user_id
      AND (r.created, r.requester_id)
          < (CAST(:after_created AS timestamptz), CAST(:after_id AS bigint))
    ORDER BY r.created DESC, r.requester_id DESC
    LIMIT :limit
"""


def request_page(
    executor: Executor, user_id: int, cursor: Cursor | None, limit: int
) -> list[dict[str, Any]]:
    """Up to `limit` requester rows of `user_id`'s pending requests, with `requested_at`."""
    after = cursor or _BEFORE_EVERY_ROW
    return executor.fetch_all(
        _REQUESTS,
        user_id=user_id,
        viewer_id=user_id,
        after_created=after.created,
        after_id=after.id,
        limit=limit,
    )


def is_following(executor: Executor, follower_id: int, followee_id: int) -> bool:
    return bool(
        executor.fetch_value(
            """
            SELECT 1 FROM follows
            WHERE follower_id = :follower_id AND followee_id = :followee_id
            """,
            follower_id=follower_id,
            followee_id=followee_id,
        )
    )
