"""HTTP handlers of hashtags as places (docs/api.md §F), served by the `posts` function."""

from __future__ import annotations

from werkzeug import Response

from phasma.db.pool import Executor
from phasma.hashtags import actions, queries
from phasma.hashtags.models import NAME_PATTERN, Hashtag
from phasma.http.context import RequestContext
from phasma.http.errors import BadRequest, NotFound
from phasma.http.responses import json_response, no_content
from phasma.pagination import Page, parse_page_request
from phasma.posts.models import Post, post_json


def _name(context: RequestContext) -> str:
    """The lowercased `{name}`; anything that cannot be a hashtag is a 400."""
    name = context.params["name"]
    if not NAME_PATTERN.fullmatch(name):
        raise BadRequest("hashtag name is not valid")
    return name.lower()


def get_hashtag(context: RequestContext) -> Response:
    """`GET /hashtags/{name}`: the tag, its post count and whether the viewer follows it."""
    name = _name(context)
    viewer_id = context.viewer_id
    row = context.runtime.db.read(lambda executor: queries.tag(executor, name, viewer_id))
    if row is None:
        raise NotFound()
    return json_response(
        Hashtag(name=row["name"], post_count=row["post_count"], following=row["following"])
    )


def list_posts(context: RequestContext) -> Response:
    """`GET /hashtags/{name}/posts`: a cursor page of the tag's posts, newest first."""
    name = _name(context)
    page_request = parse_page_request(context.request.args)
    viewer_id = context.viewer_id

    def read(executor: Executor) -> Page[Post] | None:
        hashtag_id = queries.hashtag_id(executor, name)
        if hashtag_id is None:
            return None
        return queries.tagged_posts(executor, hashtag_id, viewer_id, page_request)

    page = context.runtime.db.read(read)
    if page is None:
        raise NotFound()
    return json_response(page.to_json(post_json))


def follow(context: RequestContext) -> Response:
    """`PUT /hashtags/{name}/follow`: follow the tag (idempotent)."""
    actions.follow(context.runtime.db, context.signed_in, _name(context))
    return no_content()


def unfollow(context: RequestContext) -> Response:
    """`DELETE /hashtags/{name}/follow`: stop following the tag (idempotent)."""
    actions.unfollow(context.runtime.db, context.signed_in, _name(context))
    return no_content()
