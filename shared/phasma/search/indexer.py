"""`search-indexer`: keeps the Meilisearch indexes current (docs/domain.md §5.5).

Every reaction is an upsert or a delete by primary key, so redelivered and
reordered-across-keys events are harmless. An event names what changed; the
document is re-read from PostgreSQL by that key and never taken from the payload:
the row as it is now is upserted, and a key with no row is deleted from the index.
So an older event never undoes a newer change, and a forged CloudEvent (docs/security.md
§7) can at most make the indexer re-read the truth. Without `MEILI_URL` there is
nothing to keep current (PostgreSQL search reads the tables), and every event is
acknowledged.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any
from uuid import UUID

import meilisearch

from phasma.config import Settings
from phasma.db.pool import Database
from phasma.events.catalogue import (
    HashtagUpdated,
    PostCreated,
    PostDeleted,
    PostUpdated,
    UserCreated,
    UserDeleted,
    UserModerated,
    UserUpdated,
)
from phasma.events.worker import Outcome, ReceivedEvent, Skip
from phasma.runtime import Runtime
from phasma.search import document_queries
from phasma.search.documents import HASHTAGS, POSTS, USERS, author_filter
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

    def delete_posts_of(self, author_id: UUID) -> None:
        """Delete every post document of one author, by a filter on `authorId`."""
        with engine_failures("MEILI_INDEXER_KEY"):
            self._client.index(POSTS.uid).delete_documents(filter=author_filter(author_id))


def _index_user(user_id: UUID, writer: IndexWriter, database: Database) -> bool:
    """Upsert the account's document, or delete it when the account is gone for readers
    (removed or suspended); returns whether it is live."""
    document = database.read(lambda executor: document_queries.user(executor, user_id))
    if document is None:
        writer.delete(USERS.uid, str(user_id))
        return False
    writer.upsert(USERS.uid, [document])
    return True


def _sync_posts_of(user_id: UUID, live: bool, writer: IndexWriter, database: Database) -> None:
    """Re-index every post of the account as it is now (username, `authorPrivate`), or
    delete their documents while the account is hidden: a suspended account's posts leave
    search with it and come back when it is reinstated."""
    if not live:
        writer.delete_posts_of(user_id)
        return
    after = 0
    while True:
        documents, after = database.read(
            partial(
                document_queries.posts_by_author_after,
                author_id=user_id,
                after=after,
                batch=REINDEX_BATCH,
            )
        )
        writer.upsert(POSTS.uid, documents)
        if len(documents) < REINDEX_BATCH:
            return


def _user_created(event: ReceivedEvent, writer: IndexWriter, database: Database) -> None:
    _index_user(event.payload(UserCreated).user_id, writer, database)


def _user_deleted(event: ReceivedEvent, writer: IndexWriter, database: Database) -> None:
    # Re-read, the account is gone: its document is deleted (the posts' go one by one,
    # with the remover's `post.deleted` events).
    _index_user(event.payload(UserDeleted).user_id, writer, database)


def _user_updated(event: ReceivedEvent, writer: IndexWriter, database: Database) -> None:
    user = event.payload(UserUpdated)
    live = _index_user(user.user_id, writer, database)
    # The posts carry the author's username and privacy, and leave search while the
    # account is suspended. The event does not say whether privacy or suspension changed
    # (only a rename is marked), so every update re-reads the posts as they are now.
    _sync_posts_of(user.user_id, live, writer, database)


def _user_moderated(event: ReceivedEvent, writer: IndexWriter, database: Database) -> None:
    # A suspension or reinstatement: the account and its posts follow its state now
    # (hidden while suspended), whichever of the two events came last.
    user_id = event.payload(UserModerated).user_id
    _sync_posts_of(user_id, _index_user(user_id, writer, database), writer, database)


def _upsert_post(post_id: UUID, writer: IndexWriter, database: Database) -> None:
    document = database.read(lambda executor: document_queries.post(executor, post_id))
    if document is None:
        raise Skip("the post no longer exists")
    writer.upsert(POSTS.uid, [document])


def _post_created(event: ReceivedEvent, writer: IndexWriter, database: Database) -> None:
    _upsert_post(event.payload(PostCreated).post_id, writer, database)


def _post_updated(event: ReceivedEvent, writer: IndexWriter, database: Database) -> None:
    # The document as the post is now: a late or repeated edit event never restores old text.
    _upsert_post(event.payload(PostUpdated).post_id, writer, database)


def _post_deleted(event: ReceivedEvent, writer: IndexWriter, database: Database) -> None:
    post_id = event.payload(PostDeleted).post_id
    document = database.read(lambda executor: document_queries.post(executor, post_id))
    # A post that still exists stays findable, whatever the event claims.
    if document is None:
        writer.delete(POSTS.uid, str(post_id))
    else:
        writer.upsert(POSTS.uid, [document])


def _hashtag_updated(event: ReceivedEvent, writer: IndexWriter, database: Database) -> None:
    name = event.payload(HashtagUpdated).name
    document = database.read(lambda executor: document_queries.hashtag(executor, name))
    # A tag with no live posts must not be found, so it leaves the index.
    if document is None:
        writer.delete(HASHTAGS.uid, name)
    else:
        writer.upsert(HASHTAGS.uid, [document])


REACTIONS: dict[str, Callable[[ReceivedEvent, IndexWriter, Database], None]] = {
    "phasma.user.created": _user_created,
    "phasma.user.updated": _user_updated,
    "phasma.user.deleted": _user_deleted,
    "phasma.user.suspended": _user_moderated,
    "phasma.user.reinstated": _user_moderated,
    "phasma.post.created": _post_created,
    "phasma.post.updated": _post_updated,
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


def engine_readiness(runtime: Runtime) -> Callable[[], None] | None:
    """The indexer's `/ready` check (its registry `readiness`): Meilisearch, when set."""
    settings = runtime.settings
    if not settings.meili_url:
        return None
    return lambda: engine_health(settings)


def handle(event: ReceivedEvent, runtime: Runtime) -> Outcome:
    """The `search-indexer` event handler (registry `event_handler`)."""
    settings = runtime.settings
    if not settings.meili_url:
        raise Skip("MEILI_URL is not set: PostgreSQL search needs no index")
    writer = IndexWriter(connect(settings.meili_url, settings.meili_indexer_key or ""))
    return apply(event, writer, runtime.db)
