"""Session resolution: the `Viewer` of a request's session token (docs/api.md §5.2).

Plumbing, below every slice: the HTTP pipeline resolves the viewer before any handler
runs, and actions take the `Viewer` it made; ending an account's sessions (a password
change or reset) is here too. Creating, listing and revoking sessions are the
`sessions` slice's (`phasma.sessions.queries`).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from phasma.config import Limits
from phasma.db.pool import Executor
from phasma.visibility import live

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


def delete_other_sessions(executor: Executor, user_id: int, keep_key: str) -> None:
    executor.execute(
        "DELETE FROM sessions WHERE user_id = :user_id AND id <> :key",
        user_id=user_id,
        key=keep_key,
    )


def delete_all_sessions(executor: Executor, user_id: int) -> None:
    """End every session of the account (a password reset, docs/api.md §B)."""
    executor.execute("DELETE FROM sessions WHERE user_id = :user_id", user_id=user_id)
