"""The interface both search engines implement (`engines.py` chooses between them).

PostgreSQL serves search when `MEILI_URL` is unset, Meilisearch when it is set
(docs/api.md §13.1). Both return the same hit shapes in ranked order; neither is ever
asked to mix with the other within one paging sequence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, TypedDict

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

    def users(self, text: str, offset: int, limit: int, viewer_id: int) -> list[UserHit]:
        """Users whose username or name match `text` (normalised, may be empty), leaving
        out any the viewer may not meet (a block either way, docs/api.md §D)."""
        ...

    def hashtags(self, text: str, offset: int, limit: int) -> list[HashtagHit]:
        """Hashtags with posts whose name matches `text`."""
        ...

    def posts(self, query: PostQuery, offset: int, limit: int, viewer_id: int) -> list[PostHit]:
        """Posts carrying `query.tag` (newest first), else matching its text; only posts
        the viewer may see (no block either way; a private author's only when followed)."""
        ...

    def blended(
        self,
        text: str,
        posts: PostQuery,
        slices: Mapping[SearchType, tuple[int, int]],
        viewer_id: int,
    ) -> BlendedHits:
        """The three indexes at once, each from `(offset, limit)` of `slices`."""
        ...
