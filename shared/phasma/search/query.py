"""Search requests: the query rule, types, cursors and the text each backend matches.

Pure functions, no I/O. Everything here runs before any backend call, in the
order of docs/api.md §13.4, so a bad request never reaches a search engine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal, get_args

from phasma.config import Limits
from phasma.errors import BadRequest
from phasma.pagination import SearchOffsets, decode_offset, decode_search_offsets, parse_limit

SearchType = Literal["users", "posts", "hashtags"]
SearchKind = Literal["users", "posts", "hashtags", "all"]  # `all` is the blended page
SEARCH_TYPES: Final[tuple[SearchType, ...]] = get_args(SearchType)
_KINDS: Final[dict[str, SearchKind]] = {kind: kind for kind in get_args(SearchKind)}

# Spelled out in ASCII rather than IGNORECASE, which would let [a-z] match the Kelvin sign.
HASHTAG_FILTER_PATTERN = re.compile(r"[A-Za-z0-9_]{1,50}")
# `@` and `#` separate words outside the hashtag filter (docs/domain.md §6.1).
_SEPARATORS = re.compile(r"[@#\s]+")
# Words of a full-text query: letters and digits only, so nothing the tsquery syntax gives
# a meaning to (& | ! ( ) : * ' \ <) can ever reach it. `_` separates words as it does in
# PostgreSQL's text parser, which indexes `summer_vibes` as `summer` and `vibes`.
_WORD = re.compile(r"[^\W_]+")


def parse_query(arguments: Mapping[str, str]) -> str:
    """`q`, trimmed, 1-50 characters (docs/api.md §13.2); else 400."""
    query = arguments.get("q", "").strip()
    if not 1 <= len(query) <= Limits.SEARCH_QUERY_MAX_CHARS:
        raise BadRequest(f"q must be 1-{Limits.SEARCH_QUERY_MAX_CHARS} characters")
    return query


def normalise(query: str) -> str:
    """The text users and hashtags are matched against: lowercased, `@`/`#` as separators."""
    return _SEPARATORS.sub(" ", query).strip().lower()


def words(query: str) -> list[str]:
    """The lowercased words of `query` for a full-text match, in order."""
    return _WORD.findall(query.lower())


def hashtag_filter(query: str) -> str | None:
    """The lowercased tag of a `#tag` query, None for a text query; a bad tag is a 400."""
    if not query.startswith("#"):
        return None
    tag = query[1:]
    if not HASHTAG_FILTER_PATTERN.fullmatch(tag):
        raise BadRequest("invalid hashtag")
    return tag.lower()


@dataclass(frozen=True)
class PostQuery:
    """What the posts index is asked: a tag filter (newest first) or ranked text."""

    text: str  # the normalised query; "" under a tag filter
    words: tuple[str, ...]
    tag: str | None

    @classmethod
    def from_query(cls, query: str) -> PostQuery:
        tag = hashtag_filter(query)
        if tag is not None:
            return cls(text="", words=(), tag=tag)
        return cls(text=normalise(query), words=tuple(words(query)), tag=None)


@dataclass(frozen=True)
class SearchRequest:
    """A validated `GET /search`: `offset` for one type, `offsets` for `type=all`."""

    query: str
    kind: SearchKind
    limit: int
    offset: int
    offsets: SearchOffsets
    posts: PostQuery | None  # None when the type searches no posts

    @property
    def text(self) -> str:
        """The normalised query users and hashtags are matched against."""
        return normalise(self.query)


def parse_search_request(arguments: Mapping[str, str]) -> SearchRequest:
    """Validate `GET /search` in the contract's order: q, type, limit, cursor, hashtag."""
    query = parse_query(arguments)
    kind = _KINDS.get(arguments.get("type", ""))
    if kind is None:
        raise BadRequest("type must be one of users, posts, hashtags, all")
    limit = parse_limit(arguments, default=Limits.SEARCH_DEFAULT_LIMIT)
    raw_cursor = arguments.get("cursor")
    offset, offsets = 0, SearchOffsets()
    if raw_cursor is not None:
        if kind == "all":
            offsets = decode_search_offsets(raw_cursor)
        else:
            offset = decode_offset(raw_cursor)
    posts = PostQuery.from_query(query) if kind in ("posts", "all") else None
    return SearchRequest(
        query=query,
        kind=kind,
        limit=limit,
        offset=offset,
        offsets=offsets,
        posts=posts,
    )
