"""The Meilisearch indexes (docs/domain.md §6.2): names, settings, documents and the tag filter.

Pure definitions, no I/O: the search backend, the indexer, the re-index command and
the setup command all build on them, so each index has one shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from uuid import UUID

from phasma.search.query import HASHTAG_FILTER_PATTERN

# Meilisearch's defaults, in order; an index may append its own tie-breaks after them.
DEFAULT_RANKING_RULES: Final = ("words", "typo", "proximity", "attribute", "sort", "exactness")


@dataclass(frozen=True)
class IndexDefinition:
    """One index: its primary key and the settings applied to it."""

    uid: str
    primary_key: str
    searchable: tuple[str, ...]
    filterable: tuple[str, ...] = ()
    sortable: tuple[str, ...] = ()
    tie_breaks: tuple[str, ...] = ()

    def settings(self) -> dict[str, Any]:
        """The complete settings body: applying it again changes nothing."""
        return {
            "searchableAttributes": list(self.searchable),
            "filterableAttributes": list(self.filterable),
            "sortableAttributes": list(self.sortable),
            "rankingRules": [*DEFAULT_RANKING_RULES, *self.tie_breaks],
            "displayedAttributes": ["*"],
        }


USERS = IndexDefinition("users", "userId", searchable=("username", "name"))
# Equally relevant posts come newest first, as on PostgreSQL.
POSTS = IndexDefinition(
    "posts",
    "postId",
    searchable=("description", "username"),
    filterable=("hashtags",),
    sortable=("created",),
    tie_breaks=("created:desc",),
)
# Equally relevant tags come most used first, as on PostgreSQL.
HASHTAGS = IndexDefinition(
    "hashtags",
    "name",
    searchable=("name",),
    sortable=("postCount",),
    tie_breaks=("postCount:desc",),
)
INDEXES: Final = (USERS, POSTS, HASHTAGS)
INDEX_UIDS: Final = tuple(index.uid for index in INDEXES)


def epoch_milliseconds(moment: datetime) -> int:
    """`created` of a post document: milliseconds since the epoch (an integer sorts fast)."""
    if moment.tzinfo is None:
        raise ValueError("a post's creation time must carry its time zone")
    return int(moment.astimezone(UTC).timestamp() * 1000)


def user_document(user_id: UUID, username: str, name: str, avatar: str | None) -> dict[str, Any]:
    return {"userId": str(user_id), "username": username, "name": name, "avatar": avatar}


def post_document(
    *,
    post_id: UUID,
    author_id: UUID,
    username: str,
    description: str | None,
    hashtags: Sequence[str],
    filename: str,
    created: datetime,
) -> dict[str, Any]:
    return {
        "postId": str(post_id),
        "authorId": str(author_id),
        "username": username,
        "description": description,
        "hashtags": list(hashtags),
        "filename": filename,
        "created": epoch_milliseconds(created),
    }


def hashtag_document(name: str, post_count: int) -> dict[str, Any]:
    return {"name": name, "postCount": post_count}


def hashtag_filter_expression(tag: str) -> str:
    """`hashtags = "<tag>"` for a validated tag; anything else is refused (docs/domain.md §6.2).

    The request was validated already; checking again here keeps this the only place
    a value enters a filter string, and it can only ever hold `[a-z0-9_]`.
    """
    if not HASHTAG_FILTER_PATTERN.fullmatch(tag) or tag != tag.lower():
        raise ValueError("only a validated, lowercased hashtag may enter a filter")
    return f'hashtags = "{tag}"'
