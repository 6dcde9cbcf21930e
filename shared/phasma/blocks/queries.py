"""SQL for blocks and mutes: the rows, the pair lock, the write-side check and the lists."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from phasma.db.pool import Executor
from phasma.pagination import Cursor
from phasma.users.queries import USER_COLUMNS, UserRow, live, not_blocked_between

Kind = Literal["blocks", "mutes"]

# A first page reads "strictly after" a key no row can reach (as the follow lists do).
_BEFORE_EVERY_ROW = Cursor(datetime.max.replace(tzinfo=UTC), 2**63 - 1)

# Each list reads its (owner, created DESC, other DESC) index of migration 0023.
_LISTS: dict[Kind, str] = {
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

    The same condition every read hides blocked accounts with (`users.queries.visible`).
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
    executor: Executor, kind: Kind, viewer_id: int, cursor: Cursor | None, limit: int
) -> list[ListedUserRow]:
    """Up to `limit` user rows the viewer blocked or muted, newest first, with `listed_at`."""
    after = cursor or _BEFORE_EVERY_ROW
    return executor.fetch_all_as(
        ListedUserRow,
        _LISTS[kind],
        viewer_id=viewer_id,
        after_created=after.created,
        after_id=after.id,
        limit=limit,
    )
