"""HTTP handlers of bookmarks (docs/api.md §F), served by the `likes` function."""

from __future__ import annotations

from werkzeug import Response

from phasma.bookmarks import actions, queries
from phasma.http.context import RequestContext
from phasma.http.responses import json_response, no_content
from phasma.pagination import parse_page_request
from phasma.posts.models import post_json


def bookmark(context: RequestContext) -> Response:
    """`PUT /posts/{id}/bookmark`: save the post (idempotent)."""
    actions.bookmark(context.runtime.db, context.signed_in, context.uuid_param("id"))
    return no_content()


def unbookmark(context: RequestContext) -> Response:
    """`DELETE /posts/{id}/bookmark`: remove the caller's bookmark (idempotent)."""
    actions.unbookmark(context.runtime.db, context.signed_in, context.uuid_param("id"))
    return no_content()


def list_bookmarks(context: RequestContext) -> Response:
    """`GET /users/me/bookmarks`: a cursor page of the posts the caller saved."""
    page_request = parse_page_request(context.request.args)
    viewer_id = context.signed_in.user_id
    page = context.runtime.db.read(
        lambda executor: queries.saved_posts(executor, viewer_id, page_request)
    )
    return json_response(page.to_json(post_json))
