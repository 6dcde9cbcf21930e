"""SQL for users: the User shape, lookups and profile writes."""

from __future__ import annotations

from typing import Any

from phasma.config import Limits
from phasma.db.pool import Executor
from phasma.users.models import User

# Likes given and accounts followed are live counts (domain.md §2.7); the viewer
# decides `isFollowing` and whether `email` is shown.
_USER_COLUMNS = """
    u.id, u.public_id, u.name, u.username, u.email, u.avatar, u.bio,
    u.post_count, u.follower_count, u.created,
    (SELECT count(*) FROM likes WHERE likes.user_id = u.id) AS likes_given,
    (SELECT count(*) FROM follows WHERE follows.follower_id = u.id) AS following_count,
    EXISTS (
        SELECT 1 FROM follows
        WHERE follows.follower_id = CAST(:viewer_id AS bigint) AND follows.followee_id = u.id
    ) AS is_following
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
        f"SELECT {_USER_COLUMNS} FROM users u WHERE u.id = :user_id",
        user_id=user_id,
        viewer_id=viewer_id,
    )
    return to_user(row, viewer_id) if row else None


def user_by_username(executor: Executor, username: str, viewer_id: int | None) -> User | None:
    row = executor.fetch_one(
        f"SELECT {_USER_COLUMNS} FROM users u WHERE u.username = :username",
        username=username,
        viewer_id=viewer_id,
    )
    return to_user(row, viewer_id) if row else None


def credentials_by_email(executor: Executor, email: str) -> dict[str, Any] | None:
    return executor.fetch_one(
        "SELECT id, username, password_hash FROM users WHERE email = :email", email=email
    )


def password_hash(executor: Executor, user_id: int) -> str | None:
    return executor.fetch_value(
        "SELECT password_hash FROM users WHERE id = :user_id", user_id=user_id
    )


def lock_user(executor: Executor, user_id: int) -> dict[str, Any] | None:
    return executor.fetch_one(
        "SELECT id, public_id, username, avatar FROM users WHERE id = :user_id FOR UPDATE",
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


def consume_pending_upload(executor: Executor, user_id: int, filename: str) -> bool:
    """Delete the user's unexpired pending upload `filename`; False when there is none."""
    return bool(
        executor.execute(
            f"""
            DELETE FROM uploads
            WHERE filename = :filename AND user_id = :user_id
              AND created > now() - interval '{Limits.UPLOAD_EXPIRY_SECONDS} seconds'
            """,
            filename=filename,
            user_id=user_id,
        )
    )


def write_audit(executor: Executor, user_id: int, action: str) -> None:
    executor.execute(
        "INSERT INTO audit_log (user_id, action) VALUES (:user_id, :action)",
        user_id=user_id,
        action=action,
    )
