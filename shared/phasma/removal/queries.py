"""SQL of account removal: one bounded batch per statement group, keyed by the user's id.

Every counter another user sees is corrected in the statement group that deletes the
rows it counts, under the same row locks the live writers take and in the same order
(post or followee row first, then the like, comment or follow), so a batch never
deadlocks with them and a replayed batch never counts anything twice: only rows this
batch actually deleted are counted down.
"""

from __future__ import annotations

from collections import Counter
from typing import TypedDict
from uuid import UUID

from phasma.db.pool import Executor

# Accounts a sweep continues: removal requested this long ago and not finished. The
# event path normally finishes within seconds; the sweep is for crashes and lost events.
SWEEP_AFTER_MINUTES = 15


class RemovedAccount(TypedDict):
    """The account being removed, as every batch step takes it."""

    id: int
    public_id: UUID
    avatar: str | None


class RemovedPost(TypedDict):
    id: int
    public_id: UUID
    filename: str


class TagCount(TypedDict):
    """A tag's new `post_count` after the removed posts were counted off it."""

    name: str
    post_count: int


def lock_account(executor: Executor, public_id: UUID) -> RemovedAccount | None:
    """The account being removed, locked: one batch at a time per account, whoever runs it."""
    return executor.fetch_one_as(
        RemovedAccount,
        """
        SELECT id, public_id, avatar FROM users
        WHERE public_id = :public_id AND deleted_at IS NOT NULL
        FOR UPDATE
        """,
        public_id=public_id,
    )


def lock_unfinished_account(executor: Executor) -> RemovedAccount | None:
    """The oldest removal left unfinished, unless another run is working on it."""
    return executor.fetch_one_as(
        RemovedAccount,
        """
        SELECT id, public_id, avatar FROM users
        WHERE deleted_at < now() - make_interval(mins => :minutes)
        ORDER BY deleted_at
        LIMIT 1
        FOR UPDATE SKIP LOCKED
        """,
        minutes=SWEEP_AFTER_MINUTES,
    )


def delete_credentials(executor: Executor, user_id: int) -> int:
    """Sessions, mail tokens, verification requests and recent searches (few per user)."""
    return sum(
        executor.execute(f"DELETE FROM {table} WHERE user_id = :user_id", user_id=user_id)
        for table in ("sessions", "mail_tokens", "verification_requests", "recent_searches")
    )


def delete_likes(executor: Executor, user_id: int, limit: int) -> int:
    """A batch of the user's likes, each liked post's `like_count` counted down."""
    rows = executor.fetch_all(
        """
        WITH batch AS (
            SELECT post_id FROM likes WHERE user_id = :user_id ORDER BY post_id LIMIT :limit
        ), locked AS (
            SELECT id FROM posts WHERE id IN (SELECT post_id FROM batch)
            ORDER BY id FOR NO KEY UPDATE
        )
        DELETE FROM likes USING locked
        WHERE likes.user_id = :user_id AND likes.post_id = locked.id
        RETURNING likes.post_id
        """,
        user_id=user_id,
        limit=limit,
    )
    _count_down(executor, "like_count", [row["post_id"] for row in rows])
    return len(rows)


def delete_comments(executor: Executor, user_id: int, limit: int) -> int:
    """A batch of the user's comments, each post's `comment_count` counted down."""
    rows = executor.fetch_all(
        """
        WITH batch AS (
            SELECT id, post_id FROM comments WHERE user_id = :user_id ORDER BY id LIMIT :limit
        ), locked AS (
            SELECT id FROM posts WHERE id IN (SELECT post_id FROM batch)
            ORDER BY id FOR NO KEY UPDATE
        )
        DELETE FROM comments USING batch, locked
        WHERE comments.id = batch.id AND batch.post_id = locked.id
        RETURNING comments.post_id
        """,
        user_id=user_id,
        limit=limit,
    )
    _count_down(executor, "comment_count", [row["post_id"] for row in rows])
    return len(rows)


