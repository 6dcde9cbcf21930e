"""A hashtag's page: the tag and its newest posts (`/tags/{name}`)."""

from __future__ import annotations

import re
from typing import Any

from werkzeug import Response

from phasma.frontend.context import Context, PageError
from phasma.frontend.pages import cursor_param, page_of
from phasma.frontend.pages.search import as_post
from phasma.frontend.rendering import tag_url

# A hashtag name as the backend stores it (api.md §13.4's `#tag` filter).
TAG_SHAPE = re.compile(r"[A-Za-z0-9_]{1,50}")
FIRST_PAGE = "12"


def tag_page(context: Context) -> Response:
    """`GET /tags/{name}`: the newest posts carrying `#name` (the backend's exact-hashtag
    filter of `GET /search`), with "Load More"."""
    name = context.params["name"]
    if not TAG_SHAPE.fullmatch(name):
        raise PageError(404)
    if name != name.lower():
        return context.redirect(tag_url(name))  # one address per tag
    cursor = cursor_param(context)
    response = context.expect(
        context.api.get(
            "/search",
            q=f"#{name}",
            type="posts",
            limit=None if cursor else FIRST_PAGE,
            cursor=cursor,
        )
    )
    items, next_cursor = page_of(response)
    posts = [as_post(item) for item in items]
    if context.is_fragment:
        return context.render_fragment("fragments/thumbnails.html", next_cursor, posts=posts)
    return context.render(
        "tag.html",
        title=f"#{name}",
        tag=_tag(name),
        posts=posts,
        next_cursor=next_cursor,
        more_url=tag_url(name),
    )


def _tag(name: str) -> dict[str, Any]:
    """What the header shows; counts and following join here once the API serves them."""
    return {"name": name}
