"""Save and unsave a post: idempotent, and private to the user who saved it.

Bookmarks are read only by their owner and feed no other part of the system (no
notification, feed, search or counter), so, like recent searches, they emit no events.
"""

from __future__ import annotations

from uuid import UUID

from phasma.auth.sessions import Viewer
from phasma.bookmarks import queries
from phasma.db.pool import Database
from phasma.errors import NotFound


def bookmark(database: Database, viewer: Viewer, post_public_id: UUID) -> None:
    """Save the post (own posts included); saving it again changes nothing. 404 if missing."""
    with database.transaction() as executor:
        post_id = queries.lock_post_key(executor, post_public_id)
        if post_id is None:
            raise NotFound()
        queries.insert_bookmark(executor, viewer.user_id, post_id)


def unbookmark(database: Database, viewer: Viewer, post_public_id: UUID) -> None:
    """Remove the viewer's bookmark; unsaving a post not saved changes nothing. 404 if missing."""
    with database.transaction() as executor:
        post_id = queries.lock_post_key(executor, post_public_id)
        if post_id is None:
            raise NotFound()
        queries.delete_bookmark(executor, viewer.user_id, post_id)
