"""SQL for users: the User shape, lookups and the statements `actions` runs."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TypedDict
from uuid import UUID

from phasma.accounts import USER_COLUMNS, Role, User, UserRow, to_user
from phasma.auth.mail_tokens import Purpose
from phasma.config import Limits
from phasma.db.pool import Executor
from phasma.users.models import OwnUser
from phasma.visibility import live, visible


class OwnUserRow(UserRow):
    email_verified: bool
    role: Role


def user_by_id(executor: Executor, user_id: int, viewer_id: int | None) -> User | None:
    row = executor.fetch_one_as(
        UserRow,
        f"SELECT {USER_COLUMNS} FROM users u WHERE u.id = :user_id AND {live('u')}",
        user_id=user_id,
        viewer_id=viewer_id,
    )
    return to_user(row, viewer_id) if row else None


def own_user(executor: Executor, user_id: int) -> OwnUser | None:
    """The account as its owner sees it: the User shape plus `emailVerified` and `role`."""
    row = executor.fetch_one_as(
        OwnUserRow,
        f"""
        SELECT {USER_COLUMNS}, u.email_verified_at IS NOT NULL AS email_verified, u.role
        FROM users u WHERE u.id = :user_id
        """,
        user_id=user_id,
        viewer_id=user_id,
    )
    if row is None:
        return None
    user = to_user(row, user_id)
    return OwnUser(
        **user.model_dump(), email_verified=bool(row["email_verified"]), role=row["role"]
    )


def user_by_username(executor: Executor, username: str, viewer_id: int | None) -> User | None:
    """The profile as the viewer may see it: None (404) when gone, suspended or blocked
    either way; a private account's header and counts are shown to anyone (docs/api.md §E)."""
    row = executor.fetch_one_as(
        UserRow,
        f"SELECT {USER_COLUMNS} FROM users u WHERE u.username = :username AND {visible('u')}",
        username=username,
        viewer_id=viewer_id,
    )
    return to_user(row, viewer_id) if row else None


