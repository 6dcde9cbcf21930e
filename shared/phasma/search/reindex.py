"""Backfill Meilisearch from PostgreSQL (docs/operations.md §4 `search-reindex`).

    ./taskw search:reindex     # = python -m phasma.search.reindex

Loads all users, all posts with their hashtags and the hashtags with posts, in
batches, as the read-only `phasma_indexer` login (`DATABASE_URL` of
`phasma_indexer_user`) with the indexer's key (`MEILI_INDEXER_KEY`). Upserts by
primary key, so running it again, or while the indexer works, is harmless. A
progress bar per index goes to stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TextIO

from phasma.config import Settings, get_settings
from phasma.db.pool import Database, Executor
from phasma.search import document_queries
from phasma.search.documents import HASHTAGS, POSTS, USERS
from phasma.search.indexer import IndexWriter
from phasma.search.meilisearch_backend import connect

BATCH = 1000
BAR_WIDTH = 30

Batch = Callable[[Executor, int, int], tuple[list[dict[str, Any]], int]]
SOURCES: tuple[tuple[str, Batch], ...] = (
    (USERS.uid, document_queries.users_after),
    (POSTS.uid, document_queries.posts_after),
    (HASHTAGS.uid, document_queries.hashtags_after),
)


def progress_bar(label: str, done: int, total: int) -> str:
    """`posts     [###########...................]  36,000/100,000`."""
    filled = BAR_WIDTH if total == 0 else BAR_WIDTH * min(done, total) // total
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    return f"{label:<9} [{bar}] {done:>9,}/{total:,}"


def reindex_one(
    database: Database, writer: IndexWriter, index: str, batch: Batch, out: TextIO
) -> int:
    """Load every document of `index`; returns how many were sent."""
    total = database.read(lambda executor: document_queries.count(executor, index))
    done, after = 0, 0
    out.write(progress_bar(index, done, total))
    while True:
        documents, after = database.read(_next_batch(batch, after))
        writer.upsert(index, documents)
        done += len(documents)
        out.write("\r" + progress_bar(index, done, max(total, done)))
        out.flush()
        if len(documents) < BATCH:
            out.write("\n")
            return done


def _next_batch(batch: Batch, after: int) -> Callable[[Executor], tuple[list[dict[str, Any]], int]]:
    return lambda executor: batch(executor, after, BATCH)


def reindex(settings: Settings, out: TextIO) -> dict[str, int]:
    """Backfill the three indexes; returns the documents sent per index."""
    database = Database(settings, application_name="search-reindex")
    writer = IndexWriter(connect(settings.meili_url or "", settings.meili_indexer_key or ""))
    try:
        return {index: reindex_one(database, writer, index, batch, out) for index, batch in SOURCES}
    finally:
        database.close()


def main(settings: Settings | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    settings = settings or get_settings()
    if not settings.meili_url:
        print(
            "search:reindex: MEILI_URL is not set; PostgreSQL search needs no index",
            file=sys.stderr,
        )
        return 2
    if not settings.database_url:
        print("search:reindex: DATABASE_URL is not set", file=sys.stderr)
        return 2
    try:
        sent = reindex(settings, sys.stderr)
    except Exception as error:  # one line saying why, not a stack
        print(f"search:reindex failed: {error}", file=sys.stderr)
        return 1
    print(", ".join(f"{index}: {count}" for index, count in sent.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
