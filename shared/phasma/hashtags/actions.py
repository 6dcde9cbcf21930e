"""Follow and unfollow a hashtag: idempotent, and no events.

The feed merges the posts of followed tags when it is read (phasma.feed.queries), so
no worker has anything to do when a follow changes, and a tag has no one to notify:
like bookmarks and recent searches, these writes record no outbox event.
"""

from __future__ import annotations

from phasma.auth.sessions import Viewer
from phasma.db.pool import Database
from phasma.errors import NotFound
from phasma.hashtags import queries


def follow(database: Database, viewer: Viewer, name: str) -> None:
    """Follow the tag `name`; following it already changes nothing. 404 if unknown."""
    with database.transaction() as executor:
        hashtag_id = queries.hashtag_id(executor, name)
        if hashtag_id is None:
            raise NotFound()
        queries.insert_follow(executor, viewer.user_id, hashtag_id)


def unfollow(database: Database, viewer: Viewer, name: str) -> None:
    """Stop following the tag `name`; not following it changes nothing. 404 if unknown."""
    with database.transaction() as executor:
        hashtag_id = queries.hashtag_id(executor, name)
        if hashtag_id is None:
            raise NotFound()
        queries.delete_follow(executor, viewer.user_id, hashtag_id)
