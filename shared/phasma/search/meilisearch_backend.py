"""Search on Meilisearch (docs/api.md §13.1, docs/domain.md §6.2), with the search-only scoped key.

Every value travels as a structured field of the request (`q`, `offset`, `limit`,
`sort`); filter strings are built only by `hashtag_filter_expression` from a validated
tag and by the audience filters of `documents.py` from UUIDs read from PostgreSQL (the
viewer's blocks either way, and the private accounts they may see: the one visibility
rule of docs/api.md §D and §E, as lists an engine can filter by). A failure or a 5 s
timeout is `SearchUnavailable` (→ 503); results are never mixed with PostgreSQL's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import meilisearch
from meilisearch.errors import MeilisearchApiError, MeilisearchError

from phasma.audience import audience_lists
from phasma.config import Limits
from phasma.db.pool import Database
from phasma.search.backend import BlendedHits, SearchUnavailable
from phasma.search.documents import (
    HASHTAGS,
    POSTS,
    USERS,
    SearchAudience,
    hashtag_filter_expression,
    posts_audience_filter,
    users_audience_filter,
)
from phasma.search.models import HashtagHit, PostHit, UserHit
from phasma.search.queries import like_counts
from phasma.search.query import PostQuery, SearchType

log = logging.getLogger(__name__)


def connect(url: str, key: str) -> meilisearch.Client:
    """A client that gives up after the contract's 5 s."""
    return meilisearch.Client(url, key, timeout=Limits.SEARCH_ENGINE_TIMEOUT_SECONDS)


# Meilisearch's answer to a request without a key (401) or with one it does not
# accept for the action (403).
_KEY_REFUSED_STATUSES = frozenset({401, 403})


@contextmanager
def engine_failures(key_variable: str | None = None) -> Iterator[None]:
    """Turn any client error (unreachable, timeout, API error) into `SearchUnavailable`.

    `key_variable` names the setting the client's key came from, so a refused key
    says which variable to fix instead of surfacing as a bare API error.
    """
    try:
        yield
    except MeilisearchError as error:
        raise SearchUnavailable(_failure_message(error, key_variable)) from error


def _failure_message(error: MeilisearchError, key_variable: str | None) -> str:
    """What the log says of a failed call: the key's variable when the key was refused."""
    if (
        key_variable is None
        or not isinstance(error, MeilisearchApiError)
        or error.status_code not in _KEY_REFUSED_STATUSES
    ):
        return f"meilisearch: {error}"
    problem = "is unset" if error.status_code == 401 else "was refused"
    return (
        f"meilisearch: {key_variable} {problem} ({error.code}); "
        "`python -m phasma.search.setup` creates the scoped keys"
    )


def users_query(text: str, offset: int, limit: int, audience: SearchAudience) -> dict[str, Any]:
    query: dict[str, Any] = {"indexUid": USERS.uid, "q": text, "offset": offset, "limit": limit}
    clauses = users_audience_filter(audience)
    if clauses:
        query["filter"] = clauses
    return query


def hashtags_query(text: str, offset: int, limit: int) -> dict[str, Any]:
    return {"indexUid": HASHTAGS.uid, "q": text, "offset": offset, "limit": limit}


def posts_query(
    query: PostQuery, offset: int, limit: int, audience: SearchAudience
) -> dict[str, Any]:
    """A tag filter, newest first, with an empty text query; else a ranked text query;
    either way only the posts the viewer may see (the audience clauses)."""
    audience_clauses = posts_audience_filter(audience)
    if query.tag is not None:
        return {
            "indexUid": POSTS.uid,
            "q": "",
            "filter": [hashtag_filter_expression(query.tag), *audience_clauses],
            "sort": ["created:desc"],
            "offset": offset,
            "limit": limit,
        }
    return {
        "indexUid": POSTS.uid,
        "q": query.text,
        "filter": audience_clauses,
        "offset": offset,
        "limit": limit,
    }


