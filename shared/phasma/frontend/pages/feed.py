"""The home page and the feed (docs/frontend.md §7.2)."""

from __future__ import annotations

from typing import Any

from werkzeug import Response

from phasma.frontend.context import Context
from phasma.frontend.pages import cursor_param, items_of, page_of

POPULAR_SHOWN = 12  # four rows of the three-column grid


def home(context: Context) -> Response:
    """`GET /`: the feed for a signed-in visitor; for a stranger, what Phasma is, this
    week's popular photos, and the ways in (sign up, log in)."""
    if context.has_session:
        return context.redirect("/feed")
    response = context.api.get("/posts/popular")
    posts = items_of(response)[:POPULAR_SHOWN] if response.ok else []
    return context.render("landing.html", title="Share photos with friends", posts=posts)


def feed(context: Context) -> Response:
    """`GET /feed`: post cards, newest first; a fragment request gets the next page only.
    An empty first page suggests accounts to follow (`GET /users/suggested`)."""
    cursor = cursor_param(context)
    response = context.expect(context.api.get("/feed", cursor=cursor))
    posts, next_cursor = page_of(response)
    if context.is_fragment:
        return context.render_fragment("fragments/posts.html", next_cursor, posts=posts)
    suggested: list[dict[str, Any]] = []
    if not posts and cursor is None:
        suggestions = context.api.get("/users/suggested")
        suggested = items_of(suggestions) if suggestions.ok else []  # a nicety: never fatal
    return context.render(
        "feed.html",
        title="Feed",
        posts=posts,
        next_cursor=next_cursor,
        more_url="/feed",
        suggested=suggested,
    )