def _count_down(executor: Executor, column: str, post_ids: list[int]) -> None:
    if not post_ids:
        return
    counts = Counter(post_ids)
    executor.execute(
        f"""
        UPDATE posts SET {column} = GREATEST({column} - removed.n, 0)
        FROM unnest(CAST(:post_ids AS bigint[]), CAST(:ns AS int[])) AS removed (post_id, n)
        WHERE posts.id = removed.post_id
        """,
        post_ids=list(counts),
        ns=list(counts.values()),
    )


def delete_following(executor: Executor, user_id: int, limit: int) -> int:
    """A batch of the follows the user made, each followee's `follower_count` counted down."""
    rows = executor.fetch_all(
        """
        WITH batch AS (
            SELECT followee_id FROM follows WHERE follower_id = :user_id
            ORDER BY followee_id LIMIT :limit
        ), locked AS (
            SELECT id FROM users WHERE id IN (SELECT followee_id FROM batch)
            ORDER BY id FOR NO KEY UPDATE
        )
        DELETE FROM follows USING locked
        WHERE follows.follower_id = :user_id AND follows.followee_id = locked.id
        RETURNING follows.followee_id
        """,
        user_id=user_id,
        limit=limit,
    )
    followees = [row["followee_id"] for row in rows]
    if followees:
        executor.execute(
            """
            UPDATE users SET follower_count = GREATEST(follower_count - 1, 0)
            WHERE id = ANY(CAST(:followees AS bigint[]))
            """,
            followees=followees,
        )
    return len(rows)


def delete_followers(executor: Executor, user_id: int, limit: int) -> int:
    """A batch of the follows of the user, its own `follower_count` kept true with them
    (the followers' "following" is a live count)."""
    deleted = executor.execute(
        """
        DELETE FROM follows WHERE followee_id = :user_id AND follower_id IN (
            SELECT follower_id FROM follows WHERE followee_id = :user_id LIMIT :limit
        )
        """,
        user_id=user_id,
        limit=limit,
    )
    if deleted:
        executor.execute(
            """
            UPDATE users SET follower_count = GREATEST(follower_count - :deleted, 0)
            WHERE id = :user_id
            """,
            deleted=deleted,
            user_id=user_id,
        )
    return deleted


# Rows nobody else counts: deleted in batches of their own key, nothing to correct.
_PLAIN_BATCHES = {
    "bookmarks": """
        DELETE FROM bookmarks WHERE user_id = :user_id AND post_id IN (
            SELECT post_id FROM bookmarks WHERE user_id = :user_id LIMIT :limit
        )
    """,
    "notifications": """
        DELETE FROM notifications WHERE id IN (
            SELECT id FROM notifications WHERE user_id = :user_id
            UNION ALL
            SELECT id FROM notifications WHERE actor_id = :user_id
            LIMIT :limit
        )
    """,
    "feed": """
        DELETE FROM feed WHERE user_id = :user_id AND post_id IN (
            SELECT post_id FROM feed WHERE user_id = :user_id LIMIT :limit
        )
    """,
}


def delete_plain(executor: Executor, kind: str, user_id: int, limit: int) -> int:
    return executor.execute(_PLAIN_BATCHES[kind], user_id=user_id, limit=limit)


def lock_posts(executor: Executor, user_id: int, limit: int) -> list[RemovedPost]:
    return executor.fetch_all_as(
        RemovedPost,
        """
        SELECT id, public_id, filename FROM posts WHERE user_id = :user_id
        ORDER BY id LIMIT :limit FOR UPDATE
        """,
        user_id=user_id,
        limit=limit,
    )


