"""Cursor pagination for every list (docs/api.md §8).

A cursor is the sort key of the last item returned: unpadded base64url of
`{"created": <RFC 3339>, "id": <positive int>}`. Lists are keyset-ordered by
`(created DESC, id DESC)` and read strictly after the cursor, so concurrent
inserts never cause duplicates.

Search pages by offsets instead (docs/api.md §8.1): the codecs at the end of this module.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Generic, TypeVar

from phasma.config import Limits
from phasma.errors import BadRequest
from phasma.models import format_timestamp

Item = TypeVar("Item")


@dataclass(frozen=True)
class Cursor:
    """The keyset position after which the next page starts."""

    created: datetime
    id: int

    def encode(self) -> str:
        raw = json.dumps({"created": format_timestamp(self.created), "id": self.id})
        return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class PageRequest:
    """A validated `limit` and optional `cursor`."""

    limit: int
    cursor: Cursor | None


@dataclass(frozen=True)
class Page(Generic[Item]):
    items: list[Item]
    next_cursor: str | None

    def to_json(self, serialise: Callable[[Item], Any]) -> dict[str, Any]:
        return {"items": [serialise(item) for item in self.items], "nextCursor": self.next_cursor}


def parse_limit(query: Mapping[str, str], default: int = Limits.PAGE_DEFAULT_LIMIT) -> int:
    """`limit`: integer ≥ 1, clamped to 50; any `page` parameter is rejected."""
    if "page" in query:
        raise BadRequest("page is not supported; use cursor")
    raw = query.get("limit")
    if raw is None:
        return default
    try:
        limit = int(raw)
    except ValueError:
        raise BadRequest("limit must be an integer") from None
    if limit < 1:
        raise BadRequest("limit must be at least 1")
    return min(limit, Limits.PAGE_MAX_LIMIT)


def decode_cursor(raw: str) -> Cursor:
    """Parse an opaque cursor; anything malformed is a 400."""
    invalid = BadRequest("cursor is invalid")
    if not raw or len(raw) > Limits.CURSOR_MAX_CHARS:
        raise invalid
    try:
        decoded = base64.b64decode(
            raw + "=" * (-len(raw) % 4), altchars=b"-_", validate=True
        ).decode("utf-8")
        value = json.loads(decoded)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid from None
    if not isinstance(value, dict):
        raise invalid
    created, identifier = value.get("created"), value.get("id")
    if not isinstance(created, str) or type(identifier) is not int or identifier < 1:
        raise invalid
    try:
        timestamp = datetime.fromisoformat(created)
    except ValueError:
        raise invalid from None
    if timestamp.tzinfo is None or "T" not in created:
        raise invalid  # RFC 3339 needs a date-time with an offset
    return Cursor(timestamp, identifier)


def parse_page_request(query: Mapping[str, str]) -> PageRequest:
    """`limit` and `cursor` from a list route's query string."""
    limit = parse_limit(query)
    raw_cursor = query.get("cursor")
    return PageRequest(limit, decode_cursor(raw_cursor) if raw_cursor is not None else None)


def build_page(
    rows: Sequence[Item], limit: int, sort_key: Callable[[Item], tuple[datetime, int]]
) -> Page[Item]:
    """Trim the `limit + 1` rows a query fetched; the extra row only proves there is more."""
    if len(rows) <= limit:
        return Page(list(rows), None)
    items = list(rows[:limit])
    created, identifier = sort_key(items[-1])
    return Page(items, Cursor(created, identifier).encode())


# -- keyset SQL ---------------------------------------------------------------------------


def after_cursor(created: str, key: str) -> str:
    """The keyset continuation of a list ordered `(created DESC, key DESC)`.

    An `AND` condition keeping the rows strictly after the cursor that `cursor_params`
    binds (`:cursor_created`, `:cursor_id`). Lists build one statement with it and one
    without, so each stays one prepared plan; `created` and `key` are the list's column
    expressions (`"b.created"`, `"b.post_id"`), never input.
    """
    return f"""
    AND ({created}, {key})
        < (CAST(:cursor_created AS timestamptz), CAST(:cursor_id AS bigint))
    """


def cursor_params(page: PageRequest) -> dict[str, Any]:
    """The `:limit` (one extra row proves a next page) and cursor parameters of a list."""
    params: dict[str, Any] = {"limit": page.limit + 1}
    if page.cursor is not None:
        params["cursor_created"] = page.cursor.created
        params["cursor_id"] = page.cursor.id
    return params


# -- search offset cursors (docs/api.md §8.1) -------------------------------------------------

# Offsets beyond this are refused rather than handed to a backend as an absurd OFFSET.
OFFSET_MAX: Final = 2**31 - 1


def encode_offset(offset: int) -> str:
    """A single-type search cursor: standard base64, with padding, of the decimal offset."""
    return base64.b64encode(str(offset).encode("ascii")).decode("ascii")


def decode_offset(raw: str) -> int:
    """The offset of a single-type search cursor; anything else is a 400."""
    text = _standard_base64_text(raw)
    if not _DECIMAL.fullmatch(text):
        raise BadRequest("cursor is invalid")
    return _bounded_offset(int(text))


@dataclass(frozen=True)
class SearchOffsets:
    """Per-type offsets of a blended (`type=all`) search cursor: `{"u": …, "p": …, "h": …}`."""

    users: int = 0
    posts: int = 0
    hashtags: int = 0

    def encode(self) -> str:
        raw = json.dumps(
            {"u": self.users, "p": self.posts, "h": self.hashtags}, separators=(",", ":")
        )
        return base64.b64encode(raw.encode("ascii")).decode("ascii")


def decode_search_offsets(raw: str) -> SearchOffsets:
    """The offsets of a blended search cursor; anything but that exact JSON is a 400."""
    invalid = BadRequest("cursor is invalid")
    try:
        value = json.loads(_standard_base64_text(raw))
    except ValueError:
        raise invalid from None
    if not isinstance(value, dict) or set(value) != {"u", "p", "h"}:
        raise invalid
    offsets = [value["u"], value["p"], value["h"]]
    # `type(...) is int` keeps booleans (an int subclass) out.
    if any(type(offset) is not int or offset < 0 for offset in offsets):
        raise invalid
    users, posts, hashtags = (_bounded_offset(offset) for offset in offsets)
    return SearchOffsets(users=users, posts=posts, hashtags=hashtags)


_DECIMAL = re.compile(r"[0-9]{1,10}")


def _standard_base64_text(raw: str) -> str:
    if not raw or len(raw) > Limits.CURSOR_MAX_CHARS:
        raise BadRequest("cursor is invalid")
    try:
        return base64.b64decode(raw, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadRequest("cursor is invalid") from None


def _bounded_offset(offset: int) -> int:
    if offset > OFFSET_MAX:
        raise BadRequest("cursor is invalid")
    return offset
