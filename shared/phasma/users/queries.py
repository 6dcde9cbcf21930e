"""SQL for users: the User shape, lookups and profile writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from phasma.config import Limits
from phasma.db.pool import Executor
from phasma.users.models import OwnUser, User

# The select list of the User shape (api.md §9.1) over `users u`, for every slice that
# returns users: select it with a `:viewer_id` parameter and pass each row to `to_user`.
# Likes given and accounts followed are live counts (domain.md §2.7); the viewer
# decides `isFollowing` and whether `email` is shown. `is_following` is a scalar
# subquery, not EXISTS, for the reason given at `posts.queries.POST_COLUMNS`: one
# primary-key probe per listed user under any plan.


def live(alias: str) -> str:
    """The rule for accounts that no reader sees, as a condition on `alias` (a `users` row).

    An account whose removal was requested (`DELETE /users/me`) is gone for every reader
    at once, though its rows are removed later, batch by batch (`phasma.removal`); a
    suspended account (api-2.md §D) is hidden until a moderator reinstates it.
    Reads with no viewer (workers, the indexer, sessions) filter with this; reads on
    behalf of a viewer use `visible` or `shows_posts`, which include it.
    """
    return f"{alias}.deleted_at IS NULL AND {alias}.suspended_at IS NULL"


# The viewer of a read, as every viewer-aware query names it (NULL: anonymous).
VIEWER = "CAST(:viewer_id AS bigint)"


# Every check of the rule ends its subquery with `OFFSET 0`, which keeps it a correlated
# probe of one key per row checked. Without it the planner may pull a NOT EXISTS up
# into an anti-join that reads every block naming the viewer once per statement and
# compares it with each row (a viewer blocked by 100,000 accounts pays that on every
# read), or turn the follow check into a hashed subplan that scans `follows` (measured
# in `benchmarks/feed_blocks.py`, whose printed plans show each check as one probe).
_PROBE = "OFFSET 0"


def visible(alias: str) -> str:
    """The one rule for whether the viewer may meet the account `alias` at all.

    Live, and no block between the two in either direction (api-2.md §D): a block hides
    each account from the other everywhere. Two primary-key probes, so it costs the
    same for a viewer with a thousand blocks as for one with none. An anonymous viewer
    compares with NULL, which matches no block.
    """
    return f"""({live(alias)}
        AND NOT EXISTS (
            SELECT 1 FROM blocks
            WHERE blocks.blocker_id = {VIEWER} AND blocks.blocked_id = {alias}.id
            {_PROBE})
        AND NOT EXISTS (
            SELECT 1 FROM blocks
            WHERE blocks.blocker_id = {alias}.id AND blocks.blocked_id = {VIEWER}
            {_PROBE}))"""


def shows_posts(alias: str) -> str:
    """The one rule for whether the viewer may see the posts (and lists) of `alias`.

    `visible`, and the account is public, is the viewer's own, or the viewer follows it
    (api-2.md §E): a pending follow request does not count.
    """
    return f"""({visible(alias)}
        AND (NOT {alias}.private
            OR {alias}.id = {VIEWER}
            OR EXISTS (
                SELECT 1 FROM follows
                WHERE follows.follower_id = {VIEWER} AND follows.followee_id = {alias}.id
                {_PROBE})))"""


def not_muted(author_column: str) -> str:
    """Mute (api-2.md §D): the muter's feed and notifications leave out the muted account.

    Nothing else reads mutes, so the muted account cannot tell.
    """
    return f"""NOT EXISTS (
        SELECT 1 FROM mutes
        WHERE mutes.muter_id = {VIEWER} AND mutes.muted_id = {author_column}
        {_PROBE})"""


@dataclass(frozen=True)
class Audience:
    """What the viewer may see of an account they can meet: its id, and whether its posts
    and follow lists are open to them (`shows_posts`)."""

    user_id: int
    shows_posts: bool


def audience(executor: Executor, username: str, viewer_id: int | None) -> Audience | None:
    """The viewer's audience of `username`; None when the account is gone for them (absent,
    removed, suspended, or a block either way). The routes of an account's posts and lists
    answer 404 for None and 403 when `shows_posts` is false (api-2.md §D, §E)."""
    row = executor.fetch_one(
        f"""
        SELECT u.id, {shows_posts("u")} AS shows_posts
        FROM users u WHERE u.username = :username AND {visible("u")}
        """,
        username=username,
        viewer_id=viewer_id,
    )
    return Audience(row["id"], bool(row["shows_posts"])) if row else None


# The same rule as lists of public ids, for an engine that filters by value rather than
# probing these tables (Meilisearch): the accounts a block hides from the viewer (either
# direction), and the private accounts whose posts the viewer may see (their own, and
# those they follow). `shows_posts` is then "not hidden, and public or in the second list".
_AUDIENCE_LISTS = """
    SELECT users.public_id, true AS hidden
    FROM blocks JOIN users ON users.id = blocks.blocked_id
    WHERE blocks.blocker_id = :viewer_id
    UNION
    SELECT users.public_id, true AS hidden
    FROM blocks JOIN users ON users.id = blocks.blocker_id
    WHERE blocks.blocked_id = :viewer_id
    UNION ALL
    SELECT users.public_id, false AS hidden
    FROM follows JOIN users ON users.id = follows.followee_id
    WHERE follows.follower_id = :viewer_id AND users.private
    UNION ALL
    SELECT users.public_id, false AS hidden FROM users WHERE users.id = :viewer_id
