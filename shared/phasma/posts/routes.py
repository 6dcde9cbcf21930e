"""HTTP handlers of the `posts` function (docs/api.md §14.1)."""

from __future__ import annotations

from werkzeug import Response

from phasma.audience import Audience, open_account_id
from phasma.audience import audience as audience_of
from phasma.config import Limits
from phasma.db.pool import Executor
from phasma.http.context import RequestContext
from phasma.http.errors import BadRequest, NotFound
from phasma.http.responses import json_response, no_content
from phasma.pagination import Page, parse_page_request
from phasma.posts import actions, queries
from phasma.posts.models import (
    FILENAME_PATTERN,
    CreatePostBody,
    Post,
    PostList,
    UpdatePostBody,
    check_alt_text,
    check_description,
    post_json,
)


def create_post(context: RequestContext) -> Response:
    """`POST /posts`: publish one of the caller's pending uploads, or an album of 1 to 10."""
    body = context.body(CreatePostBody)
    filenames, alt_texts = _images(body)
    description = body.description.strip()
    check_description(description)
    for alt_text in alt_texts:
        check_alt_text(alt_text)
    if not all(FILENAME_PATTERN.fullmatch(filename) for filename in filenames):
        raise BadRequest("upload is invalid or expired")  # cannot be any upload at all
    public_id = actions.create_post(
        context.runtime.db,
        context.signed_in,
        filenames,
        description or None,
        [alt_text or None for alt_text in alt_texts],
    )
    return json_response({"publicId": str(public_id)}, 201)


def _images(body: CreatePostBody) -> tuple[list[str], list[str]]:
    """The images' filenames in display order and their trimmed alt texts ("" for none),
    from either `filename` and `altText` or `filenames` and `altTexts` (docs/api.md §F)."""
    given = body.model_fields_set
    if body.filenames is None:
        if body.alt_texts is not None:
            raise BadRequest("altTexts requires filenames")
        filename = body.filename.strip()
        if not filename:
            raise BadRequest("filename is required")
        return [filename], [body.alt_text.strip()]
    if "filename" in given or "alt_text" in given:
        raise BadRequest("filenames and altTexts replace filename and altText; give one pair")
    filenames = [filename.strip() for filename in body.filenames]
    if not 1 <= len(filenames) <= Limits.POST_IMAGES_MAX:
        raise BadRequest(f"filenames must list 1 to {Limits.POST_IMAGES_MAX} uploads")
    if len(set(filenames)) != len(filenames):
        raise BadRequest("filenames must not repeat")
    alt_texts = body.alt_texts if body.alt_texts is not None else [""] * len(filenames)
    if len(alt_texts) != len(filenames):
        raise BadRequest("altTexts must have one item per filename")
    return filenames, [alt_text.strip() for alt_text in alt_texts]


def get_post(context: RequestContext) -> Response:
    """`GET /posts/{id}`: one post; `liked` is the signed-in viewer's, else false."""
    public_id = context.uuid_param("id")
    viewer_id = context.viewer_id
    post = context.runtime.db.read(
        lambda executor: queries.post_by_public_id(executor, public_id, viewer_id)
    )
    if post is None:
        raise NotFound()
    return json_response(post)


def edit_post(context: RequestContext) -> Response:
    """`PATCH /posts/{id}`: the author changes the description and/or the alt text."""
    public_id = context.uuid_param("id")
    body = context.body(UpdatePostBody)
    given = body.model_fields_set
    if not given & {"description", "alt_text"}:
        raise BadRequest("description or altText is required")
    # Present fields follow `POST /posts`'s rules; absent ones (None) stay as they are.
    description = alt_text = None
    if "description" in given:
        description = body.description.strip()
        check_description(description)
    if "alt_text" in given:
        alt_text = body.alt_text.strip()
        check_alt_text(alt_text)
    post = actions.edit_post(
        context.runtime.db, context.signed_in, public_id, description, alt_text
    )
    return json_response(post)


def delete_post(context: RequestContext) -> Response:
    """`DELETE /posts/{id}`: the author deletes a post; its images' blobs go after commit."""
    public_id = context.uuid_param("id")
    actions.delete_post(context.runtime, context.signed_in, public_id)
    return no_content()


def list_user_posts(context: RequestContext) -> Response:
    """`GET /users/{username}/posts`: a cursor page of the user's posts, newest first;
    `403` for a private account the viewer does not follow, `404` across a block."""
    page_request = parse_page_request(context.request.args)
    username = context.username_param(invalid=NotFound)
    viewer_id = context.viewer_id

    def read(executor: Executor) -> tuple[Audience | None, Page[Post] | None]:
        audience = audience_of(executor, username, viewer_id)
        if audience is None or not audience.shows_posts:
            return audience, None
        return audience, queries.posts_by_author(
            executor, audience.user_id, viewer_id, page_request
        )

    audience, page = context.runtime.db.read(read)
    open_account_id(audience)  # 404 gone or blocked, 403 private (docs/api.md §D, §E)
    assert page is not None  # read it exactly when the account is open to the viewer
    return json_response(page.to_json(post_json))


def popular_posts(context: RequestContext) -> Response:
    """`GET /posts/popular`: at most 20 liked posts of the last 7 days, most liked first;
    anonymous visitors may read it (docs/api.md §F), with `liked` false."""
    viewer_id = context.viewer_id
    posts = context.runtime.db.read(lambda executor: queries.popular_posts(executor, viewer_id))
    return json_response(PostList(items=posts))
