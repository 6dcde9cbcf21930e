"""SQL for bookmarks: the bookmark rows and the saved-posts list (newest bookmark first)."""

from __future__ import annotations

from uuid import UUID

from phasma.db.pool import Executor
from phasma.pagination import Page, PageRequest, after_cursor, cursor_params
from phasma.posts.models import Post
from phasma.posts.queries import POST_COLUMNS, PostRow, post_page
from phasma.visibility import shows_posts

# The owner is the viewer: only they read their list, so `:viewer_id` is both. Saved
# posts they may no longer see (a block either way, a private author they stopped
# following) are left out, as everywhere.
_SAVED = f"""
    SELECT {POST_COLUMNS}, b.created AS bookmarked_at
    FROM bookmarks b JOIN posts p ON p.id = b.post_id
    JOIN users u ON u.id = p.user_id AND {shows_posts("u")}
    WHERE b.user_id = :viewer_id {{after}}
    ORDER BY b.created DESC, b.post_id DESC
    LIMIT :limit
"""
SAVED_FIRST_PAGE = _SAVED.format(after="")
# Keyset on the bookmark's (created, post_id): the order of bookmarks_user_id_created_post_id_idx.
SAVED_NEXT_PAGE = _SAVED.format(after=after_cursor("b.created", "b.post_id"))


def lock_post_key(executor: Executor, public_id: UUID) -> int | None:
    """The post's id, held against deletion until commit (so the insert's foreign key
    cannot fail under a concurrent delete); None when there is no such post."""
    post_id: int | None = executor.fetch_value(
        "SELECT id FROM posts WHERE public_id = :public_id FOR KEY SHARE", public_id=public_id
    )
    return post_id


def insert_bookmark(executor: Executor, user_id: int, post_id: int) -> None:
    """Save the post; a post already saved keeps its original bookmark time."""
    executor.execute(
        """
        INSERT INTO bookmarks (user_id, post_id) VALUES (:user_id, :post_id)
        ON CONFLICT (user_id, post_id) DO NOTHING
        """,
        user_id=user_id,
        post_id=post_id,
    )


def delete_bookmark(executor: Executor, user_id: int, post_id: int) -> None:
    executor.execute(
        "DELETE FROM bookmarks WHERE user_id = :user_id AND post_id = :post_id",
        user_id=user_id,
        post_id=post_id,
    )


def saved_posts(executor: Executor, viewer_id: int, page: PageRequest) -> Page[Post]:
    """One page of the posts the viewer saved, by bookmark time, newest first."""
    sql = SAVED_FIRST_PAGE if page.cursor is None else SAVED_NEXT_PAGE
    rows = executor.fetch_all_as(PostRow, sql, viewer_id=viewer_id, **cursor_params(page))
    return post_page(rows, page, sort_time="bookmarked_at")
