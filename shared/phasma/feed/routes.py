"""HTTP handler of the `feed` function (docs/api.md §14.4)."""

from __future__ import annotations

from werkzeug import Response

from phasma.feed import queries
from phasma.http.context import RequestContext
from phasma.http.responses import json_response
from phasma.pagination import parse_page_request
from phasma.posts.models import post_json


def feed(context: RequestContext) -> Response:
    """`GET /feed`: a cursor page of Posts for the viewer, newest post first."""
    page_request = parse_page_request(context.request.args)
    viewer_id = context.signed_in.user_id
    page = context.runtime.db.read(
        lambda executor: queries.feed_page(executor, viewer_id, page_request)
    )
    return json_response(page.to_json(post_json))
