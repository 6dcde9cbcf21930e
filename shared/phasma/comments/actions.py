"""Create and delete comments, each with its activity event in the same transaction."""

from __future__ import annotations

from uuid import UUID

from phasma.auth.sessions import Viewer
from phasma.comments import queries
from phasma.comments.models import Comment
from phasma.db.pool import Database, Executor
from phasma.errors import Forbidden, NotFound
from phasma.events.catalogue import CommentChanged
from phasma.events.outbox import record_event
from phasma.follows.queries import blocked_between
from phasma.posts.queries import count_comments, lock_post_for_activity

SOURCE = "comments"


def create_comment(database: Database, viewer: Viewer, post_public_id: UUID, body: str) -> Comment:
    """Comment on the post (404 if missing, 403 across a block); counts it and emits
    `phasma.comment.created`."""
    with database.transaction() as executor:
        post = lock_post_for_activity(executor, post_public_id)
        if post is None:
            raise NotFound()
        if blocked_between(executor, viewer.user_id, post["user_id"]):
            raise Forbidden("you cannot comment on this post")
        comment = queries.insert_comment(executor, post["id"], viewer.user_id, body)
        count_comments(executor, post["id"], 1)
        _record(
            executor,
            "phasma.comment.created",
            CommentChanged(
                comment_id=comment.id,
                post_id=post_public_id,
                actor_id=viewer.user_public_id,
                recipient_id=post["author_public_id"],
            ),
        )
    return comment


def delete_comment(
    database: Database, viewer: Viewer, post_public_id: UUID, comment_public_id: UUID
) -> None:
    """Delete a comment as its author or the post's author.

    404 when no such comment is on that post, 403 when the caller is neither
    author; emits `phasma.comment.deleted` with the caller as actor.
    """
    with database.transaction() as executor:
        found = queries.lock_comment_on_post(executor, comment_public_id, post_public_id)
        if found is None:
            raise NotFound()
        if viewer.user_id not in (found["user_id"], found["post_author_id"]):
            raise Forbidden()
        removed = remove_locked_comment(
            executor,
            found,
            comment_public_id,
            post_public_id,
            deleter_id=viewer.user_id,
            actor_public_id=viewer.user_public_id,
        )
        if not removed:
            raise NotFound()


def remove_locked_comment(
    executor: Executor,
    found: queries.CommentOnPost,
    comment_public_id: UUID,
    post_public_id: UUID,
    *,
    deleter_id: int,
    actor_public_id: UUID,
) -> bool:
    """Delete a comment locked with `queries.lock_comment_on_post` in the caller's
    transaction: the one deletion path, for its authors (`delete_comment`) and a
    moderator's `remove` (`phasma.moderation`, passing the comment's author as
    `deleter_id`). Counts it off the post and emits `phasma.comment.deleted` with
    `actor_public_id` as actor; False when the row was not deleted."""
    # Still matched on the deleter's right, not only on the caller's check (docs/api.md §5.5).
    if not queries.delete_comment(executor, comment_public_id, post_public_id, deleter_id):
        return False
    count_comments(executor, found["post_id"], -1)
    _record(
        executor,
        "phasma.comment.deleted",
        CommentChanged(
            comment_id=comment_public_id,
            post_id=post_public_id,
            actor_id=actor_public_id,
            recipient_id=found["post_author_public_id"],
        ),
    )
    return True


def _record(executor: Executor, event_type: str, payload: CommentChanged) -> None:
    # Subject is the comment; the key is the post, so one post's comment events stay in order.
    record_event(
        executor,
        event_type=event_type,
        source_function=SOURCE,
        subject=str(payload.comment_id),
        payload=payload,
        partition_key=str(payload.post_id),
    )
