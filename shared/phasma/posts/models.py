"""Request bodies, the Post response shape and the post field rules (docs/domain.md §2.4)."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from pydantic import Field

from phasma.config import Limits
from phasma.http.bodies import RequestBody, Text
from phasma.http.errors import BadRequest
from phasma.models import CamelModel, Timestamp

# Upload filenames are 32 lowercase hex; anything else cannot be a pending upload.
FILENAME_PATTERN = re.compile(r"[0-9a-f]{32}")


class CreatePostBody(RequestBody):
    """One image (`filename`, `altText`) or an album (`filenames`, `altTexts`: docs/api.md §F).

    The lists stay None when absent, so a route can tell them from an empty list.
    """

    filename: Text = ""
    filenames: list[Text] | None = None
    description: Text = ""
    alt_text: Text = Field("", alias="altText")
    alt_texts: list[Text] | None = Field(None, alias="altTexts")  # a null item: no alt text


class UpdatePostBody(RequestBody):
    """`PATCH /posts/{id}`: a field left out keeps its value; null or empty clears it."""

    description: Text = ""
    alt_text: Text = Field("", alias="altText")


class PostImage(CamelModel):
    """One image of a post, as `images` lists them (docs/api.md §F)."""

    filename: str
    width: int | None
    height: int | None
    blurhash: str | None
    alt_text: str | None
    # Widths of the stored responsive renditions, ascending (`GET /uploads/{filename}?w=`);
    # empty when the image is no wider than the smallest or was not processed yet.
    renditions: list[int]
    # A private account's image is served only with `?token=<mediaToken>` (docs/api.md §E,
    # docs/api.md); null for a public account's, whose plain URL works for anyone.
    media_token: str | None = None


class Post(CamelModel):
    """docs/api.md §9.2, plus `width`, `height`, `blurhash`, `renditions` and `altText`
    (docs/api.md additions), `edited` (docs/api.md §C), the viewer's `bookmarked` and
    `images` (docs/api.md §F). The top-level image fields describe `images[0]`."""

    public_id: UUID
    username: str
    name: str
    avatar: str | None
    filename: str
    description: str | None
    likes: int
    liked: bool
    bookmarked: bool
    comments: int
    created: Timestamp
    width: int | None
    height: int | None
    blurhash: str | None
    # Widths of the stored responsive renditions, ascending (`GET /uploads/{filename}?w=`);
    # empty when the image is no wider than the smallest or was not processed yet.
    renditions: list[int]
    alt_text: str | None
    edited: Timestamp | None  # the last edit of the description or alt text; null if none
    images: list[PostImage]  # every image in display order; one for a single-image post
    media_token: str | None = None  # images[0]'s: see `PostImage.media_token`


class PostList(CamelModel):
    """`GET /posts/popular`: a bare list in an envelope, no cursor."""

    items: list[Post]


def post_json(post: Post) -> dict[str, Any]:
    """A Post as the JSON object of a list page."""
    return post.model_dump(mode="json", by_alias=True)


def check_user_text(text: str, field: str, max_chars: int) -> None:
    """At most `max_chars` code points (`Text` fields already refuse NUL characters)."""
    if len(text) > max_chars:
        raise BadRequest(f"{field} must be at most {max_chars} characters")


def check_alt_text(alt_text: str) -> None:
    """The trimmed alternative text: at most 1000 characters (an empty one is stored as null)."""
    check_user_text(alt_text, "altText", Limits.ALT_TEXT_MAX_CHARS)


def check_description(description: str) -> None:
    """The trimmed description: at most 1000 characters (an empty one is stored as null)."""
    check_user_text(description, "description", Limits.DESCRIPTION_MAX_CHARS)
