"""Search on PostgreSQL (docs/domain.md §6.4): trigram and full-text matching, no extra server.

Each index is a ranked query over the live tables; the statements are in `queries.py`.
"""

from __future__ import annotations

from collections.abc import Mapping

from phasma.db.pool import Database, Executor
from phasma.search import queries
from phasma.search.backend import BlendedHits
from phasma.search.models import HashtagHit, PostHit, UserHit
from phasma.search.query import PostQuery, SearchType


class PostgresSearch:
    """The PostgreSQL backend: every index is a ranked query over the live tables."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def users(self, text: str, offset: int, limit: int, viewer_id: int) -> list[UserHit]:
        return self._database.read(
            lambda executor: queries.user_hits(executor, text, offset, limit, viewer_id)
        )

    def hashtags(self, text: str, offset: int, limit: int) -> list[HashtagHit]:
        return self._database.read(
            lambda executor: queries.hashtag_hits(executor, text, offset, limit)
        )

    def posts(self, query: PostQuery, offset: int, limit: int, viewer_id: int) -> list[PostHit]:
        return self._database.read(
            lambda executor: queries.post_hits(executor, query, offset, limit, viewer_id)
        )

    def blended(
        self,
        text: str,
        posts: PostQuery,
        slices: Mapping[SearchType, tuple[int, int]],
        viewer_id: int,
    ) -> BlendedHits:
        # One connection for the three statements: each takes a few milliseconds, less
        # than the cost of borrowing two more connections to run them side by side.
        def run(executor: Executor) -> BlendedHits:
            return BlendedHits(
                users=queries.user_hits(executor, text, *slices["users"], viewer_id),
                posts=queries.post_hits(executor, posts, *slices["posts"], viewer_id),
                hashtags=queries.hashtag_hits(executor, text, *slices["hashtags"]),
            )

        return self._database.read(run)
