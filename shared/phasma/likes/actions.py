"""Like and unlike: idempotent, with an event only when a like row really changed."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from phasma.auth.sessions import Viewer
from phasma.db.pool import Database
from phasma.errors import Forbidden, NotFound
from phasma.events.catalogue import PostLikeChanged
from phasma.events.outbox import record_event
from phasma.follows.queries import blocked_between
from phasma.likes import queries
from phasma.posts.queries import count_likes, lock_post_for_activity

SOURCE = "likes"


def like(database: Database, viewer: Viewer, post_public_id: UUID) -> None:
    """Like the post (own posts included); liking it again changes nothing.

    404 if missing, 403 across a block between the viewer and the author.
    """
    _change(database, viewer, post_public_id, "phasma.post.liked")


def unlike(database: Database, viewer: Viewer, post_public_id: UUID) -> None:
    """Remove the viewer's like; unliking a post not liked changes nothing. 404 if missing."""
    _change(database, viewer, post_public_id, "phasma.post.unliked")


def _change(
    database: Database,
    viewer: Viewer,
    post_public_id: UUID,
    event_type: Literal["phasma.post.liked", "phasma.post.unliked"],
) -> None:
    liking = event_type == "phasma.post.liked"
    with database.transaction() as executor:
        post = lock_post_for_activity(executor, post_public_id)
        if post is None:
            raise NotFound()
        # Liking across a block is refused (docs/api.md §D); unliking stays allowed.
        if liking and blocked_between(executor, viewer.user_id, post["user_id"]):
            raise Forbidden("you cannot like this post")
        if liking:
            changed = queries.insert_like(executor, post["id"], viewer.user_id)
        else:
            changed = queries.delete_like(executor, post["id"], viewer.user_id)
        if not changed:
            return
        count_likes(executor, post["id"], 1 if liking else -1)
        record_event(
            executor,
            event_type=event_type,
            source_function=SOURCE,
            subject=str(post_public_id),
            payload=PostLikeChanged(
                post_id=post_public_id,
                actor_id=viewer.user_public_id,
                recipient_id=post["author_public_id"],
            ),
        )
