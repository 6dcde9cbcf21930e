"""A hashtag's page: the tag, its post count, following it, and its newest posts
(`/tags/{name}`); readable signed out."""

from __future__ import annotations

import re
from typing import Any

from werkzeug import Response

from phasma.config import Limits
from phasma.frontend.backend import BackendResponse, api_path
from phasma.frontend.context import Context, PageError
from phasma.frontend.pages import cursor_param, page_of, submit
from phasma.frontend.rendering import tag_url

# A hashtag name as the backend stores it (docs/api.md §F's `{name}`).
TAG_SHAPE = re.compile(rf"[A-Za-z0-9_]{{1,{Limits.HASHTAG_MAX_CHARS}}}")
FIRST_PAGE = "12"


def tag_page(context: Context) -> Response:
    """`GET /tags/{name}`: the header from `GET /hashtags/{name}` and the newest posts from
    `GET /hashtags/{name}/posts`, side by side, with "Load More"."""
    name = _name(context)
    if name != name.lower():
        return context.redirect(tag_url(name))  # one address per tag
    cursor = cursor_param(context)

    def posts_call() -> BackendResponse:
        limit = None if cursor else FIRST_PAGE
        return context.api.get(api_path("/hashtags/{}/posts", name), limit=limit, cursor=cursor)

    if context.is_fragment:
        posts, next_cursor = _posts(context, posts_call())
        return context.render_fragment("fragments/thumbnails.html", next_cursor, posts=posts)
    tag_response, posts_response = context.api.gather(
        lambda: context.api.get(api_path("/hashtags/{}", name)), posts_call
    )
    posts, next_cursor = _posts(context, posts_response)
    return context.render(
        "tag.html",
        title=f"#{name}",
        tag=_tag(name, context.expect(tag_response, 200, 400, 404)),
        posts=posts,
        next_cursor=next_cursor,
        more_url=tag_url(name),
    )


def follow(context: Context) -> Response:
    """`POST /tags/{name}/follow`."""
    return _set_follow(context, "PUT")


def unfollow(context: Context) -> Response:
    """`POST /tags/{name}/unfollow`."""
    return _set_follow(context, "DELETE")


def _set_follow(context: Context, method: str) -> Response:
    name = _name(context).lower()
    location = context.next_path(tag_url(name))
    path = api_path("/hashtags/{}/follow", name)
    return submit(context, method, path, location, following=method == "PUT")


def _name(context: Context) -> str:
    name = context.params["name"]
    if not TAG_SHAPE.fullmatch(name):
        raise PageError(404)
    return name


def _posts(context: Context, response: BackendResponse) -> tuple[list[dict[str, Any]], str | None]:
    """The page of posts; a tag no post ever carried (404) has none."""
    if response.status == 404:
        return [], None
    return page_of(context.expect(response))


def _tag(name: str, response: BackendResponse) -> dict[str, Any]:
    """What the header shows. A tag no post ever carried has no count and cannot be
    followed; nor can `search`, whose `GET /hashtags/search` is the typeahead (400)."""
    body = response.json() if response.status == 200 else None
    if not isinstance(body, dict):
        return {"name": name, "known": False, "postCount": 0, "following": False}
    return {
        "name": name,
        "known": True,
        "postCount": body.get("postCount") or 0,
        "following": body.get("following") is True,
    }
