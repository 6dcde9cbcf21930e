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


# `userId` and the posts' `authorId` and `authorPrivate` are filterable for the viewer's
# audience (docs/api.md §D, §E): `users_audience_filter`, `posts_audience_filter`.
USERS = IndexDefinition("users", "userId", searchable=("username", "name"), filterable=("userId",))
# Equally relevant posts come newest first, as on PostgreSQL.
POSTS = IndexDefinition(
    "posts",
    "postId",
    searchable=("description", "username"),
    filterable=("hashtags", "authorId", "authorPrivate"),
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
    author_private: bool,
    description: str | None,
    hashtags: Sequence[str],
    filename: str,
    created: datetime,
) -> dict[str, Any]:
    return {
        "postId": str(post_id),
        "authorId": str(author_id),
        "username": username,
        "authorPrivate": author_private,
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


@dataclass(frozen=True)
class SearchAudience:
    """The viewer's side of the visibility rule as lists, for an engine that filters by
    value (`phasma.users.queries.search_audience` reads them): the accounts hidden from
    the viewer by a block either way, and the private accounts whose posts the viewer may
    see (their own and those they follow)."""

    hidden: tuple[UUID, ...]
    private_shown: tuple[UUID, ...]


def _uuid_list(ids: Sequence[UUID]) -> str:
    """`["<uuid>", ...]`: each value re-parsed as a UUID, so only hex digits and dashes can
    ever enter a filter string (docs/domain.md §6.2)."""
    return "[" + ", ".join(f'"{UUID(str(value))}"' for value in ids) + "]"


def author_filter(author_id: UUID) -> str:
    """`authorId = "<uuid>"`: every post document of one author (the indexer deletes them
    while the account is suspended)."""
    return f'authorId = "{UUID(str(author_id))}"'


def users_audience_filter(audience: SearchAudience) -> list[str]:
    """Meilisearch filter clauses (ANDed) leaving out the users the viewer may not meet."""
    return [f"userId NOT IN {_uuid_list(audience.hidden)}"] if audience.hidden else []


def posts_audience_filter(audience: SearchAudience) -> list[str | list[str]]:
    """Meilisearch filter clauses (ANDed; an inner list is ORed) keeping the posts the
    viewer may see: none by an account hidden by a block, and a private account's only
    when it is the viewer's own or followed. `!= true` also matches documents written
    before `authorPrivate` existed, which the re-index then completes."""
    clauses: list[str | list[str]] = []
    if audience.hidden:
        clauses.append(f"authorId NOT IN {_uuid_list(audience.hidden)}")
    if audience.private_shown:
        clauses.append(
            ["authorPrivate != true", f"authorId IN {_uuid_list(audience.private_shown)}"]
        )
    else:
        clauses.append("authorPrivate != true")
    return clauses
