"""The blended page of `GET /search?type=all` (docs/domain.md §6.3), independent of the backend.

Each type is fetched from its own offset for `target + 1` hits (the extra one is a
look-ahead); `plan` decides how many of each go on the page, `blend` orders them and
advances the offsets. Only hits that were fetched are placed and each offset moves by
exactly the hits placed, so walking the pages never skips, repeats or invents a hit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from phasma.pagination import SearchOffsets
from phasma.search.query import SEARCH_TYPES, SearchType

# Slots repeat in this order; a slot whose type has nothing left is skipped.
INTERLEAVE_PATTERN: Final[tuple[SearchType, ...]] = (
    "users",
    "posts",
    "posts",
    "posts",
    "hashtags",
)
# Whose look-ahead hits fill a shortfall first.
DONOR_ORDER: Final[tuple[SearchType, ...]] = ("posts", "users", "hashtags")


def targets(limit: int) -> dict[SearchType, int]:
    """How many hits of each type a page of `limit` aims for (20 → 4/12/4)."""
    if limit == 1:
        return {"users": 0, "posts": 1, "hashtags": 0}
    if limit == 2:
        return {"users": 1, "posts": 1, "hashtags": 0}
    side = max(1, limit // 5)
    return {"users": side, "posts": limit - 2 * side, "hashtags": side}


def fetch_sizes(limit: int) -> dict[SearchType, int]:
    """How many hits to ask each index for: its target plus one look-ahead."""
    return {kind: target + 1 for kind, target in targets(limit).items()}


def offset_of(offsets: SearchOffsets, kind: SearchType) -> int:
    """The cursor's offset for `kind`."""
    return int(getattr(offsets, kind))


def plan(limit: int, fetched: Mapping[SearchType, int]) -> dict[SearchType, int]:
    """How many of each type's fetched hits go on the page (no extra fetch ever happens)."""
    goal = targets(limit)
    available = {kind: min(fetched[kind], goal[kind]) for kind in SEARCH_TYPES}
    shortfall = sum(goal[kind] - available[kind] for kind in SEARCH_TYPES)
    consumed = dict(available)
    for donor in DONOR_ORDER:
        extra = min(shortfall, fetched[donor] - available[donor])
        consumed[donor] += extra
        shortfall -= extra
    return consumed


def interleave(slices: Mapping[SearchType, Sequence[Any]]) -> list[tuple[SearchType, Any]]:
    """Repeat the pattern users, posts, posts, posts, hashtags until every hit is placed."""
    positions = dict.fromkeys(SEARCH_TYPES, 0)
    remaining = sum(len(hits) for hits in slices.values())
    placed: list[tuple[SearchType, Any]] = []
    while remaining:
        for kind in INTERLEAVE_PATTERN:
            position = positions[kind]
            if position < len(slices[kind]):
                placed.append((kind, slices[kind][position]))
                positions[kind] = position + 1
                remaining -= 1
    return placed


@dataclass(frozen=True)
class BlendedPage:
    """The page's `(type, hit)` items and the next cursor's offsets (None: no more)."""

    items: list[tuple[SearchType, Any]]
    next_offsets: SearchOffsets | None


def blend(
    limit: int,
    offsets: SearchOffsets,
    fetched: Mapping[SearchType, Sequence[Any]],
    is_followed: Callable[[Any], bool] = lambda _user: False,
) -> BlendedPage:
    """One blended page from each type's fetched hits (at most `target + 1` each).

    `is_followed` marks user hits the viewer follows; they move to the front of the
    page's users, order otherwise kept, never across pages.
    """
    sizes = fetch_sizes(limit)
    # A backend that returned more than it was asked for must not make the page skip hits.
    fetched = {kind: fetched[kind][: sizes[kind]] for kind in SEARCH_TYPES}
    counts = plan(limit, {kind: len(fetched[kind]) for kind in SEARCH_TYPES})
    slices: dict[SearchType, Sequence[Any]] = {
        kind: fetched[kind][: counts[kind]] for kind in SEARCH_TYPES
    }
    # A stable sort: followed users first, the ranking kept within each group.
    slices["users"] = sorted(slices["users"], key=lambda user: not is_followed(user))
    goal = targets(limit)
    more = any(len(fetched[kind]) > goal[kind] for kind in SEARCH_TYPES)
    advanced = SearchOffsets(
        users=offsets.users + counts["users"],
        posts=offsets.posts + counts["posts"],
        hashtags=offsets.hashtags + counts["hashtags"],
    )
    return BlendedPage(interleave(slices), advanced if more else None)
