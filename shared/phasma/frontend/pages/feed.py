"""The feed (frontend.md §7.2)."""

from __future__ import annotations

from werkzeug import Response

from phasma.frontend.context import Context
from phasma.frontend.pages import cursor_param, page_of


def feed(context: Context) -> Response:
    """`GET /feed`: post cards, newest first; a fragment request gets the next page only."""
    response = context.expect(context.api.get("/feed", cursor=cursor_param(context)))
    posts, next_cursor = page_of(response)
    if context.is_fragment:
        return context.render_fragment("fragments/posts.html", next_cursor, posts=posts)
    return context.render(
        "feed.html", title="Feed", posts=posts, next_cursor=next_cursor, more_url="/feed"
    )
