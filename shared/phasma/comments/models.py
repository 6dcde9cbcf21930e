"""The comment body and the Comment response shape (docs/domain.md §2.5)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from phasma.config import Limits
from phasma.http.bodies import RequestBody, Text
from phasma.http.errors import BadRequest
from phasma.models import CamelModel, Timestamp
from phasma.posts.models import check_user_text


class CommentBody(RequestBody):
    body: Text = ""


class Comment(CamelModel):
    """docs/api.md §9.3."""

    id: UUID
    username: str
    avatar: str | None
    body: str
    created: Timestamp


def comment_json(comment: Comment) -> dict[str, Any]:
    """A Comment as the JSON object of a list page."""
    return comment.model_dump(mode="json", by_alias=True)


def check_comment(body: str) -> None:
    """The trimmed body: 1-400 characters."""
    if not body:
        raise BadRequest("body is required")
    check_user_text(body, "body", Limits.COMMENT_MAX_CHARS)