def suggested_users(executor: Executor, viewer_id: int) -> list[User]:
    """Up to 5 accounts worth following (docs/domain.md §2.7), most followed first."""
    # The viewer and everyone they follow are excluded, so every entry shows `email`
    # as "" and `isFollowing` as false, as the contract requires. Usernames tie-break
    # in code-point order whatever the database's default collation.
    rows = executor.fetch_all_as(
        UserRow,
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


class CredentialsRow(TypedDict):
    """A row selected with CREDENTIAL_COLUMNS: what a login or re-authentication checks."""

    id: int
    public_id: UUID
    username: str
    email: str
    password_hash: str


class LoginRow(CredentialsRow):
    suspended: bool


class LockedUserRow(CredentialsRow):
    avatar: str | None
    private: bool


def credentials_by_email(executor: Executor, email: str) -> LoginRow | None:
    """A login's account, suspended ones included (`suspended`): a suspension is told only
    to whoever proves the password (`phasma.sessions.actions.log_in`)."""
    return executor.fetch_one_as(
        LoginRow,
        f"""
        SELECT {CREDENTIAL_COLUMNS}, suspended_at IS NOT NULL AS suspended
        FROM users WHERE email = :email AND deleted_at IS NULL
        """,
        email=email,
    )


def credentials_by_id(executor: Executor, user_id: int) -> CredentialsRow | None:
    return executor.fetch_one_as(
        CredentialsRow,
        f"SELECT {CREDENTIAL_COLUMNS} FROM users WHERE id = :user_id AND {live('users')}",
        user_id=user_id,
    )


def lock_user(executor: Executor, user_id: int) -> LockedUserRow | None:
    return executor.fetch_one_as(
        LockedUserRow,
        """
        SELECT id, public_id, username, email, avatar, password_hash, private FROM users
        WHERE id = :user_id FOR UPDATE
        """,
        user_id=user_id,
    )


class NewUser(TypedDict):
    public_id: UUID
    created: datetime


def insert_user(
    executor: Executor, name: str, username: str, email: str, password_hash: str
) -> NewUser:
    return executor.fetch_all_as(
        NewUser,
        """
            INSERT INTO users (name, username, email, password_hash)
            VALUES (:name, :username, :email, :password_hash)
            RETURNING public_id, created
            """,
        name=name,
        username=username,
        email=email,
        password_hash=password_hash,
    )[0]


def write_profile(
    executor: Executor,
    user_id: int,
    *,
    name: str,
    username: str,
    email: str,
    email_changed: bool,
    avatar: str | None,
    bio: str | None,
    private: bool | None,
) -> None:
    """Replace the profile fields; `private` None keeps the setting, and a changed email
    is stored unverified."""
    executor.execute(
        """
            UPDATE users SET name = :name, username = :username, email = :email,
                             avatar = :avatar, bio = :bio,
                             private = COALESCE(CAST(:private AS boolean), private),
                             email_verified_at = CASE WHEN :email_changed THEN NULL
                                                      ELSE email_verified_at END
            WHERE id = :user_id
            """,
        private=private,
        name=name,
        username=username,
        email=email,
        email_changed=email_changed,
        avatar=avatar,
        bio=bio,
        user_id=user_id,
    )


def replace_password_hash(executor: Executor, user_id: int, old_hash: str, new_hash: str) -> bool:
    """Store `new_hash` if the stored hash is still `old_hash`; False when it is not."""
    changed = executor.execute(
        """
            UPDATE users SET password_hash = :new_hash
            WHERE id = :user_id AND password_hash = :old
            """,
        new_hash=new_hash,
        user_id=user_id,
        old=old_hash,
    )
    return changed > 0


class MailRequestWindow(TypedDict):
    """The account's requests for mails of one purpose in the last hour."""

    recent: int
    # Seconds until the oldest of them leaves the hour; None when there is none.
    wait: Decimal | None


def mail_request_window(executor: Executor, user_id: int, purpose: Purpose) -> MailRequestWindow:
    window = executor.fetch_one_as(
        MailRequestWindow,
        """
        SELECT count(*) AS recent,
               ceil(extract(epoch FROM min(created) + interval '1 hour' - now())) AS wait
        FROM verification_requests
        WHERE user_id = :user_id AND purpose = :purpose AND created > now() - interval '1 hour'
        """,
        user_id=user_id,
        purpose=purpose,
    )
    assert window is not None  # an aggregate without GROUP BY answers one row
    return window


def forget_old_mail_requests(executor: Executor, user_id: int) -> None:
    """Drop the account's requests older than the hour: they count for nothing."""
    executor.execute(
        """
        DELETE FROM verification_requests
        WHERE user_id = :user_id AND created <= now() - interval '1 hour'
        """,
        user_id=user_id,
    )


def record_mail_request(executor: Executor, user_id: int, purpose: Purpose) -> None:
    executor.execute(
        "INSERT INTO verification_requests (user_id, purpose) VALUES (:user_id, :purpose)",
        user_id=user_id,
        purpose=purpose,
    )


class DeletedUser(TypedDict):
    public_id: UUID
    username: str
    deleted_at: datetime


def mark_deleted(executor: Executor, user_id: int, verified_hash: str) -> DeletedUser | None:
    """Set `deleted_at` if the stored hash is still `verified_hash` and the account is not
    already marked; None when either fails."""
    return executor.fetch_one_as(
        DeletedUser,
        """
            UPDATE users SET deleted_at = now()
            WHERE id = :user_id AND password_hash = :verified AND deleted_at IS NULL
            RETURNING public_id, username, deleted_at
            """,
        user_id=user_id,
        verified=verified_hash,
    )


class UserAddress(TypedDict):
    public_id: UUID
    email: str


class AccountAddress(UserAddress):
    id: int


def lock_user_address(executor: Executor, user_id: int) -> UserAddress | None:
    return executor.fetch_one_as(
        UserAddress,
        "SELECT public_id, email FROM users WHERE id = :user_id FOR UPDATE",
        user_id=user_id,
    )


def lock_user_by_email(executor: Executor, email: str) -> AccountAddress | None:
    return executor.fetch_one_as(
        AccountAddress,
        "SELECT id, public_id, email FROM users WHERE email = :email FOR UPDATE",
        email=email,
    )


def verify_address(executor: Executor, user_id: int, email: str) -> bool:
    """Mark the account's address verified if it is still `email`; False when it is not."""
    verified = executor.execute(
        """
            UPDATE users SET email_verified_at = COALESCE(email_verified_at, now())
            WHERE id = :user_id AND email = :email
            """,
        user_id=user_id,
        email=email,
    )
    return verified > 0


def reset_password_hash(executor: Executor, user_id: int, email: str, new_hash: str) -> bool:
    """Store `new_hash` if the account's address is still `email`; False when it is not."""
    changed = executor.execute(
        "UPDATE users SET password_hash = :new_hash WHERE id = :user_id AND email = :email",
        new_hash=new_hash,
        user_id=user_id,
        email=email,
    )
    return changed > 0


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
