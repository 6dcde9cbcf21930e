"""Search: discovery, results, typeahead suggestions and recent searches (frontend.md §7.6)."""

from __future__ import annotations

from typing import Any

from werkzeug import Response

from phasma.frontend.backend import BackendResponse, api_path
from phasma.frontend.context import Context, PageError, SignInRequired
from phasma.frontend.messages import status_message
from phasma.frontend.pages import cursor_param, items_of, page_of, submit, uuid_param
from phasma.frontend.rendering import avatar_url, search_url

QUERY_MAX_CHARS = 50
FIRST_RESULTS_PAGE = "5"
SUGGESTION_TYPES = {"users": "/users/search", "hashtags": "/hashtags/search"}
RECENT_TYPES = ("users", "hashtags", "posts")


def search(context: Context) -> Response:
    """`GET /search?q=`: discovery for an empty (or over-long) query, else the posts grid."""
    query = context.request.args.get("q", "").strip()
    if not query or len(query) > QUERY_MAX_CHARS:
        return _discovery(context, query)
    return _results(context, query)


def suggest(context: Context) -> Response:
    """`GET /suggest?type=users|hashtags&q=`: at most 10 typeahead items as JSON."""
    kind = context.request.args.get("type", "")
    query = context.request.args.get("q", "").strip()
    if kind not in SUGGESTION_TYPES or not 1 <= len(query) <= QUERY_MAX_CHARS:
        return context.json({"items": []})
    response = context.api.get(SUGGESTION_TYPES[kind], q=query)
    if response.status == 401:
        raise SignInRequired()
    items = items_of(response)[:10] if response.ok else []
    if kind == "users":
        items = [{**item, "avatarUrl": avatar_url(item.get("avatar"))} for item in items]
    return context.json({"items": items})


def record_recent(context: Context) -> Response:
    """`POST /search/recent` (JSON `{type, reference}`), fire-and-forget from the page."""
    body = context.json_body()
    if not isinstance(body, dict):
        raise PageError(400)
    kind = str(body.get("type") or "").strip()
    reference = str(body.get("reference") or "").strip()
    if kind not in RECENT_TYPES or not 1 <= len(reference) <= QUERY_MAX_CHARS:
        return context.failed(status_message(400), 400)
    if kind != "posts":
        reference = reference.lower()
    response = context.api.call(
        "POST", "/search/recent", json_body={"type": kind, "reference": reference}
    )
    if response.status == 401:
        raise SignInRequired()
    if not response.ok:
        return context.failed(status_message(response.status), response.status)
    return context.json({"ok": True})


def delete_recent(context: Context) -> Response:
    """`POST /search/recent/{id}/delete`."""
    recent_id = uuid_param(context, "recent_id")
    return submit(context, "DELETE", api_path("/search/recent/{}", recent_id), "/search")


def clear_recent(context: Context) -> Response:
    """`POST /search/recent/clear`."""
    return submit(context, "DELETE", "/search/recent", "/search")


def _discovery(context: Context, query: str) -> Response:
    recent, suggested, popular = context.api.gather(
        lambda: context.api.get("/search/recent"),
        lambda: context.api.get("/users/suggested"),
        lambda: context.api.get("/posts/popular"),
    )
    if 401 in (recent.status, suggested.status, popular.status):
        raise SignInRequired()
    return context.render(
        "search.html",
        title="Search",
        query=query,
        results=None,
        recent=_listed(recent),
        suggested=_listed(suggested),
        popular=_listed(popular),
        next_cursor=None,
        more_url="/search",
    )


def _results(context: Context, query: str) -> Response:
    # A leading `@` only says "a person"; a leading `#` filters by exact hashtag.
    backend_query = query[1:].strip() if query.startswith("@") else query
    cursor = cursor_param(context)
    found: list[dict[str, Any]] = []
    next_cursor: str | None = None
    if backend_query:
        response = context.api.get(
            "/search",
            q=backend_query,
            type="posts",
            limit=None if cursor else FIRST_RESULTS_PAGE,
            cursor=cursor,
        )
        if response.status == 401:
            raise SignInRequired()
        if response.ok:  # a failed search shows no results, never an error page
            items, next_cursor = page_of(response)
            found = [_as_post(item) for item in items]
    if context.is_fragment:
        return context.render_fragment("fragments/thumbnails.html", next_cursor, posts=found)
    return context.render(
        "search.html",
        title=f'"{query}" - Search',
        query=query,
        results=found,
        recent=[],
        suggested=[],
        popular=[],
        next_cursor=next_cursor,
        more_url=search_url(query),
    )


def _listed(response: BackendResponse) -> list[dict[str, Any]]:
    return items_of(response) if response.ok else []


def _as_post(item: dict[str, Any]) -> dict[str, Any]:
    """A search hit in the Post shape the thumbnail grid reads."""
    return {
        "publicId": item.get("id"),
        "username": item.get("username"),
        "description": item.get("description"),
        "filename": item.get("filename"),
        "likes": item.get("likes", 0),
    }
