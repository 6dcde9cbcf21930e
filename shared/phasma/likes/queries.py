"""SQL for likes: the like rows and the liked-posts list (newest like first)."""

from __future__ import annotations

from phasma.db.pool import Executor
from phasma.pagination import Page, PageRequest, after_cursor, cursor_params
from phasma.posts.models import Post
from phasma.posts.queries import POST_COLUMNS, PostRow, post_page
from phasma.visibility import shows_posts

# The owner is the viewer (the list is private, docs/api.md §F): posts they may no longer see
# (a block either way, a private author they stopped following) are left out.
_LIKED = f"""
    SELECT {POST_COLUMNS}, l.created AS liked_at
    FROM likes l JOIN posts p ON p.id = l.post_id
    JOIN users u ON u.id = p.user_id AND {shows_posts("u")}
    WHERE l.user_id = :owner_id {{after}}
    ORDER BY l.created DESC, l.post_id DESC
    LIMIT :limit
"""
LIKED_FIRST_PAGE = _LIKED.format(after="")
# Keyset on the like's (created, post_id): the order of likes_user_id_created_post_id_idx.
LIKED_NEXT_PAGE = _LIKED.format(after=after_cursor("l.created", "l.post_id"))


def insert_like(executor: Executor, post_id: int, user_id: int) -> bool:
    """Like the post; False when the user already liked it (a no-op)."""
    return bool(
        executor.execute(
            """
            INSERT INTO likes (post_id, user_id) VALUES (:post_id, :user_id)
            ON CONFLICT (post_id, user_id) DO NOTHING
            """,
            post_id=post_id,
            user_id=user_id,
        )
    )


def delete_like(executor: Executor, post_id: int, user_id: int) -> bool:
    """Remove the like; False when there was none (a no-op)."""
    return bool(
        executor.execute(
            "DELETE FROM likes WHERE post_id = :post_id AND user_id = :user_id",
            post_id=post_id,
            user_id=user_id,
        )
    )


def liked_posts(executor: Executor, owner_id: int, viewer_id: int, page: PageRequest) -> Page[Post]:
    """One page of the posts `owner_id` liked, by like time, newest first."""
    sql = LIKED_FIRST_PAGE if page.cursor is None else LIKED_NEXT_PAGE
    rows = executor.fetch_all_as(
        PostRow, sql, owner_id=owner_id, viewer_id=viewer_id, **cursor_params(page)
    )
    return post_page(rows, page, sort_time="liked_at")
