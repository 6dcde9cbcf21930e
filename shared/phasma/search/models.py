"""Search result shapes (docs/api.md §9.6, §9.7) and the recent-search request body."""

from __future__ import annotations

import re
from typing import Final, Literal
from uuid import UUID

from phasma.config import Limits
from phasma.http.bodies import RequestBody, Text
from phasma.http.errors import BadRequest
from phasma.models import CamelModel
from phasma.search.query import SearchType
from phasma.text import USERNAME_PATTERN

RecentType = Literal["users", "hashtags", "posts"]
_RECENT_TYPES: Final[dict[str, RecentType]] = {
    "users": "users",
    "hashtags": "hashtags",
    "posts": "posts",
}
HASHTAG_NAME_PATTERN = re.compile(r"[a-z0-9_]{1,50}")


class UserHit(CamelModel):
    username: str
    name: str
    avatar: str | None


class HashtagHit(CamelModel):
    name: str
    post_count: int


class PostHit(CamelModel):
    id: UUID  # the post's publicId
    username: str
    description: str  # "" when the post has none
    filename: str
    likes: int


Hit = UserHit | HashtagHit | PostHit


class BlendedItem(CamelModel):
    """One item of a `type=all` page."""

    type: SearchType
    item: Hit


class SearchPage(CamelModel):
    """`{"items": [...], "nextCursor": ...}` of `GET /search`."""

    items: list[Hit | BlendedItem]
    next_cursor: str | None


class RecentSearch(CamelModel):
    """docs/api.md §9.7: users and hashtags resolved from current rows, posts the recorded text."""

    id: UUID
    type: RecentType
    item: UserHit | HashtagHit | str


class RecordRecentBody(RequestBody):
    type: Text = ""
    reference: Text = ""

    def validated(self) -> tuple[RecentType, str]:
        """`(type, reference)` trimmed and checked per type (docs/api.md §13.5); else 400."""
        recent_type = _RECENT_TYPES.get(self.type.strip())
        if recent_type is None:
            raise BadRequest("type must be one of users, hashtags, posts")
        reference = self.reference.strip()
        if recent_type == "posts":
            # Recorded verbatim, `#` and `@` included: a free-text search is never reclassified.
            if not 1 <= len(reference) <= Limits.SEARCH_QUERY_MAX_CHARS:
                raise BadRequest(f"reference must be 1-{Limits.SEARCH_QUERY_MAX_CHARS} characters")
            return recent_type, reference
        reference = reference.lower()
        pattern = USERNAME_PATTERN if recent_type == "users" else HASHTAG_NAME_PATTERN
        if not pattern.fullmatch(reference):
            noun = "a username" if recent_type == "users" else "a hashtag name"
            raise BadRequest(f"reference must be {noun}")
        return recent_type, reference
