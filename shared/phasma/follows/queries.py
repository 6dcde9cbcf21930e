"""SQL for the social graph: follow rows, the followee's counter and the two lists; blocks
and mutes, their pair lock, the write-side check and their lists."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal, TypedDict
from uuid import UUID

from phasma.accounts import USER_COLUMNS, UserRow
from phasma.config import Limits
from phasma.db.pool import Executor
from phasma.pagination import Cursor, after_cursor
from phasma.visibility import live, not_blocked_between, visible

Direction = Literal["followers", "following"]

# A first page reads "strictly after" a key no row can reach, so both pages share
# one statement whose row comparison the list indexes serve.
_BEFORE_EVERY_ROW = Cursor(datetime.max.replace(tzinfo=UTC), 2**63 - 1)

# followers: who follows the user (newest follow first, follower id tie-break);
# following: whom the user follows (followee id tie-break). Each reads its own index
# of docs/domain.md §1.2: (followee_id, created DESC, follower_id DESC) and the mirror.
# Accounts the viewer may not meet (a block either way) are left out of either list.
_LISTS: dict[Direction, str] = {
    "followers": f"""
        SELECT {USER_COLUMNS}, f.created AS followed_at
        FROM follows f JOIN users u ON u.id = f.follower_id AND {visible("u")}
        WHERE f.followee_id = :user_id
          {after_cursor("f.created", "f.follower_id")}
        ORDER BY f.created DESC, f.follower_id DESC
        LIMIT :limit
    """,
    "following": f"""
        SELECT {USER_COLUMNS}, f.created AS followed_at
        FROM follows f JOIN users u ON u.id = f.followee_id AND {visible("u")}
        WHERE f.follower_id = :user_id
          {after_cursor("f.created", "f.followee_id")}
        ORDER BY f.created DESC, f.followee_id DESC
        LIMIT :limit
    """,
}


class UserKey(TypedDict):
    id: int
    public_id: UUID


class FollowRow(UserRow):
    """A row of a follow list: the user (USER_COLUMNS) and when the follow was made."""

    followed_at: datetime


def user_key(executor: Executor, username: str) -> UserKey | None:
    """The internal and public id of the user called `username`, if any."""
    return executor.fetch_one_as(
        UserKey,
        f"SELECT id, public_id FROM users WHERE username = :username AND {live('users')}",
        username=username,
    )


class Followee(UserKey):
    private: bool


def lock_followee(executor: Executor, username: str) -> Followee | None:
    """`user_key` plus `private`, the row locked as the follow's counter update would.

    A block locks both accounts' rows (`lock_pair`) and a privacy switch locks this one
    (`users.queries.lock_user`), so a follow runs strictly before or after either: it
    never slips past a new block, and never leaves a request pending on an account that
    has just turned public. The lock is the one the counter update takes anyway.
    """
    return executor.fetch_one_as(
        Followee,
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
) -> list[FollowRow]:
    """Up to `limit` user rows of one list, strictly after `cursor`, with `followed_at`."""
    after = cursor or _BEFORE_EVERY_ROW
    return executor.fetch_all_as(
        FollowRow,
        _LISTS[direction],
        user_id=user_id,
        viewer_id=viewer_id,
        cursor_created=after.created,
        cursor_id=after.id,
        limit=limit,
    )


# -- blocks and mutes (docs/api.md §D) -------------------------------------------------

SafetyList = Literal["blocks", "mutes"]

# Each list reads its (owner, created DESC, other DESC) index of migration 0023.
_SAFETY_LISTS: dict[SafetyList, str] = {
    "blocks": f"""
        SELECT {USER_COLUMNS}, b.created AS listed_at
        FROM blocks b JOIN users u ON u.id = b.blocked_id AND {live("u")}
        WHERE b.blocker_id = :viewer_id
          AND (b.created, b.blocked_id)
              < (CAST(:after_created AS timestamptz), CAST(:after_id AS bigint))
        ORDER BY b.created DESC, b.blocked_id DESC
        LIMIT :limit
    """,
    "mutes": f"""
        SELECT {USER_COLUMNS}, m.created AS listed_at
        FROM mutes m JOIN users u ON u.id = m.muted_id AND {live("u")}
        WHERE m.muter_id = :viewer_id
          AND (m.created, m.muted_id)
              < (CAST(:after_created AS timestamptz), CAST(:after_id AS bigint))
        ORDER BY m.created DESC, m.muted_id DESC
        LIMIT :limit
    """,
}


def blocked_between(executor: Executor, first_id: int, second_id: int) -> bool:
    """Whether either account has blocked the other: what follow, like and comment refuse.

    The same condition every read hides blocked accounts with (`visibility.visible`).
    """
    condition = not_blocked_between("CAST(:first_id AS bigint)", "CAST(:second_id AS bigint)")
    return not executor.fetch_value(f"SELECT {condition}", first_id=first_id, second_id=second_id)


def lock_pair(executor: Executor, first_id: int, second_id: int) -> None:
    """Lock both accounts' rows in id order, as a follow locks its followee's.

    FOR NO KEY UPDATE: it waits for a follow between the two (and a follow waits for it),
    but not for the key-share locks that inserting likes, comments or follows takes.
    """
    executor.fetch_all(
        """
        SELECT id FROM users WHERE id IN (:first_id, :second_id)
        ORDER BY id FOR NO KEY UPDATE
        """,
        first_id=first_id,
        second_id=second_id,
    )


def insert_block(executor: Executor, blocker_id: int, blocked_id: int) -> bool:
    """Create the block; False when it already existed (a no-op)."""
    return bool(
        executor.execute(
            """
            INSERT INTO blocks (blocker_id, blocked_id) VALUES (:blocker_id, :blocked_id)
            ON CONFLICT DO NOTHING
            """,
            blocker_id=blocker_id,
            blocked_id=blocked_id,
        )
    )


def delete_block(executor: Executor, blocker_id: int, blocked_id: int) -> bool:
    """Remove the block; False when there was none."""
    return bool(
        executor.execute(
            "DELETE FROM blocks WHERE blocker_id = :blocker_id AND blocked_id = :blocked_id",
            blocker_id=blocker_id,
            blocked_id=blocked_id,
        )
    )


def insert_mute(executor: Executor, muter_id: int, muted_id: int) -> bool:
    """Create the mute; False when it already existed."""
    return bool(
        executor.execute(
            """
            INSERT INTO mutes (muter_id, muted_id) VALUES (:muter_id, :muted_id)
            ON CONFLICT DO NOTHING
            """,
            muter_id=muter_id,
            muted_id=muted_id,
        )
    )


def delete_mute(executor: Executor, muter_id: int, muted_id: int) -> bool:
    """Remove the mute; False when there was none."""
    return bool(
        executor.execute(
            "DELETE FROM mutes WHERE muter_id = :muter_id AND muted_id = :muted_id",
            muter_id=muter_id,
            muted_id=muted_id,
        )
    )


class ListedUserRow(UserRow):
    """A row of the block or mute list: the user, and when the viewer listed them."""

    listed_at: datetime


def user_page(
    executor: Executor, kind: SafetyList, viewer_id: int, cursor: Cursor | None, limit: int
) -> list[ListedUserRow]:
    """Up to `limit` user rows the viewer blocked or muted, newest first, with `listed_at`."""
    after = cursor or _BEFORE_EVERY_ROW
    return executor.fetch_all_as(
        ListedUserRow,
        _SAFETY_LISTS[kind],
        viewer_id=viewer_id,
        after_created=after.created,
        after_id=after.id,
        limit=limit,
    )


# -- follow requests (docs/api.md §E) ------------------------------------------------


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


def take_all_requests(executor: Executor, target_id: int) -> list[UserKey]:
    """Delete every pending request to `target_id`; the live requesters' keys, oldest first.

    Requests of accounts removed or suspended since are dropped with the rest: their
    owners are gone for every reader, so they follow no one.
    """
    return executor.fetch_all_as(
        UserKey,
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


class RequesterRow(UserRow):
    """A row of the follow-request list: the requester, and when they asked."""

    requested_at: datetime


def request_page(
    executor: Executor, user_id: int, cursor: Cursor | None, limit: int
) -> list[RequesterRow]:
    """Up to `limit` requester rows of `user_id`'s pending requests, with `requested_at`."""
    after = cursor or _BEFORE_EVERY_ROW
    return executor.fetch_all_as(
        RequesterRow,
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
