"""SQL for sessions (docs/domain.md §2.2, docs/api.md §5.2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from phasma.config import Limits
from phasma.db.pool import Executor
from phasma.sessions.devices import UNKNOWN_DEVICE
from phasma.users.queries import live

# Validating is a plain read on every request; a write follows only when the sliding
# expiry is due (less than half the window left: at most once per 3.5 days) or the
# `last_used` stamp is older than SESSION_LAST_USED_EVERY_SECONDS (at most one write
# per session every five minutes, however many requests it makes). A deleted account
# has no viewer: a login that checked the password just before `DELETE /users/me`
# committed may still insert a session, and it must neither show the account (its
# `post_count` is not counted down while the removal runs) nor add likes, comments or
# follows behind the remover, whose last step would drop them without correcting the
# counters they raised.
_RESOLVE = f"""
SELECT sessions.user_id, sessions.public_id AS session_public_id,
       users.public_id AS user_public_id,
       sessions.expires_at < now() + make_interval(secs => :refresh_below) AS needs_refresh,
       sessions.last_used < now() - make_interval(secs => :stamp_every) AS needs_stamp
FROM sessions JOIN users ON users.id = sessions.user_id
WHERE sessions.id = :key
  AND sessions.expires_at > now()
  AND sessions.created >= now() - make_interval(secs => :absolute_seconds)
  AND {live("users")}
"""
# One atomic, idempotent statement (docs/api.md §5.2), safe to retry.
_REFRESH = """
UPDATE sessions
SET last_used = now(),
    expires_at = CASE
        WHEN expires_at < now() + make_interval(secs => :refresh_below)
        THEN now() + make_interval(secs => :ttl)
        ELSE expires_at
    END
WHERE id = :key
  AND expires_at > now()
  AND (
    expires_at < now() + make_interval(secs => :refresh_below)
    OR last_used < now() - make_interval(secs => :stamp_every)
  )
"""


@dataclass(frozen=True)
class Viewer:
    """The signed-in user of a request whose session resolved."""

    user_id: int
    user_public_id: UUID
    session_key: str
    session_public_id: UUID
    token: str


def resolve_session(
    executor: Executor, key: str, token: str, absolute_seconds: int
) -> Viewer | None:
    """The viewer of a valid session (re-stamping its sliding expiry and last use when
    due), else None."""
    row = executor.fetch_one(
        _RESOLVE,
        key=key,
        absolute_seconds=absolute_seconds,
        refresh_below=Limits.SESSION_REFRESH_BELOW_SECONDS,
        stamp_every=Limits.SESSION_LAST_USED_EVERY_SECONDS,
    )
    if row is None:
        return None
    if row["needs_refresh"] or row["needs_stamp"]:
        executor.execute(
            _REFRESH,
            key=key,
            ttl=Limits.SESSION_TTL_SECONDS,
            refresh_below=Limits.SESSION_REFRESH_BELOW_SECONDS,
            stamp_every=Limits.SESSION_LAST_USED_EVERY_SECONDS,
        )
    return Viewer(
        user_id=row["user_id"],
        user_public_id=row["user_public_id"],
        session_key=key,
        session_public_id=row["session_public_id"],
        token=token,
    )


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


def list_sessions(
    executor: Executor, user_id: int, current_key: str, absolute_seconds: int
) -> list[dict[str, Any]]:
    """The user's valid sessions: current first, then newest."""
    return executor.fetch_all(
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


def delete_other_sessions(executor: Executor, user_id: int, keep_key: str) -> None:
    executor.execute(
        "DELETE FROM sessions WHERE user_id = :user_id AND id <> :key",
        user_id=user_id,
        key=keep_key,
    )


def delete_all_sessions(executor: Executor, user_id: int) -> None:
    """End every session of the account (a password reset, docs/api.md §B)."""
    executor.execute("DELETE FROM sessions WHERE user_id = :user_id", user_id=user_id)
