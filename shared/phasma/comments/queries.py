"""SQL for comments: the Comment shape, the list by keyset, insert and delete."""

from __future__ import annotations

from typing import Any, TypedDict
from uuid import UUID

from phasma.comments.models import Comment
from phasma.db.pool import Executor
from phasma.pagination import Page, PageRequest, after_cursor, build_page, cursor_params
from phasma.visibility import shows_posts, visible

# A commenter the viewer may not meet (a block either way) is left out of the list.
_LIST = f"""
    SELECT c.id, c.public_id, c.body, c.created, u.username, u.avatar
    FROM comments c JOIN users u ON u.id = c.user_id AND {visible("u")}
    WHERE c.post_id = :post_id {{after}}
    ORDER BY c.created DESC, c.id DESC
    LIMIT :limit
"""
LIST_FIRST_PAGE = _LIST.format(after="")
LIST_NEXT_PAGE = _LIST.format(after=after_cursor("c.created", "c.id"))


def to_comment(row: dict[str, Any]) -> Comment:
    return Comment(
        id=row["public_id"],
        username=row["username"],
        avatar=row["avatar"],
        body=row["body"],
        created=row["created"],
    )


def shown_post_id(executor: Executor, public_id: UUID, viewer_id: int | None) -> int | None:
    """The post's id when the viewer may see it (`shows_posts` of its author), else None."""
    post_id: int | None = executor.fetch_value(
        f"""
        SELECT p.id FROM posts p JOIN users u ON u.id = p.user_id AND {shows_posts("u")}
        WHERE p.public_id = :public_id
        """,
        public_id=public_id,
        viewer_id=viewer_id,
    )
    return post_id


def comments_on(
    executor: Executor, post_id: int, viewer_id: int | None, page: PageRequest
) -> Page[Comment]:
    """One page of the post's comments the viewer may see, newest first."""
    sql = LIST_FIRST_PAGE if page.cursor is None else LIST_NEXT_PAGE
    rows = executor.fetch_all(sql, post_id=post_id, viewer_id=viewer_id, **cursor_params(page))
    trimmed = build_page(rows, page.limit, lambda row: (row["created"], row["id"]))
    return Page([to_comment(row) for row in trimmed.items], trimmed.next_cursor)


def insert_comment(executor: Executor, post_id: int, user_id: int, body: str) -> Comment:
    rows = executor.fetch_all(
        """
        WITH inserted AS (
            INSERT INTO comments (post_id, user_id, body) VALUES (:post_id, :user_id, :body)
            RETURNING public_id, user_id, body, created
        )
        SELECT inserted.public_id, inserted.body, inserted.created, u.username, u.avatar
        FROM inserted JOIN users u ON u.id = inserted.user_id
        """,
        post_id=post_id,
        user_id=user_id,
        body=body,
    )
    return to_comment(rows[0])


class CommentOnPost(TypedDict):
    """A comment and the post it is on, as a deletion checks and counts them."""

    user_id: int
    post_id: int
    post_author_id: int
    post_author_public_id: UUID


def lock_comment_on_post(
    executor: Executor, comment_public_id: UUID, post_public_id: UUID
) -> CommentOnPost | None:
    """The comment if it is on that post, with both authors; None otherwise.

    Locks the post row first, as a post deletion does before its cascade
    reaches the comments, so the two never wait on each other in a cycle.
    """
    return executor.fetch_one_as(
        CommentOnPost,
        """
        SELECT c.user_id, p.id AS post_id, p.user_id AS post_author_id,
               pu.public_id AS post_author_public_id
        FROM comments c
        JOIN posts p ON p.id = c.post_id
        JOIN users pu ON pu.id = p.user_id
        WHERE c.public_id = :comment_id AND p.public_id = :post_id
        FOR NO KEY UPDATE OF p
        """,
        comment_id=comment_public_id,
        post_id=post_public_id,
    )


def delete_comment(
    executor: Executor, comment_public_id: UUID, post_public_id: UUID, user_id: int
) -> bool:
    """Delete the comment if the caller wrote it or owns the post; False otherwise."""
    return bool(
        executor.execute(
            """
            DELETE FROM comments c USING posts p
            WHERE c.public_id = :comment_id AND c.post_id = p.id AND p.public_id = :post_id
              AND (c.user_id = :user_id OR p.user_id = :user_id)
            """,
            comment_id=comment_public_id,
            post_id=post_public_id,
            user_id=user_id,
        )
    )
