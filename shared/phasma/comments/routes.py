"""HTTP handlers of the `comments` function (docs/api.md §14.3)."""

from __future__ import annotations

from werkzeug import Response

from phasma.comments import actions, queries
from phasma.comments.models import Comment, CommentBody, check_comment, comment_json
from phasma.db.pool import Executor
from phasma.http.context import RequestContext
from phasma.http.errors import NotFound
from phasma.http.responses import json_response, no_content
from phasma.pagination import Page, parse_page_request


def list_comments(context: RequestContext) -> Response:
    """`GET /posts/{id}/comments`: a cursor page of the post's comments, newest first."""
    post_public_id = context.uuid_param("id")
    page_request = parse_page_request(context.request.args)

    viewer_id = context.viewer_id

    def read(executor: Executor) -> Page[Comment] | None:
        # A post the viewer may not see (docs/api.md §D, §E) is as unknown as a missing one.
        post_id = queries.shown_post_id(executor, post_public_id, viewer_id)
        if post_id is None:
            return None
        return queries.comments_on(executor, post_id, viewer_id, page_request)

    page = context.runtime.db.read(read)
    if page is None:
        raise NotFound()
    return json_response(page.to_json(comment_json))


def create_comment(context: RequestContext) -> Response:
    """`POST /posts/{id}/comments`: comment on a post; 201 with the Comment."""
    post_public_id = context.uuid_param("id")
    body = context.body(CommentBody).body.strip()
    check_comment(body)
    comment = actions.create_comment(context.runtime.db, context.signed_in, post_public_id, body)
    return json_response(comment, 201)


def delete_comment(context: RequestContext) -> Response:
    """`DELETE /posts/{id}/comments/{commentId}`: by the comment's or the post's author."""
    post_public_id = context.uuid_param("id")
    comment_public_id = context.uuid_param("commentId")
    actions.delete_comment(context.runtime.db, context.signed_in, post_public_id, comment_public_id)
    return no_content()
