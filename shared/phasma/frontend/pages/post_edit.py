"""Editing a post's caption and alt text (docs/api.md §C): a page of its own, no script needed.

The lengths are checked here for the form's copy only; `PATCH /posts/{id}` is
authoritative (docs/api.md §15.1), and says who may edit (the author: others get 403).
"""

from __future__ import annotations

from typing import Any

from werkzeug import Response

from phasma.frontend.backend import api_path
from phasma.frontend.context import Context, PageError, SignInRequired
from phasma.frontend.cookies import set_flash
from phasma.frontend.messages import POST_UPDATED
from phasma.frontend.pages import uuid_param
from phasma.frontend.pages.posts import POST_NOT_FOUND, fetch_post
from phasma.frontend.pages.upload import ALT_TEXT_MAX_CHARS, CAPTION_MAX_CHARS

EDIT_FAILED = "Could not save your changes. Please try again."


def edit_page(context: Context) -> Response:
    """`GET /posts/{id}/edit`: the author's form, filled with the current texts."""
    post = _own_post(context, uuid_param(context, "post_id"))
    description = post.get("description") or ""
    alt_text = post.get("altText") or ""
    return _form(context, post, description, alt_text, error=None, status=200)


def save_edit(context: Context) -> Response:
    """`POST /posts/{id}/edit`: `PATCH /posts/{id}`, then the post, which says "Post
    updated." once."""
    post_id = uuid_param(context, "post_id")
    form = context.form()
    description = form.get("description", "").strip()
    alt_text = form.get("alt_text", "").strip()
    error = None
    if len(description) > CAPTION_MAX_CHARS:
        error = f"Caption must be {CAPTION_MAX_CHARS:,} characters or fewer."
    elif len(alt_text) > ALT_TEXT_MAX_CHARS:
        error = f"Alt text must be {ALT_TEXT_MAX_CHARS:,} characters or fewer."
    if error is not None:
        return _failed(context, post_id, description, alt_text, error, 400)
    response = context.api.call(
        "PATCH",
        api_path("/posts/{}", post_id),
        json_body={"description": description, "altText": alt_text},
    )
    if response.status == 401:
        raise SignInRequired()
    if response.status in (403, 404):
        raise PageError(response.status, POST_NOT_FOUND if response.status == 404 else None)
    if not response.ok:
        status = response.status if response.status >= 400 else 502
        return _failed(context, post_id, description, alt_text, EDIT_FAILED, status)
    done = context.done(f"/posts/{post_id}")
    set_flash(done, POST_UPDATED, secure=context.secure)
    return done


def _own_post(context: Context, post_id: str) -> dict[str, Any]:
    """The post, when the signed-in visitor wrote it; 404 when gone, 403 when not theirs."""
    post = fetch_post(context, post_id)
    if post.get("username") != context.require_viewer().get("username"):
        raise PageError(403)
    return post


def _failed(
    context: Context, post_id: str, description: str, alt_text: str, error: str, status: int
) -> Response:
    """The form again with what was typed, for the author only."""
    if context.wants_json:
        return context.failed(error, status)
    post = _own_post(context, post_id)
    return _form(context, post, description, alt_text, error=error, status=status)


def _form(
    context: Context,
    post: dict[str, Any],
    description: str,
    alt_text: str,
    *,
    error: str | None,
    status: int,
) -> Response:
    return context.render(
        "post_edit.html",
        title="Edit post",
        status=status,
        post=post,
        description=description,
        alt_text=alt_text,
        error=error,
    )