"""


def audience_lists(executor: Executor, viewer_id: int) -> tuple[list[UUID], list[UUID]]:
    """(hidden, private_shown): see `_AUDIENCE_LISTS`."""
    rows = executor.fetch_all(_AUDIENCE_LISTS, viewer_id=viewer_id)
    hidden = [row["public_id"] for row in rows if row["hidden"]]
    return hidden, [row["public_id"] for row in rows if not row["hidden"]]


USER_COLUMNS = """
    u.id, u.public_id, u.name, u.username, u.email, u.avatar, u.bio,
    u.post_count, u.follower_count, u.created,
    (SELECT count(*) FROM likes WHERE likes.user_id = u.id) AS likes_given,
    (SELECT count(*) FROM follows WHERE follows.follower_id = u.id) AS following_count,
    COALESCE((
        SELECT true FROM follows
        WHERE follows.follower_id = CAST(:viewer_id AS bigint) AND follows.followee_id = u.id
    ), false) AS is_following
"""


def to_user(row: dict[str, Any], viewer_id: int | None) -> User:
    """The API shape of a user row as `viewer_id` may see it."""
    return User(
        id=row["public_id"],
        name=row["name"],
        username=row["username"],
        email=row["email"] if row["id"] == viewer_id else "",
        avatar=row["avatar"],
        bio=row["bio"],
        posts=row["post_count"],
        likes=row["likes_given"],
        followers=row["follower_count"],
        following=row["following_count"],
        is_following=bool(row["is_following"]) and row["id"] != viewer_id,
        created=row["created"],
    )


def user_by_id(executor: Executor, user_id: int, viewer_id: int | None) -> User | None:
    row = executor.fetch_one(
        f"SELECT {USER_COLUMNS} FROM users u WHERE u.id = :user_id AND {live('u')}",
        user_id=user_id,
        viewer_id=viewer_id,
    )
    return to_user(row, viewer_id) if row else None


def own_user(executor: Executor, user_id: int) -> OwnUser | None:
    """The account as its owner sees it: the User shape plus `emailVerified`."""
    row = executor.fetch_one(
        f"""
        SELECT {USER_COLUMNS}, u.email_verified_at IS NOT NULL AS email_verified
        FROM users u WHERE u.id = :user_id
        """,
        user_id=user_id,
        viewer_id=user_id,
    )
    if row is None:
        return None
    user = to_user(row, user_id)
    return OwnUser(**user.model_dump(), email_verified=bool(row["email_verified"]))


def user_by_username(executor: Executor, username: str, viewer_id: int | None) -> User | None:
    """The profile as the viewer may see it: None (404) when gone, suspended or blocked
    either way; a private account's header and counts are shown to anyone (api-2.md §E)."""
    row = executor.fetch_one(
        f"SELECT {USER_COLUMNS} FROM users u WHERE u.username = :username AND {visible('u')}",
        username=username,
        viewer_id=viewer_id,
    )
    return to_user(row, viewer_id) if row else None


def suggested_users(executor: Executor, viewer_id: int) -> list[User]:
    """Up to 5 accounts worth following (domain.md §2.7), most followed first."""
    # The viewer and everyone they follow are excluded, so every entry shows `email`
    # as "" and `isFollowing` as false, as the contract requires. Usernames tie-break
    # in code-point order whatever the database's default collation.
    rows = executor.fetch_all(
        f"""
        SELECT {USER_COLUMNS} FROM users u
        WHERE u.id <> :viewer_id AND {visible("u")}
          AND (u.follower_count > 0 OR u.post_count > 0)
          AND NOT EXISTS (
              SELECT 1 FROM follows
              WHERE follows.follower_id = :viewer_id AND follows.followee_id = u.id
          )
        ORDER BY u.follower_count DESC, u.post_count DESC, u.username COLLATE "C" ASC
        LIMIT :limit
        """,
        viewer_id=viewer_id,
        limit=Limits.SUGGESTED_USERS_MAX,
    )
    return [to_user(row, viewer_id) for row in rows]


CREDENTIAL_COLUMNS = "id, public_id, username, email, password_hash"


def credentials_by_email(executor: Executor, email: str) -> dict[str, Any] | None:
    return executor.fetch_one(
        f"SELECT {CREDENTIAL_COLUMNS} FROM users WHERE email = :email AND {live('users')}",
        email=email,
    )


def credentials_by_id(executor: Executor, user_id: int) -> dict[str, Any] | None:
    return executor.fetch_one(
        f"SELECT {CREDENTIAL_COLUMNS} FROM users WHERE id = :user_id AND {live('users')}",
        user_id=user_id,
    )


def lock_user(executor: Executor, user_id: int) -> dict[str, Any] | None:
    return executor.fetch_one(
        """
        SELECT id, public_id, username, email, avatar, password_hash FROM users
        WHERE id = :user_id FOR UPDATE
        """,
        user_id=user_id,
    )


def avatar_is_own_post(executor: Executor, user_id: int, filename: str) -> bool:
    return bool(
        executor.fetch_value(
            "SELECT 1 FROM posts WHERE user_id = :user_id AND filename = :filename",
            user_id=user_id,
            filename=filename,
        )
    )


def write_audit(executor: Executor, user_id: int, action: str) -> None:
    executor.execute(
        "INSERT INTO audit_log (user_id, action) VALUES (:user_id, :action)",
        user_id=user_id,
        action=action,
    )


def blob_is_referenced(executor: Executor, filename: str) -> bool:
    """Whether a post's `filename` or any user's `avatar` is `filename` (both indexed)."""
    return bool(
        executor.fetch_value(
            """
            SELECT EXISTS (SELECT 1 FROM posts WHERE filename = :filename)
                OR EXISTS (SELECT 1 FROM users WHERE avatar = :filename)
            """,
            filename=filename,
        )
    )
