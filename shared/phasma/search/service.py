"""Search requests served by whichever backend is configured (docs/api.md §13.3-§13.4)."""

from __future__ import annotations

from collections.abc import Sequence

from phasma.config import Limits
from phasma.db.pool import Database, Executor
from phasma.pagination import encode_offset
from phasma.search.backend import SearchBackend
from phasma.search.blend import blend, fetch_sizes, offset_of
from phasma.search.models import BlendedItem, HashtagHit, Hit, SearchPage, UserHit
from phasma.search.query import SEARCH_TYPES, PostQuery, SearchRequest, normalise

_FOLLOWED_AMONG = """
SELECT users.username
FROM follows JOIN users ON users.id = follows.followee_id
WHERE follows.follower_id = :viewer_id AND users.username = ANY(CAST(:usernames AS text[]))
"""


def typeahead_users(backend: SearchBackend, query: str, viewer_id: int) -> list[UserHit]:
    """Up to 10 users for `GET /users/search`, best match first."""
    return backend.users(normalise(query), 0, Limits.TYPEAHEAD_MAX_RESULTS, viewer_id)


def typeahead_hashtags(backend: SearchBackend, query: str) -> list[HashtagHit]:
    """Up to 10 hashtags for `GET /hashtags/search`, best match first."""
    return backend.hashtags(normalise(query), 0, Limits.TYPEAHEAD_MAX_RESULTS)


def search(
    backend: SearchBackend, database: Database, request: SearchRequest, viewer_id: int
) -> SearchPage:
    """One page of `GET /search`: a single type, or the blended page of `type=all`."""
    if request.kind == "all":
        return _blended(backend, database, request, viewer_id)
    # One hit past the page proves there is a next one, so no page is ever empty but the first.
    size = request.limit + 1
    hits: list[Hit]
    if request.kind == "users":
        hits = list(backend.users(request.text, request.offset, size, viewer_id))
    elif request.kind == "hashtags":
        hits = list(backend.hashtags(request.text, request.offset, size))
    else:
        hits = list(backend.posts(_post_query(request), request.offset, size, viewer_id))
    more = len(hits) > request.limit
    items: list[Hit | BlendedItem] = list(hits[: request.limit])
    return SearchPage(
        items=items,
        next_cursor=encode_offset(request.offset + request.limit) if more else None,
    )


def _post_query(request: SearchRequest) -> PostQuery:
    if request.posts is None:
        raise ValueError(f"a {request.kind} search has no posts query")
    return request.posts


def _blended(
    backend: SearchBackend, database: Database, request: SearchRequest, viewer_id: int
) -> SearchPage:
    sizes = fetch_sizes(request.limit)
    slices = {kind: (offset_of(request.offsets, kind), sizes[kind]) for kind in SEARCH_TYPES}
    fetched = backend.blended(request.text, _post_query(request), slices, viewer_id)
    users = fetched["users"]
    followed = (
        database.read(lambda executor: _followed_among(executor, viewer_id, users))
        if users
        else set()
    )
    page = blend(
        request.limit,
        request.offsets,
        {kind: fetched[kind] for kind in SEARCH_TYPES},
        is_followed=lambda user: user.username in followed,
    )
    return SearchPage(
        items=[BlendedItem(type=kind, item=hit) for kind, hit in page.items],
        next_cursor=page.next_offsets.encode() if page.next_offsets else None,
    )


def _followed_among(executor: Executor, viewer_id: int, users: Sequence[UserHit]) -> set[str]:
    rows = executor.fetch_all(
        _FOLLOWED_AMONG, viewer_id=viewer_id, usernames=[user.username for user in users]
    )
    return {row["username"] for row in rows}
