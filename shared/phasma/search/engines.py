"""Which search engine serves this process, built once and kept by the runtime.

PostgreSQL serves search when `MEILI_URL` is unset, Meilisearch when it is set
(docs/api.md §13.1). Apart from `backend.py` so that the engines can import the interface
without a cycle.
"""

from __future__ import annotations

from phasma.config import Settings
from phasma.db.pool import Database
from phasma.runtime import Runtime
from phasma.search.backend import SearchBackend


def create_backend(settings: Settings, database: Database) -> SearchBackend:
    """Meilisearch when `MEILI_URL` is set, else PostgreSQL."""
    if settings.meili_url:
        # Imported here: functions on PostgreSQL search never load the client.
        from phasma.search.meilisearch_backend import MeilisearchSearch

        return MeilisearchSearch(settings.meili_url, settings.meili_search_key or "", database)
    from phasma.search.postgres_backend import PostgresSearch

    return PostgresSearch(database)


def backend_of(runtime: Runtime) -> SearchBackend:
    """This process's search engine, built on its first search and kept by the runtime."""
    return runtime.component("search", lambda runtime: create_backend(runtime.settings, runtime.db))
