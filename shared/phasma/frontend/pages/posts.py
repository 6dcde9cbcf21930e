"""The post page, likes, bookmarks, comments and deleting a post (docs/frontend.md §7.3, §7.4)."""

from __future__ import annotations

from typing import Any

from werkzeug import Response

from phasma.config import Limits
from phasma.frontend.backend import BackendResponse, api_path
from phasma.frontend.context import Context, PageError, SignInRequired
from phasma.frontend.cookies import set_flash
from phasma.frontend.messages import POST_DELETED, status_message
from phasma.frontend.pages import cursor_param, page_of, submit, uuid_param
from phasma.frontend.rendering import title_snippet
from phasma.frontend.sharing import post_meta

COMMENT_LENGTH_MESSAGE = f"Comment must be 1\u2013{Limits.COMMENT_MAX_CHARS} characters."  # en dash
POST_NOT_FOUND = "Post not found"


def post_page(context: Context) -> Response:
    """`GET /posts/{id}`: the post and its comments, for anyone (docs/api.md §F: public reading)."""
    post_id = uuid_param(context, "post_id")
    if context.is_fragment:
        return _comments_fragment(context, post_id)
    return _render_post(context, post_id)


def like(context: Context) -> Response:
    """`POST /posts/{id}/like`."""
    return _set_like(context, "POST")


def unlike(context: Context) -> Response:
    """`POST /posts/{id}/unlike`."""
    return _set_like(context, "DELETE")


def save(context: Context) -> Response:
    """`POST /posts/{id}/save`: bookmark the post."""
    return _set_bookmark(context, "PUT")


def unsave(context: Context) -> Response:
    """`POST /posts/{id}/unsave`: remove the bookmark."""
    return _set_bookmark(context, "DELETE")


def add_comment(context: Context) -> Response:
    """`POST /posts/{id}/comments`: the trimmed body, 1 to 400 characters."""
    post_id = uuid_param(context, "post_id")
    body = context.field("body").strip()
    if not 1 <= len(body) <= Limits.COMMENT_MAX_CHARS:
        return _comment_failed(context, post_id, body, COMMENT_LENGTH_MESSAGE, 400)
    response = context.api.call(
        "POST", api_path("/posts/{}/comments", post_id), json_body={"body": body}
    )
    if response.status == 401:
        raise SignInRequired()
    comment = response.json()
    if response.status != 201 or not isinstance(comment, dict):
        return _comment_failed(
            context, post_id, body, status_message(response.status), response.status
        )
    location = f"/posts/{post_id}#comments"
    if context.wants_json:
        html = context.render_partial(
            "partials/comment.html", comment=comment, post_id=post_id, post_owner=None
        )
        return context.json({"ok": True, "html": html})
    return context.redirect(location)


def delete_comment(context: Context) -> Response:
    """`POST /posts/{id}/comments/{cid}/delete`, after the dialog or the confirmation page."""
    post_id = uuid_param(context, "post_id")
    comment_id = uuid_param(context, "comment_id")
    path = api_path("/posts/{}/comments/{}", post_id, comment_id)
    return submit(context, "DELETE", path, context.next_path(f"/posts/{post_id}#comments"))


def confirm_delete_comment(context: Context) -> Response:
    """`GET /posts/{id}/comments/{cid}/delete`: the confirmation a visitor without JS gets
    (the backend decides on the `POST` whether this visitor may delete it)."""
    post_id = uuid_param(context, "post_id")
    comment_id = uuid_param(context, "comment_id")
    context.require_viewer()
    return context.render(
        "delete_confirm.html",
        title="Delete comment",
        heading="Delete comment?",
        text="This will permanently remove this comment.",
        action=f"/posts/{post_id}/comments/{comment_id}/delete",
        cancel=f"/posts/{post_id}#comment-{comment_id}",
    )


def confirm_delete(context: Context) -> Response:
    """`GET /posts/{id}/delete`: the confirmation page a visitor without JS gets."""
    post_id = uuid_param(context, "post_id")
    post = fetch_post(context, post_id)
    viewer = context.require_viewer()
    if post.get("username") != viewer.get("username"):
        raise PageError(403)
    return context.render(
        "delete_confirm.html",
        title="Delete post",
        heading="Delete post?",
        text="This will permanently remove this photo from your profile and feed.",
        action=f"/posts/{post_id}/delete",
        cancel=f"/posts/{post_id}",
    )


def delete_post(context: Context) -> Response:
    """`POST /posts/{id}/delete`: then the feed, which says "Post deleted." once."""
    post_id = uuid_param(context, "post_id")
    response = submit(context, "DELETE", api_path("/posts/{}", post_id), "/feed", redirect="/feed")
    if response.status_code < 400:
        set_flash(response, POST_DELETED, secure=context.secure)
    return response


def _set_like(context: Context, method: str) -> Response:
    post_id = uuid_param(context, "post_id")
    location = context.next_path(f"/posts/{post_id}")
    path = api_path("/posts/{}/likes", post_id)
    return submit(context, method, path, location, liked=method == "POST")


def _set_bookmark(context: Context, method: str) -> Response:
    post_id = uuid_param(context, "post_id")
    location = context.next_path(f"/posts/{post_id}")
    path = api_path("/posts/{}/bookmark", post_id)
    return submit(context, method, path, location, saved=method == "PUT")


def fetch_post(context: Context, post_id: str) -> dict[str, Any]:
    """`GET /posts/{id}`; a missing post is the "Post not found" page."""
    return _post_from(context, context.api.get(api_path("/posts/{}", post_id)))


def _post_from(context: Context, response: BackendResponse) -> dict[str, Any]:
    if response.status in (400, 404):
        raise PageError(404, POST_NOT_FOUND)
    post = context.expect(response).json()
    if not isinstance(post, dict):
        raise PageError(502)
    return post


def _render_post(
    context: Context,
    post_id: str,
    *,
    comment_error: str | None = None,
    comment_body: str = "",
    status: int = 200,
) -> Response:
    post_call = context.api.backend.submit(lambda: context.api.get(api_path("/posts/{}", post_id)))
    comments: list[dict[str, Any]] = []
    next_cursor: str | None = None
    # Signed out too: the list is an optional-session read, so a shared link shows it.
    response = context.api.get(
        api_path("/posts/{}/comments", post_id), cursor=cursor_param(context)
    )
    if response.ok:
        comments, next_cursor = page_of(response)
    comments_failed = not response.ok
    post = _post_from(context, post_call.result())
    return context.render(
        "post.html",
        title=title_snippet(post.get("description"), "Post"),
        status=status,
        post=post,
        comments=comments,
        next_cursor=next_cursor,
        more_url=f"/posts/{post_id}",
        comments_failed=comments_failed,
        comment_error=comment_error,
        comment_body=comment_body,
        meta=post_meta(context.settings.public_origin, post),
    )


def _comments_fragment(context: Context, post_id: str) -> Response:
    post_call = context.api.backend.submit(lambda: context.api.get(api_path("/posts/{}", post_id)))
    response = context.expect(
        context.api.get(api_path("/posts/{}/comments", post_id), cursor=cursor_param(context))
    )
    comments, next_cursor = page_of(response)
    post = _post_from(context, post_call.result())
    return context.render_fragment(
        "fragments/comments.html",
        next_cursor,
        comments=comments,
        post_id=post_id,
        post_owner=post.get("username"),
    )


def _comment_failed(
    context: Context, post_id: str, body: str, message: str, status: int
) -> Response:
    if context.wants_json:
        return context.failed(message, status)
    return _render_post(context, post_id, comment_error=message, comment_body=body, status=status)
