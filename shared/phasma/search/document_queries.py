"""Search documents read straight from PostgreSQL: for the re-index and the indexer.

Only tables the read-only `phasma_indexer` role may select are used (users, posts,
hashtags, post_hashtags). Batches are keyset-paged on the internal id, which never
leaves these functions.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from phasma.db.pool import Executor
from phasma.search.documents import hashtag_document, post_document, user_document
from phasma.visibility import live

_POST_COLUMNS = """
    posts.id, posts.public_id, authors.public_id AS author_id, authors.username,
    authors.private AS author_private, posts.description, posts.filename, posts.created,
    ARRAY(
        SELECT hashtags.name
        FROM post_hashtags JOIN hashtags ON hashtags.id = post_hashtags.hashtag_id
        WHERE post_hashtags.post_id = posts.id
        ORDER BY hashtags.name
    ) AS hashtags
"""


def _post(row: dict[str, Any]) -> dict[str, Any]:
    return post_document(
        post_id=row["public_id"],
        author_id=row["author_id"],
        username=row["username"],
        author_private=row["author_private"],
        description=row["description"],
        hashtags=row["hashtags"],
        filename=row["filename"],
        created=row["created"],
    )


def count(executor: Executor, index: str) -> int:
    """How many documents the re-index will load into `index`."""
    statements = {
        "users": f"SELECT count(*) FROM users WHERE {live('users')}",
        "posts": (
            "SELECT count(*) FROM posts JOIN users AS authors"
            f" ON authors.id = posts.user_id AND {live('authors')}"
        ),
        "hashtags": "SELECT count(*) FROM hashtags WHERE post_count > 0",
    }
    return int(executor.fetch_value(statements[index]))


def users_after(executor: Executor, after: int, batch: int) -> tuple[list[dict[str, Any]], int]:
    """The next `batch` user documents after internal id `after`, and the last id read."""
    rows = executor.fetch_all(
        f"""
        SELECT id, public_id, username, name, avatar FROM users
        WHERE id > :after AND {live("users")} ORDER BY id LIMIT :batch
        """,
        after=after,
        batch=batch,
    )
    documents = [
        user_document(row["public_id"], row["username"], row["name"], row["avatar"]) for row in rows
    ]
    return documents, rows[-1]["id"] if rows else after


def posts_after(executor: Executor, after: int, batch: int) -> tuple[list[dict[str, Any]], int]:
    """The next `batch` post documents (with their hashtags) after internal id `after`."""
    rows = executor.fetch_all(
        f"""
        SELECT {_POST_COLUMNS}
        FROM posts JOIN users AS authors ON authors.id = posts.user_id AND {live("authors")}
        WHERE posts.id > :after ORDER BY posts.id LIMIT :batch
        """,
        after=after,
        batch=batch,
    )
    return [_post(row) for row in rows], rows[-1]["id"] if rows else after


def posts_by_author_after(
    executor: Executor, author_id: UUID, after: int, batch: int
) -> tuple[list[dict[str, Any]], int]:
    """The next `batch` post documents of one author (by public id), with current username."""
    rows = executor.fetch_all(
        f"""
        SELECT {_POST_COLUMNS}
        FROM posts JOIN users AS authors ON authors.id = posts.user_id AND {live("authors")}
        WHERE authors.public_id = :author_id AND posts.id > :after
        ORDER BY posts.id LIMIT :batch
        """,
        author_id=author_id,
        after=after,
        batch=batch,
    )
    return [_post(row) for row in rows], rows[-1]["id"] if rows else after


def post(executor: Executor, post_id: UUID) -> dict[str, Any] | None:
    """One post's document as it is now; None when the post is gone."""
    row = executor.fetch_one(
        f"""
        SELECT {_POST_COLUMNS}
        FROM posts JOIN users AS authors ON authors.id = posts.user_id AND {live("authors")}
        WHERE posts.public_id = :post_id
        """,
        post_id=post_id,
    )
    return _post(row) if row else None


def user(executor: Executor, user_id: UUID) -> dict[str, Any] | None:
    """One user's document as it is now; None when the account is gone."""
    row = executor.fetch_one(
        f"""
        SELECT public_id, username, name, avatar FROM users
        WHERE public_id = :user_id AND {live("users")}
        """,
        user_id=user_id,
    )
    if row is None:
        return None
    return user_document(row["public_id"], row["username"], row["name"], row["avatar"])


def hashtag(executor: Executor, name: str) -> dict[str, Any] | None:
    """One hashtag's document as it is now; None when no live post carries it."""
    row = executor.fetch_one(
        "SELECT name, post_count FROM hashtags WHERE name = :name AND post_count > 0", name=name
    )
    if row is None:
        return None
    return hashtag_document(row["name"], row["post_count"])


def hashtags_after(executor: Executor, after: int, batch: int) -> tuple[list[dict[str, Any]], int]:
    """The next `batch` hashtag documents with posts after internal id `after`."""
    rows = executor.fetch_all(
        """
        SELECT id, name, post_count FROM hashtags
        WHERE id > :after AND post_count > 0 ORDER BY id LIMIT :batch
        """,
        after=after,
        batch=batch,
    )
    documents = [hashtag_document(row["name"], row["post_count"]) for row in rows]
    return documents, rows[-1]["id"] if rows else after
