"""`search-indexer`: keeps the Meilisearch indexes current from `entity-changes` (domain.md §5.5).

Every reaction is an upsert or a delete by primary key, so redelivered and
reordered-across-keys events are harmless. Post documents are built from the
current rows rather than the event, so a rename that was applied first is never
undone by an older post event. Without `MEILI_URL` there is nothing to keep
current (PostgreSQL search reads the tables), and every event is acknowledged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import meilisearch

from phasma.config import Settings
from phasma.db.pool import Database
from phasma.events.catalogue import (
    HashtagUpdated,
    PostCreated,
    PostDeleted,
    UserCreated,
    UserUpdated,
)
from phasma.events.worker import Outcome, ReceivedEvent, Skip
from phasma.runtime import Runtime
from phasma.search import document_queries
from phasma.search.documents import HASHTAGS, POSTS, USERS, hashtag_document, user_document
from phasma.search.meilisearch_backend import connect, engine_failures

# Documents per request when a rename re-indexes an author's posts.
REINDEX_BATCH = 500


class IndexWriter:
    """Upserts and deletes on the three indexes, with the indexer's scoped key."""

    def __init__(self, client: meilisearch.Client) -> None:
        self._client = client

    def upsert(self, index: str, documents: list[dict[str, Any]]) -> None:
        """Add or replace documents by primary key (Meilisearch applies tasks in order)."""
        if not documents:
            return
        with engine_failures("MEILI_INDEXER_KEY"):
            self._client.index(index).add_documents(documents)

    def delete(self, index: str, document_id: str) -> None:
        with engine_failures("MEILI_INDEXER_KEY"):
            self._client.index(index).delete_document(document_id)


def _user_created(event: ReceivedEvent, writer: IndexWriter, database: Database) -> None:
    user = event.payload(UserCreated)
    writer.upsert(USERS.uid, [user_document(user.user_id, user.username, user.name, user.avatar)])


def _user_updated(event: ReceivedEvent, writer: IndexWriter, database: Database) -> None:
    user = event.payload(UserUpdated)
    writer.upsert(USERS.uid, [user_document(user.user_id, user.username, user.name, user.avatar)])
    if user.previous_username is None:
        return
    # The posts carry the author's username: re-index all of them, as they are now.
    after = 0
    while True:
        documents, after = database.read(
            lambda executor, after=after: document_queries.posts_by_author_after(
                executor, user.user_id, after, REINDEX_BATCH
            )
        )
        writer.upsert(POSTS.uid, documents)
        if len(documents) < REINDEX_BATCH:
            return


def _post_created(event: ReceivedEvent, writer: IndexWriter, database: Database) -> None:
    post_id = event.payload(PostCreated).post_id
    document = database.read(lambda executor: document_queries.post(executor, post_id))
    if document is None:
        raise Skip("the post no longer exists")
    writer.upsert(POSTS.uid, [document])


def _post_deleted(event: ReceivedEvent, writer: IndexWriter, database: Database) -> None:
    writer.delete(POSTS.uid, str(event.payload(PostDeleted).post_id))


def _hashtag_updated(event: ReceivedEvent, writer: IndexWriter, database: Database) -> None:
    hashtag = event.payload(HashtagUpdated)
    # A tag with no live posts must not be found, so it leaves the index.
    if hashtag.post_count > 0:
        writer.upsert(HASHTAGS.uid, [hashtag_document(hashtag.name, hashtag.post_count)])
    else:
        writer.delete(HASHTAGS.uid, hashtag.name)


REACTIONS: dict[str, Callable[[ReceivedEvent, IndexWriter, Database], None]] = {
    "phasma.user.created": _user_created,
    "phasma.user.updated": _user_updated,
    "phasma.post.created": _post_created,
    "phasma.post.deleted": _post_deleted,
    "phasma.hashtag.updated": _hashtag_updated,
}


def apply(event: ReceivedEvent, writer: IndexWriter, database: Database) -> Outcome:
    """Apply one event to the indexes; `Skip` for a type the indexer does not react to."""
    reaction = REACTIONS.get(event.type)
    if reaction is None:
        raise Skip(f"the search indexer does not react to {event.type}")
    reaction(event, writer, database)
    return "applied"


def engine_health(settings: Settings) -> None:
    """Readiness of the indexer: Meilisearch answers `GET /health` (no key needed)."""
    with engine_failures():
        connect(settings.meili_url or "", "").health()


def handle(event: ReceivedEvent, runtime: Runtime) -> Outcome:
    """The `search-indexer` event handler (registry `event_handler`)."""
    settings = runtime.settings
    if not settings.meili_url:
        raise Skip("MEILI_URL is not set: PostgreSQL search needs no index")
    writer = IndexWriter(connect(settings.meili_url, settings.meili_indexer_key or ""))
    return apply(event, writer, runtime.db)
