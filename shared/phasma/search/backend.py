"""The interface both search engines implement, and the choice between them.

PostgreSQL serves search when `MEILI_URL` is unset, Meilisearch when it is set
(docs/api.md §13.1). Both return the same hit shapes in ranked order; neither is ever
asked to mix with the other within one paging sequence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, TypedDict

from phasma.config import Settings
from phasma.db.pool import Database
from phasma.failures import DependencyUnavailable
from phasma.search.models import HashtagHit, PostHit, UserHit
from phasma.search.query import PostQuery, SearchType


class SearchUnavailable(DependencyUnavailable):
    """The configured search engine failed or timed out (→ 503)."""


class BlendedHits(TypedDict):
    """Each index's hits for one blended page (the keys are the search types)."""

    users: list[UserHit]
    posts: list[PostHit]
    hashtags: list[HashtagHit]


class SearchBackend(Protocol):
    """A search engine: ranked hits of each index, best match first."""

    def users(self, text: str, offset: int, limit: int) -> list[UserHit]:
        """Users whose username or name match `text` (normalised, may be empty)."""
        ...

    def hashtags(self, text: str, offset: int, limit: int) -> list[HashtagHit]:
        """Hashtags with posts whose name matches `text`."""
        ...

    def posts(self, query: PostQuery, offset: int, limit: int) -> list[PostHit]:
        """Posts carrying `query.tag` (newest first), else matching its text."""
        ...

    def blended(
        self, text: str, posts: PostQuery, slices: Mapping[SearchType, tuple[int, int]]
    ) -> BlendedHits:
        """The three indexes at once, each from `(offset, limit)` of `slices`."""
        ...


def create_backend(settings: Settings, database: Database) -> SearchBackend:
    """Meilisearch when `MEILI_URL` is set, else PostgreSQL."""
    if settings.meili_url:
        # Imported here: functions on PostgreSQL search never load the client.
        from phasma.search.meilisearch_backend import MeilisearchSearch

        return MeilisearchSearch(settings.meili_url, settings.meili_search_key or "", database)
    from phasma.search.postgres_backend import PostgresSearch

    return PostgresSearch(database)
