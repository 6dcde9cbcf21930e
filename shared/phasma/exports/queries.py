"""SQL of data exports: the requests, their state, and the rows an archive is made of.

Every list the exporter writes is read in keyset pages of `Limits.EXPORT_PAGE_ROWS`
(strictly after the last key of the previous page), so no query ever holds an
account's whole history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, TypedDict
from uuid import UUID

from phasma.config import Limits
from phasma.db.pool import Executor
from phasma.exports.models import Export, ExportStatus

OBJECT_PREFIX: Final = "exports/"


def object_key(export_id: UUID | str) -> str:
    """Where export `export_id`'s ZIP lives: outside the images' namespaces."""
    return f"{OBJECT_PREFIX}{export_id}.zip"


def download_path(export_id: UUID | str) -> str:
    """The owner-checked route that streams the ZIP (docs/api.md, exports)."""
    return f"/users/me/exports/{export_id}/download"


class ExportRow(TypedDict):
    """An export as its owner sees it."""

    public_id: UUID
    status: ExportStatus
    created: datetime
    expires: datetime | None


class ExportToBuild(TypedDict):
    """An export and the profile of its account, as the exporter writes it."""

    id: int
    status: ExportStatus
    user_id: int
    user_public_id: UUID
    email: str
    username: str
    name: str
    bio: str | None
    avatar: str | None
    created: datetime
    email_verified_at: datetime | None


class ExpiredExport(TypedDict):
    id: int
    public_id: UUID


def to_export(row: ExportRow) -> Export:
    ready = row["status"] == "ready"
    return Export(
        id=row["public_id"],
        status=row["status"],
        created=row["created"],
        url=download_path(row["public_id"]) if ready else None,
        expires=row["expires"] if ready else None,
    )


def user_public_id(executor: Executor, user_id: int) -> UUID | None:
    """The public id of user `user_id`, None when the row is gone."""
    public_id: UUID | None = executor.fetch_value(
        "SELECT public_id FROM users WHERE id = :user_id", user_id=user_id
    )
    return public_id


def insert_pending(executor: Executor, user_id: int) -> ExportRow | None:
    """A new pending export, or None when the user already has one (the partial index)."""
    return executor.fetch_one_as(
        ExportRow,
        """
        INSERT INTO exports (user_id) VALUES (:user_id)
        ON CONFLICT (user_id) WHERE status = 'pending' DO NOTHING
        RETURNING public_id, status, created, expires
        """,
        user_id=user_id,
    )


def own_export(executor: Executor, user_id: int, public_id: UUID) -> ExportRow | None:
    """Export `public_id` if it belongs to `user_id` and has not expired."""
    return executor.fetch_one_as(
        ExportRow,
        """
        SELECT public_id, status, created, expires FROM exports
        WHERE public_id = :public_id AND user_id = :user_id
          AND (expires IS NULL OR expires > now())
        """,
        public_id=public_id,
        user_id=user_id,
    )


def export_to_build(executor: Executor, public_id: UUID) -> ExportToBuild | None:
    """The export and its account, for the worker."""
    return executor.fetch_one_as(
        ExportToBuild,
        """
        SELECT e.id, e.status, e.user_id, u.public_id AS user_public_id, u.email,
               u.username, u.name, u.bio, u.avatar, u.created, u.email_verified_at
        FROM exports e JOIN users u ON u.id = e.user_id
        WHERE e.public_id = :public_id
        """,
        public_id=public_id,
    )


def mark_ready(executor: Executor, export_id: int, ttl_seconds: int, size: int) -> bool:
    """Pending → ready; False when another delivery finished it first."""
    return bool(
        executor.execute(
            """
            UPDATE exports SET status = 'ready', finished = now(), size_bytes = :size,
                expires = now() + make_interval(secs => :ttl)
            WHERE id = :id AND status = 'pending'
            """,
            id=export_id,
            ttl=ttl_seconds,
            size=size,
        )
    )


def mark_failed(executor: Executor, export_id: int) -> None:
    executor.execute(
        "UPDATE exports SET status = 'failed', finished = now() "
        "WHERE id = :id AND status = 'pending'",
        id=export_id,
    )


def notify_ready(executor: Executor, user_id: int, export_public_id: UUID) -> None:
    """The `export_ready` notification: the user is its own actor; once per export."""
    executor.execute(
        """
        INSERT INTO notifications (external_id, user_id, actor_id, type, entity_id)
        VALUES (:external_id, :user_id, :user_id, 'export_ready', :entity_id)
        ON CONFLICT DO NOTHING
        """,
        external_id=f"export:{export_public_id}",
        user_id=user_id,
        entity_id=str(export_public_id),
    )


# Each list: (the first page, the next page after the last row's key, key columns).
# Keys are unique per user, so "strictly after" never skips or repeats a row.
POSTS = """
    SELECT p.id AS key, p.public_id AS id, p.filename, p.description, p.alt_text,
           p.width, p.height, p.like_count AS likes, p.comment_count AS comments,
           p.created, p.edited,
           ARRAY(SELECT h.name FROM post_hashtags ph JOIN hashtags h ON h.id = ph.hashtag_id
                 WHERE ph.post_id = p.id ORDER BY h.name) AS hashtags
    FROM posts p WHERE p.user_id = :user_id AND p.id > :after
    ORDER BY p.id LIMIT :limit
