"""SQL for sessions (docs/domain.md §2.2, docs/api.md §5.2)."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict
from uuid import UUID

from phasma.config import Limits
from phasma.db.pool import Executor
from phasma.sessions.devices import UNKNOWN_DEVICE


def create_session(
    executor: Executor,
    user_id: int,
    key: str,
    absolute_seconds: int,
    device: str = UNKNOWN_DEVICE,
) -> None:
    """Insert a session under the per-user cap (call inside a transaction); `device` is
    its label from `phasma.sessions.devices`.

    The user row lock serialises concurrent logins of one user across replicas;
    invalid sessions go first, then all but the newest 99 others.
    """
    executor.execute("SELECT 1 FROM users WHERE id = :user_id FOR UPDATE", user_id=user_id)
    executor.execute(
        """
        DELETE FROM sessions
        WHERE user_id = :user_id
          AND (expires_at <= now() OR created < now() - make_interval(secs => :absolute_seconds))
        """,
        user_id=user_id,
        absolute_seconds=absolute_seconds,
    )
    executor.execute(
        f"""
        INSERT INTO sessions (id, user_id, expires_at, device)
        VALUES (
            :key, :user_id, now() + interval '{Limits.SESSION_TTL_SECONDS} seconds', :device
        )
        """,
        key=key,
        user_id=user_id,
        device=device,
    )
    executor.execute(
        """
        DELETE FROM sessions
        WHERE user_id = :user_id AND id <> :key AND id NOT IN (
            SELECT id FROM sessions
            WHERE user_id = :user_id AND id <> :key
            ORDER BY created DESC, public_id DESC
            LIMIT :keep
        )
        """,
        user_id=user_id,
        key=key,
        keep=Limits.SESSIONS_PER_USER - 1,
    )


class SessionRow(TypedDict):
    """A session as its owner lists it."""

    public_id: UUID
    created: datetime
    current: bool
    device: str
    last_used: datetime
    expires_at: datetime


def list_sessions(
    executor: Executor, user_id: int, current_key: str, absolute_seconds: int
) -> list[SessionRow]:
    """The user's valid sessions: current first, then newest."""
    return executor.fetch_all_as(
        SessionRow,
        """
        SELECT public_id, created, (id = :current_key) AS current, device, last_used,
               LEAST(expires_at, created + make_interval(secs => :absolute_seconds)) AS expires_at
        FROM sessions
        WHERE user_id = :user_id
          AND expires_at > now()
          AND created >= now() - make_interval(secs => :absolute_seconds)
        ORDER BY (id = :current_key) DESC, created DESC, public_id DESC
        LIMIT :cap
        """,
        user_id=user_id,
        current_key=current_key,
        absolute_seconds=absolute_seconds,
        cap=Limits.SESSIONS_PER_USER,
    )


def store_rehash(executor: Executor, user_id: int, new_hash: str) -> None:
    """Replace a weaker stored password hash with `new_hash` (the password just verified)."""
    executor.execute(
        "UPDATE users SET password_hash = :new_hash WHERE id = :user_id",
        new_hash=new_hash,
        user_id=user_id,
    )


def delete_session(executor: Executor, key: str) -> None:
    executor.execute("DELETE FROM sessions WHERE id = :key", key=key)


def revoke_session(executor: Executor, user_id: int, public_id: UUID, current_key: str) -> str:
    """Delete another of the user's sessions: "deleted", "current" or "missing"."""
    deleted = executor.execute(
        "DELETE FROM sessions WHERE public_id = :public_id AND user_id = :user_id AND id <> :key",
        public_id=public_id,
        user_id=user_id,
        key=current_key,
    )
    if deleted:
        return "deleted"
    is_current = executor.fetch_value(
        "SELECT 1 FROM sessions WHERE public_id = :public_id AND id = :key",
        public_id=public_id,
        key=current_key,
    )
    return "current" if is_current else "missing"
