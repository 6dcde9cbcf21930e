"""The janitor's SQL: one bounded batch per statement, so each transaction stays short."""

from __future__ import annotations

from phasma.config import Limits
from phasma.db.pool import Executor

# Transaction-scoped, so it is released at commit and safe behind a transaction-mode
# pooler; a run that finds the lock taken skips the task instead of racing the holder.
TRY_LOCK = "SELECT pg_try_advisory_xact_lock(hashtextextended('phasma.janitor.' || :task, 0))"


def try_lock(executor: Executor, task: str) -> bool:
    """Take the task's advisory lock for this transaction; False when another run holds it."""
    return bool(executor.fetch_value(TRY_LOCK, task=task))


def delete_invalid_sessions(executor: Executor, absolute_ttl_hours: int, limit: int) -> int:
    """Delete up to `limit` sessions past their sliding or absolute expiry."""
    return executor.execute(
        """
        DELETE FROM sessions WHERE id IN (
            SELECT id FROM sessions
            WHERE expires_at <= now() OR created < now() - make_interval(hours => :ttl_hours)
            LIMIT :limit
            FOR UPDATE SKIP LOCKED
        )
        """,
        ttl_hours=absolute_ttl_hours,
        limit=limit,
    )


def delete_old_published_events(executor: Executor, retention_days: int, limit: int) -> int:
    """Delete up to `limit` published outbox rows written more than `retention_days` ago."""
    return executor.execute(
        """
        DELETE FROM outbox WHERE id IN (
            SELECT id FROM outbox
            WHERE published_at IS NOT NULL AND created < now() - make_interval(days => :days)
            ORDER BY created
            LIMIT :limit
            FOR UPDATE SKIP LOCKED
        )
        """,
        days=retention_days,
        limit=limit,
    )


def delete_ended_mail_tokens(executor: Executor, keep_seconds: int, limit: int) -> int:
    """Delete up to `limit` mail tokens spent or expired more than `keep_seconds` ago."""
    return executor.execute(
        """
        DELETE FROM mail_tokens WHERE token_hmac IN (
            SELECT token_hmac FROM mail_tokens
            WHERE expires < now() - make_interval(secs => :keep)
               OR used < now() - make_interval(secs => :keep)
            LIMIT :limit
            FOR UPDATE SKIP LOCKED
        )
        """,
        keep=keep_seconds,
        limit=limit,
    )


def delete_old_mail_deliveries(executor: Executor, retention_days: int, limit: int) -> int:
    """Delete up to `limit` mail delivery records older than `retention_days`."""
    return executor.execute(
        """
        DELETE FROM mail_deliveries WHERE event_id IN (
            SELECT event_id FROM mail_deliveries
            WHERE sent < now() - make_interval(days => :days)
            ORDER BY sent
            LIMIT :limit
            FOR UPDATE SKIP LOCKED
        )
        """,
        days=retention_days,
        limit=limit,
    )


def lock_expired_uploads(executor: Executor, limit: int) -> list[str]:
    """Lock up to `limit` pending uploads past their 1-hour use window; their filenames."""
    rows = executor.fetch_all(
        """
        SELECT filename FROM uploads
        WHERE created < now() - make_interval(secs => :expiry)
        ORDER BY created
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
        """,
        expiry=Limits.UPLOAD_EXPIRY_SECONDS,
        limit=limit,
    )
    return [row["filename"] for row in rows]


def delete_uploads(executor: Executor, filenames: list[str]) -> int:
    return executor.execute(
        "DELETE FROM uploads WHERE filename = ANY(CAST(:filenames AS varchar[]))",
        filenames=filenames,
    )


def reconcile_follower_counts(executor: Executor, after_id: int, limit: int) -> tuple[int, int]:
    """Recount followers of the next `limit` users after `after_id` and latch celebrities.

    The users are locked first (as an UPDATE would), so a follow committing meanwhile
    adjusts the corrected count instead of being overwritten by a stale one; the lock
    does not block new follows rows, whose foreign key needs only a key-share lock.
    Returns (last user id of the batch or 0 when none was left, users corrected).
    """
    ids = [
        row["id"]
        for row in executor.fetch_all(
            """
            SELECT id FROM users WHERE id > :after_id ORDER BY id LIMIT :limit
            FOR NO KEY UPDATE
            """,
            after_id=after_id,
            limit=limit,
        )
    ]
    if not ids:
        return 0, 0
    corrected = executor.execute(
        """
        UPDATE users SET
            follower_count = counted.followers,
            is_celebrity = users.is_celebrity OR counted.followers > :threshold
        FROM (
            SELECT batch.id,
                   (SELECT count(*) FROM follows WHERE followee_id = batch.id) AS followers
            FROM unnest(CAST(:ids AS bigint[])) AS batch (id)
        ) AS counted
        WHERE users.id = counted.id
          AND (users.follower_count <> counted.followers
               OR (NOT users.is_celebrity AND counted.followers > :threshold))
        """,
        ids=ids,
        threshold=Limits.CELEBRITY_FOLLOWER_THRESHOLD,
    )
    return ids[-1], corrected