"""
COMMENTS = """
    SELECT c.id AS key, c.public_id AS id, p.public_id AS post_id, c.body, c.created
    FROM comments c JOIN posts p ON p.id = c.post_id
    WHERE c.user_id = :user_id AND c.id > :after
    ORDER BY c.id LIMIT :limit
"""
LIKES = """
    SELECT l.post_id AS key, p.public_id AS post_id, a.username AS author, l.created
    FROM likes l JOIN posts p ON p.id = l.post_id JOIN users a ON a.id = p.user_id
    WHERE l.user_id = :user_id AND l.post_id > :after
    ORDER BY l.post_id LIMIT :limit
"""
FOLLOWING = """
    SELECT f.followee_id AS key, u.username, u.name, f.created
    FROM follows f JOIN users u ON u.id = f.followee_id
    WHERE f.follower_id = :user_id AND f.followee_id > :after
    ORDER BY f.followee_id LIMIT :limit
"""
FOLLOWERS = """
    SELECT f.follower_id AS key, u.username, u.name, f.created
    FROM follows f JOIN users u ON u.id = f.follower_id
    WHERE f.followee_id = :user_id AND f.follower_id > :after
    ORDER BY f.follower_id LIMIT :limit
"""
POST_FILENAMES = """
    SELECT id AS key, filename FROM posts
    WHERE user_id = :user_id AND id > :after ORDER BY id LIMIT :limit
"""


def page(
    executor: Executor, sql: str, user_id: int, after: int, limit: int
) -> list[dict[str, Any]]:
    """One keyset page of `sql`: rows whose `key` is greater than `after`."""
    return executor.fetch_all(sql, user_id=user_id, after=after, limit=limit)


def lock_expired(executor: Executor, limit: int) -> list[ExpiredExport]:
    """Exports past their 24 h: ready ones whose link expired, and failed or stuck
    pending ones as old, which never will be downloaded."""
    return executor.fetch_all_as(
        ExpiredExport,
        """
        SELECT id, public_id FROM exports
        WHERE expires <= now()
           OR (status <> 'ready' AND created <= now() - make_interval(secs => :ttl))
        ORDER BY id LIMIT :limit
        FOR UPDATE SKIP LOCKED
        """,
        ttl=Limits.EXPORT_TTL_SECONDS,
        limit=limit,
    )


def delete_exports(executor: Executor, ids: list[int]) -> int:
    return executor.execute("DELETE FROM exports WHERE id = ANY(CAST(:ids AS bigint[]))", ids=ids)
