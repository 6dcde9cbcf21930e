"""HTTP handlers of the `likes` function (docs/api.md §14.2)."""

from __future__ import annotations

from werkzeug import Response

from phasma.audience import audience
from phasma.db.pool import Executor
from phasma.http.context import RequestContext
from phasma.http.errors import Forbidden, NotFound
from phasma.http.responses import json_response, no_content
from phasma.likes import actions, queries
from phasma.pagination import Page, parse_page_request
from phasma.posts.models import Post, post_json


def like(context: RequestContext) -> Response:
    """`POST /posts/{id}/likes`: like the post (idempotent)."""
    actions.like(context.runtime.db, context.signed_in, context.uuid_param("id"))
    return no_content()


def unlike(context: RequestContext) -> Response:
    """`DELETE /posts/{id}/likes`: remove the caller's like (idempotent)."""
    actions.unlike(context.runtime.db, context.signed_in, context.uuid_param("id"))
    return no_content()


LIKES_ARE_PRIVATE = "Likes are visible to their owner only"


def list_liked(context: RequestContext) -> Response:
    """`GET /users/{username}/likes`: a cursor page of the posts the user liked; only the
    user may read it (docs/api.md §F.4), anyone else gets `403`, or `404` across a block
    (docs/api.md §D.8)."""
    page_request = parse_page_request(context.request.args)
    username = context.username_param(invalid=NotFound)
    viewer_id = context.signed_in.user_id

    def read(executor: Executor) -> tuple[int | None, Page[Post] | None]:
        account = audience(executor, username, viewer_id)
        owner_id = account.user_id if account else None
        if owner_id != viewer_id:
            return owner_id, None
        return owner_id, queries.liked_posts(executor, owner_id, viewer_id, page_request)

    owner_id, page = context.runtime.db.read(read)
    if owner_id is None:
        raise NotFound()
    if page is None:
        raise Forbidden(LIKES_ARE_PRIVATE)
    return json_response(page.to_json(post_json))
