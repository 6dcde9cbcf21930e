"""Search: discovery, results, typeahead suggestions and recent searches (docs/frontend.md §7.6)."""

from __future__ import annotations

from typing import Any

from werkzeug import Response

from phasma.config import Limits
from phasma.frontend.backend import BackendResponse, api_path
from phasma.frontend.context import Context, PageError, SignInRequired
from phasma.frontend.messages import status_message
from phasma.frontend.pages import cursor_param, items_of, page_of, submit, uuid_param
from phasma.frontend.rendering import avatar_url, search_url

# The results page's tabs (`?tab=`) and the `GET /search` type each one asks for.
TOP_TAB = "top"
RESULT_TABS = {TOP_TAB: "all", "accounts": "users", "tags": "hashtags", "posts": "posts"}
SECTION_KINDS = ("users", "hashtags", "posts")
# The blended page holds 4 accounts, 4 hashtags and 12 posts (docs/api.md §13.4 targets).
TOP_LIMIT = str(Limits.SEARCH_DEFAULT_LIMIT)
FIRST_PAGES = {"posts": "5"}  # docs/frontend.md §7.6: the posts list starts with 5
SUGGESTION_TYPES = {"users": "/users/search", "hashtags": "/hashtags/search"}
RECENT_TYPES = ("users", "hashtags", "posts")


def search(context: Context) -> Response:
    """`GET /search?q=&tab=`: discovery for an empty (or over-long) query, else results:
    the top matches of every kind, or one kind's full list."""
    query = context.request.args.get("q", "").strip()
    if not query or len(query) > Limits.SEARCH_QUERY_MAX_CHARS:
        return _discovery(context, query)
    return _results(context, query)


def suggest(context: Context) -> Response:
    """`GET /suggest?type=users|hashtags&q=`: at most 10 typeahead items as JSON."""
    kind = context.request.args.get("type", "")
    query = context.request.args.get("q", "").strip()
    if kind not in SUGGESTION_TYPES or not 1 <= len(query) <= Limits.SEARCH_QUERY_MAX_CHARS:
        return context.json({"items": []})
    response = context.api.get(SUGGESTION_TYPES[kind], q=query)
    if response.status == 401:
        raise SignInRequired()
    items = items_of(response)[: Limits.TYPEAHEAD_MAX_RESULTS] if response.ok else []
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
    if kind not in RECENT_TYPES or not 1 <= len(reference) <= Limits.SEARCH_QUERY_MAX_CHARS:
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
    tab = context.request.args.get("tab", "")
    if tab not in RESULT_TABS:
        tab = TOP_TAB
    # A leading `@` only says "a person"; a leading `#` filters posts by exact hashtag.
    backend_query = query[1:].strip() if query.startswith("@") else query
    cursor = cursor_param(context)
    found: list[dict[str, Any]] = []
    next_cursor: str | None = None
    if backend_query:
        kind = RESULT_TABS[tab]
        first_limit = TOP_LIMIT if tab == TOP_TAB else FIRST_PAGES.get(kind)
        response = context.api.get(
            "/search",
            q=backend_query,
            type=kind,
            limit=None if cursor else first_limit,
            cursor=None if tab == TOP_TAB else cursor,
        )
        if response.status == 401:
            raise SignInRequired()
        if response.ok:  # a failed search shows no results, never an error page
            found, next_cursor = page_of(response)
    if tab == TOP_TAB:
        next_cursor = None  # the tabs page the full lists; the top page is one screen
    if context.is_fragment:
        return context.render_fragment(
            "fragments/search_results.html", next_cursor, tab=tab, items=_shaped(tab, found)
        )
    sections = _sections(query, found) if tab == TOP_TAB else {}
    return context.render(
        "search.html",
        title=f'"{query}" - Search',
        query=query,
        tab=tab,
        tabs=RESULT_TABS,
        results=_shaped(tab, found) if tab != TOP_TAB else [],
        sections=sections,
        recent=[],
        suggested=[],
        popular=[],
        next_cursor=next_cursor,
        more_url=search_url(query, tab),
    )


def _shaped(tab: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One tab's hits, posts in the Post shape the thumbnail grid reads."""
    return [as_post(item) for item in items] if tab == "posts" else items


def _sections(query: str, items: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The blended page's items grouped by kind, the kinds in the order the query suggests."""
    grouped: dict[str, list[dict[str, Any]]] = {kind: [] for kind in SECTION_KINDS}
    for entry in items:
        kind = entry.get("type")
        item = entry.get("item")
        if kind in grouped and isinstance(item, dict):
            grouped[kind].append(as_post(item) if kind == "posts" else item)
    order = _section_order(query, grouped["users"])
    return {kind: grouped[kind] for kind in order}


def _section_order(query: str, users: list[dict[str, Any]]) -> tuple[str, ...]:
    """Accounts first for `@name` or a query that begins someone's username or name;
    hashtags first for `#tag`; otherwise posts first."""
    if query.startswith("#"):
        return ("hashtags", "posts", "users")
    needle = query.removeprefix("@").strip().lower()
    names = (str(user.get(field) or "").lower() for user in users for field in ("username", "name"))
    if query.startswith("@") or (needle and any(name.startswith(needle) for name in names)):
        return ("users", "hashtags", "posts")
    return ("posts", "users", "hashtags")


def _listed(response: BackendResponse) -> list[dict[str, Any]]:
    return items_of(response) if response.ok else []


def as_post(item: dict[str, Any]) -> dict[str, Any]:
    """A search hit in the Post shape the thumbnail grid reads."""
    return {
        "publicId": item.get("id"),
        "username": item.get("username"),
        "description": item.get("description"),
        "filename": item.get("filename"),
        "likes": item.get("likes", 0),
    }