def comment_ids_by_post(executor: Executor, post_ids: list[int]) -> dict[int, list[UUID]]:
    rows = executor.fetch_all(
        """
        SELECT post_id, public_id FROM comments WHERE post_id = ANY(CAST(:post_ids AS bigint[]))
        ORDER BY created, id
        """,
        post_ids=post_ids,
    )
    by_post: dict[int, list[UUID]] = {}
    for row in rows:
        by_post.setdefault(row["post_id"], []).append(row["public_id"])
    return by_post


def delete_posts(executor: Executor, post_ids: list[int]) -> list[TagCount]:
    """Delete the posts (likes, comments, hashtag links, bookmarks and feed rows cascade)
    and count their tags down, locking the tags in name order as post deletion does;
    returns each changed tag's name and new count."""
    tags = executor.fetch_all(
        """
        SELECT hashtag_id, count(*) AS n FROM post_hashtags
        WHERE post_id = ANY(CAST(:post_ids AS bigint[]))
        GROUP BY hashtag_id
        """,
        post_ids=post_ids,
    )
    executor.execute(
        "DELETE FROM posts WHERE id = ANY(CAST(:post_ids AS bigint[]))", post_ids=post_ids
    )
    if not tags:
        return []
    return executor.fetch_all_as(
        TagCount,
        """
        UPDATE hashtags SET post_count = GREATEST(hashtags.post_count - removed.n, 0)
        FROM (
            SELECT hashtags.id, tags.n
            FROM hashtags
            JOIN unnest(CAST(:ids AS bigint[]), CAST(:ns AS int[])) AS tags (id, n)
                ON tags.id = hashtags.id
            ORDER BY hashtags.name FOR UPDATE OF hashtags
        ) AS removed
        WHERE hashtags.id = removed.id
        RETURNING hashtags.name, hashtags.post_count
        """,
        ids=[row["hashtag_id"] for row in tags],
        ns=[row["n"] for row in tags],
    )


def lock_uploads(executor: Executor, user_id: int, limit: int) -> list[str]:
    rows = executor.fetch_all(
        """
        SELECT filename FROM uploads WHERE user_id = :user_id
        ORDER BY filename LIMIT :limit FOR UPDATE
        """,
        user_id=user_id,
        limit=limit,
    )
    return [row["filename"] for row in rows]


def delete_uploads(executor: Executor, filenames: list[str]) -> int:
    return executor.execute(
        "DELETE FROM uploads WHERE filename = ANY(CAST(:filenames AS varchar[]))",
        filenames=filenames,
    )


def lock_exports(executor: Executor, user_id: int, limit: int) -> list[UUID]:
    """The account's exports, whatever their status: a pending one may have written parts."""
    rows = executor.fetch_all(
        """
        SELECT public_id FROM exports WHERE user_id = :user_id
        ORDER BY id LIMIT :limit FOR UPDATE
        """,
        user_id=user_id,
        limit=limit,
    )
    return [row["public_id"] for row in rows]


def delete_exports(executor: Executor, public_ids: list[UUID]) -> int:
    return executor.execute(
        "DELETE FROM exports WHERE public_id = ANY(CAST(:ids AS uuid[]))",
        ids=[str(public_id) for public_id in public_ids],
    )


def avatar_used_elsewhere(executor: Executor, user_id: int, filename: str) -> bool:
    """Whether a post or another user still shows `filename` (then its blobs stay)."""
    return bool(
        executor.fetch_value(
            """
            SELECT EXISTS (SELECT 1 FROM posts WHERE filename = :filename)
                OR EXISTS (SELECT 1 FROM users WHERE avatar = :filename AND id <> :user_id)
            """,
            filename=filename,
            user_id=user_id,
        )
    )


def delete_user(executor: Executor, user_id: int) -> None:
    """The last step: the row goes (anything a late writer added cascades with it); the
    audit log keeps its rows, now naming the account by public id only."""
    executor.execute(
        "INSERT INTO audit_log (user_id, action) VALUES (:user_id, 'account_removed')",
        user_id=user_id,
    )
    executor.execute("DELETE FROM users WHERE id = :user_id", user_id=user_id)