def user_hit(document: Mapping[str, Any]) -> UserHit:
    return UserHit(
        username=document["username"], name=document["name"], avatar=document.get("avatar")
    )


def hashtag_hit(document: Mapping[str, Any]) -> HashtagHit:
    return HashtagHit(name=document["name"], post_count=document["postCount"])


def post_hit(document: Mapping[str, Any], likes: Mapping[str, int]) -> PostHit:
    return PostHit(
        id=document["postId"],
        username=document["username"],
        description=document.get("description") or "",
        filename=document["filename"],
        likes=likes.get(document["postId"], 0),
    )


class MeilisearchSearch:
    """The Meilisearch backend; `likes` come from PostgreSQL at response time."""

    def __init__(self, url: str, key: str, database: Database) -> None:
        self._client = connect(url, key)
        self._database = database

    def users(self, text: str, offset: int, limit: int, viewer_id: int) -> list[UserHit]:
        # An empty query would be Meilisearch's "placeholder search": every document.
        if not text:
            return []
        [hits] = self._search([users_query(text, offset, limit, self._audience(viewer_id))])
        return [user_hit(hit) for hit in hits]

    def hashtags(self, text: str, offset: int, limit: int) -> list[HashtagHit]:
        if not text:
            return []
        [hits] = self._search([hashtags_query(text, offset, limit)])
        return [hashtag_hit(hit) for hit in hits]

    def posts(self, query: PostQuery, offset: int, limit: int, viewer_id: int) -> list[PostHit]:
        if query.tag is None and not query.text:
            return []
        [hits] = self._search([posts_query(query, offset, limit, self._audience(viewer_id))])
        return self._with_likes(hits)

    def blended(
        self,
        text: str,
        posts: PostQuery,
        slices: Mapping[SearchType, tuple[int, int]],
        viewer_id: int,
    ) -> BlendedHits:
        # One multi-search request asks the three indexes side by side.
        queries: list[dict[str, Any]] = []
        kinds: list[SearchType] = []
        has_posts = posts.tag is not None or bool(posts.text)
        audience = self._audience(viewer_id) if text or has_posts else None
        if text and audience is not None:
            queries += [
                users_query(text, *slices["users"], audience),
                hashtags_query(text, *slices["hashtags"]),
            ]
            kinds += ["users", "hashtags"]
        if has_posts and audience is not None:
            queries.append(posts_query(posts, *slices["posts"], audience))
            kinds.append("posts")
        found = dict(zip(kinds, self._search(queries), strict=True)) if queries else {}
        return BlendedHits(
            users=[user_hit(hit) for hit in found.get("users", [])],
            posts=self._with_likes(found.get("posts", [])),
            hashtags=[hashtag_hit(hit) for hit in found.get("hashtags", [])],
        )

    def _audience(self, viewer_id: int) -> SearchAudience:
        """The viewer's blocks and visible private accounts, read for each search: a block
        or an unfollow takes effect on the next one, as on PostgreSQL."""
        hidden, private_shown = self._database.read(
            lambda executor: audience_lists(executor, viewer_id)
        )
        return SearchAudience(hidden=tuple(hidden), private_shown=tuple(private_shown))

    def _search(self, queries: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
        with engine_failures("MEILI_SEARCH_KEY"):
            response = self._client.multi_search(queries)
        return [result["hits"] for result in response["results"]]

    def _with_likes(self, hits: list[dict[str, Any]]) -> list[PostHit]:
        likes = self._likes([hit["postId"] for hit in hits])
        return [post_hit(hit, likes) for hit in hits]

    def _likes(self, post_ids: list[str]) -> dict[str, int]:
        """Current like counts by post id; a failed lookup shows 0 rather than failing search."""
        if not post_ids:
            return {}
        try:
            return self._database.read(lambda executor: like_counts(executor, post_ids))
        except Exception:
            log.warning("like counts unavailable; showing 0", exc_info=True)
            return {}
