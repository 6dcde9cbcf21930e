"""SQL for users: the User shape, lookups and profile writes."""

from __future__ import annotations

from typing import Any

from phasma.config import Limits
from phasma.db.pool import Executor
from phasma.users.models import OwnUser, User

# The select list of the User shape (docs/api.md §9.1) over `users u`, for every slice that
# returns users: select it with a `:viewer_id` parameter and pass each row to `to_user`.
# Likes given and accounts followed are live counts (docs/domain.md §2.7); the viewer
# decides `isFollowing` and whether `email` is shown. `is_following` is a scalar
# subquery, not EXISTS, for the reason given at `posts.queries.POST_COLUMNS`: one
# primary-key probe per listed user under any plan.


def live(alias: str) -> str:
    """The one visibility rule for accounts, as a condition on `alias` (a `users` row).

    An account whose removal was requested (`DELETE /users/me`) is gone for every reader
    at once, though its rows are removed later, batch by batch (`phasma.removal`).
    Every read that shows a user or something of theirs joins or filters with this.
    """
    return f"{alias}.deleted_at IS NULL"


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
    row = executor.fetch_one(
        f"SELECT {USER_COLUMNS} FROM users u WHERE u.username = :username AND {live('u')}",
        username=username,
        viewer_id=viewer_id,
    )
    return to_user(row, viewer_id) if row else None


def suggested_users(executor: Executor, viewer_id: int) -> list[User]:
    """Up to 5 accounts worth following (docs/domain.md §2.7), most followed first."""
    # The viewer and everyone they follow are excluded, so every entry shows `email`
    # as "" and `isFollowing` as false, as the contract requires. Usernames tie-break
    # in code-point order whatever the database's default collation.
    rows = executor.fetch_all(
        f"""
        SELECT {USER_COLUMNS} FROM users u
        WHERE u.id <> :viewer_id AND {live("u")}
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
