"""SQL of hashtags as places: the tag, its posts newest first, and who follows it."""

from __future__ import annotations

from typing import TypedDict

from phasma.db.pool import Executor
from phasma.pagination import Page, PageRequest, after_cursor, cursor_params
from phasma.posts.models import Post
from phasma.posts.queries import POST_COLUMNS, PostRow, post_page
from phasma.visibility import shows_posts

# `following` is false anonymous: a NULL viewer id matches no row.
TAG = """
    SELECT h.id, h.name, h.post_count,
        EXISTS (
            SELECT 1 FROM hashtag_follows hf
            WHERE hf.user_id = CAST(:viewer_id AS bigint) AND hf.hashtag_id = h.id
        ) AS following
    FROM hashtags h WHERE h.name = :name
"""
# A link's (created, post_id) is its post's (created, id) (migration 0018), so the page is
# one range of post_hashtags_hashtag_id_created_post_id_idx, however large the tag. Each
# link is checked against the visibility rule before the cut (primary-key probes of its
# post, author, blocks and follows), so a page is full whenever enough visible posts
# exist; only the page's posts are then joined for their columns. The cursor is the
# link's own key.
_POSTS = f"""
    SELECT {POST_COLUMNS}, page.created AS tagged
    FROM (
        SELECT ph.post_id, ph.created FROM post_hashtags ph
        JOIN posts tagged ON tagged.id = ph.post_id
        JOIN users author ON author.id = tagged.user_id
        WHERE ph.hashtag_id = :hashtag_id AND {shows_posts("author")} {{after}}
        ORDER BY ph.created DESC, ph.post_id DESC
        LIMIT :limit
    ) AS page
    JOIN posts p ON p.id = page.post_id
    JOIN users u ON u.id = p.user_id
    ORDER BY page.created DESC, page.post_id DESC
"""
POSTS_FIRST_PAGE = _POSTS.format(after="")
POSTS_NEXT_PAGE = _POSTS.format(after=after_cursor("ph.created", "ph.post_id"))


class TagRow(TypedDict):
    id: int
    name: str
    post_count: int
    following: bool


def tag(executor: Executor, name: str, viewer_id: int | None) -> TagRow | None:
    """The tag's id, name, post count and whether the viewer follows it; None if unknown."""
    return executor.fetch_one_as(TagRow, TAG, name=name, viewer_id=viewer_id)


def hashtag_id(executor: Executor, name: str) -> int | None:
    found: int | None = executor.fetch_value(
        "SELECT id FROM hashtags WHERE name = :name", name=name
    )
    return found


def tagged_posts(
    executor: Executor, hashtag_id: int, viewer_id: int | None, page: PageRequest
) -> Page[Post]:
    """One page of the tag's posts, newest first."""
    sql = POSTS_FIRST_PAGE if page.cursor is None else POSTS_NEXT_PAGE
    rows = executor.fetch_all_as(
        PostRow, sql, hashtag_id=hashtag_id, viewer_id=viewer_id, **cursor_params(page)
    )
    return post_page(rows, page, sort_time="tagged")


def insert_follow(executor: Executor, user_id: int, hashtag_id: int) -> None:
    """Follow the tag; following it again keeps the first follow's time."""
    executor.execute(
        """
        INSERT INTO hashtag_follows (user_id, hashtag_id) VALUES (:user_id, :hashtag_id)
        ON CONFLICT (user_id, hashtag_id) DO NOTHING
        """,
        user_id=user_id,
        hashtag_id=hashtag_id,
    )


def delete_follow(executor: Executor, user_id: int, hashtag_id: int) -> None:
    executor.execute(
        "DELETE FROM hashtag_follows WHERE user_id = :user_id AND hashtag_id = :hashtag_id",
        user_id=user_id,
        hashtag_id=hashtag_id,
    )
