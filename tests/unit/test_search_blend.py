"""The blended search page (docs/domain.md §6.3): targets, backfill, boost, interleave, cursors."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phasma.pagination import SearchOffsets
from phasma.search.blend import blend, fetch_sizes, interleave, offset_of, plan, targets
from phasma.search.query import SEARCH_TYPES, SearchType


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        (1, (0, 1, 0)),
        (2, (1, 1, 0)),
        (3, (1, 1, 1)),
        (4, (1, 2, 1)),
        (5, (1, 3, 1)),
        (9, (1, 7, 1)),
        (10, (2, 6, 2)),
        (20, (4, 12, 4)),
        (50, (10, 30, 10)),
    ],
)
def test_targets_follow_the_table(limit: int, expected: tuple[int, int, int]) -> None:
    goal = targets(limit)
    assert (goal["users"], goal["posts"], goal["hashtags"]) == expected
    assert sum(goal.values()) == limit
    assert fetch_sizes(limit) == {kind: count + 1 for kind, count in goal.items()}


def test_full_types_fill_their_targets_and_keep_the_lookahead() -> None:
    assert plan(20, {"users": 5, "posts": 13, "hashtags": 5}) == {
        "users": 4,
        "posts": 12,
        "hashtags": 4,
    }


def test_shortfall_is_backfilled_from_lookaheads_posts_first_then_users_then_hashtags() -> None:
    # Hashtags short by 3: posts give their one spare hit, then users, then nothing is left.
    assert plan(20, {"users": 5, "posts": 13, "hashtags": 1}) == {
        "users": 5,
        "posts": 13,
        "hashtags": 1,
    }
    # A shortfall of 1 takes only the posts' spare.
    assert plan(20, {"users": 5, "posts": 13, "hashtags": 3}) == {
        "users": 4,
        "posts": 13,
        "hashtags": 3,
    }
    # Posts short: users' then hashtags' spare fill in.
    assert plan(10, {"users": 3, "posts": 2, "hashtags": 3}) == {
        "users": 3,
        "posts": 2,
        "hashtags": 3,
    }


def test_limit_one_backfills_a_missing_post_with_a_user() -> None:
    assert plan(1, {"users": 1, "posts": 0, "hashtags": 1}) == {
        "users": 1,
        "posts": 0,
        "hashtags": 0,
    }


def test_interleave_repeats_users_posts_posts_posts_hashtags_and_skips_exhausted_slots() -> None:
    slices: dict[SearchType, Sequence[str]] = {
        "users": ["u1", "u2"],
        "posts": ["p1", "p2", "p3", "p4"],
        "hashtags": ["h1"],
    }
    assert [hit for _kind, hit in interleave(slices)] == ["u1", "p1", "p2", "p3", "h1", "u2", "p4"]
    assert interleave({"users": [], "posts": [], "hashtags": []}) == []


def test_follow_boost_moves_followed_users_forward_within_the_page_only() -> None:
    fetched: dict[SearchType, Sequence[str]] = {
        "users": ["ann", "bob", "cid"],
        "posts": ["p1", "p2", "p3", "p4", "p5", "p6", "p7"],
        "hashtags": ["h1", "h2", "h3"],
    }
    page = blend(10, SearchOffsets(), fetched, is_followed=lambda user: user in {"bob", "cid"})
    users = [hit for kind, hit in page.items if kind == "users"]
    # `cid` is the look-ahead: followed, yet not pulled onto this page.
    assert users == ["bob", "ann"]
    assert page.next_offsets == SearchOffsets(users=2, posts=6, hashtags=2)


def test_next_cursor_exists_only_when_a_lookahead_came_back() -> None:
    exact: dict[SearchType, Sequence[str]] = {
        "users": ["u1", "u2"],
        "posts": ["p1", "p2", "p3", "p4", "p5", "p6"],
        "hashtags": ["h1", "h2"],
    }
    page = blend(10, SearchOffsets(3, 4, 5), exact)
    assert len(page.items) == 10
    assert page.next_offsets is None
    assert blend(10, SearchOffsets(), {**exact, "hashtags": ["h1", "h2", "h3"]}).next_offsets == (
        SearchOffsets(users=2, posts=6, hashtags=2)
    )


def test_surplus_hits_beyond_the_lookahead_are_ignored() -> None:
    fetched: dict[SearchType, Sequence[int]] = {
        "users": list(range(10)),
        "posts": list(range(10)),
        "hashtags": [],
    }
    page = blend(3, SearchOffsets(), fetched)
    assert [kind for kind, _hit in page.items] == ["users", "posts", "posts"]
    assert page.next_offsets == SearchOffsets(users=1, posts=2, hashtags=0)


def _walk(limit: int, sizes: dict[SearchType, int], boosted: frozenset[int]) -> list[list]:
    """Walk every page over ranked lists of `sizes`, as a backend would serve them."""
    ranked = {kind: [(kind, rank) for rank in range(size)] for kind, size in sizes.items()}
    offsets: SearchOffsets | None = SearchOffsets()
    pages = []
    while offsets is not None:
        fetched = {
            kind: ranked[kind][offset_of(offsets, kind) :][: fetch_sizes(limit)[kind]]
            for kind in SEARCH_TYPES
        }
        page = blend(limit, offsets, fetched, is_followed=lambda hit: hit[1] in boosted)
        assert len(page.items) <= limit
        pages.append(page.items)
        offsets = page.next_offsets
        assert len(pages) <= sum(sizes.values()) + 1, "the walk must end"
    return pages


@settings(max_examples=300, deadline=None)
@given(
    limit=st.integers(min_value=1, max_value=50),
    users=st.integers(min_value=0, max_value=60),
    posts=st.integers(min_value=0, max_value=150),
    hashtags=st.integers(min_value=0, max_value=60),
    boosted=st.frozensets(st.integers(min_value=0, max_value=60)),
)
def test_walking_the_pages_never_skips_repeats_or_invents_a_hit(
    limit: int, users: int, posts: int, hashtags: int, boosted: frozenset[int]
) -> None:
    sizes: dict[SearchType, int] = {"users": users, "posts": posts, "hashtags": hashtags}
    pages = _walk(limit, sizes, boosted)
    seen = [hit for page in pages for _kind, hit in page]
    assert len(seen) == len(set(seen)), "a hit was repeated"
    for kind in SEARCH_TYPES:
        placed = sorted(rank for hit_kind, rank in seen if hit_kind == kind)
        assert placed == list(range(sizes[kind])), f"{kind} hits were skipped or invented"
    # A consumed look-ahead leaves the cursor on (docs/domain.md §6.3), so the last page may
    # come back empty; every page before it holds hits, so the walk always moves on.
    for page in pages[:-1]:
        assert page, "an empty page may only be the last"


@given(limit=st.integers(min_value=1, max_value=50))
def test_a_page_of_plentiful_hits_is_full_and_follows_the_pattern(limit: int) -> None:
    many = {kind: [(kind, rank) for rank in range(100)] for kind in SEARCH_TYPES}
    page = blend(limit, SearchOffsets(), many)
    assert len(page.items) == limit
    goal = targets(limit)
    for kind in SEARCH_TYPES:
        assert sum(1 for item_kind, _hit in page.items if item_kind == kind) == goal[kind]
    if limit >= 5:
        assert [kind for kind, _hit in page.items[:5]] == [
            "users",
            "posts",
            "posts",
            "posts",
            "hashtags",
        ]
