"""Search request validation (docs/api.md §13.2, §13.4) and the text each backend matches."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phasma.http.errors import BadRequest
from phasma.pagination import SearchOffsets, encode_offset
from phasma.search.queries import like_prefix, prefix_terms
from phasma.search.query import (
    PostQuery,
    hashtag_filter,
    normalise,
    parse_query,
    parse_search_request,
    words,
)


def test_query_is_trimmed_and_one_to_fifty_code_points() -> None:
    assert parse_query({"q": "  café  "}) == "café"
    assert parse_query({"q": "é" * 50}) == "é" * 50
    for bad in ({}, {"q": ""}, {"q": " \t\n "}, {"q": "x" * 51}):
        with pytest.raises(BadRequest):
            parse_query(bad)


def test_search_request_defaults() -> None:
    request = parse_search_request({"q": "sunset", "type": "all"})
    assert (request.kind, request.limit, request.offset) == ("all", 20, 0)
    assert request.offsets == SearchOffsets()
    assert request.posts == PostQuery(text="sunset", words=("sunset",), tag=None)
    users = parse_search_request({"q": "@Ann", "type": "users", "limit": "99"})
    assert (users.limit, users.text, users.posts) == (50, "ann", None)
    paged = parse_search_request({"q": "a", "type": "posts", "cursor": encode_offset(40)})
    assert paged.offset == 40


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"q": "", "type": "bad", "limit": "0", "cursor": "!"}, "q must be"),
        ({"q": "a", "type": "bad", "limit": "0", "cursor": "!"}, "type must be"),
        ({"q": "a", "type": "users", "limit": "0", "cursor": "!"}, "limit"),
        ({"q": "#-", "type": "posts", "cursor": "!"}, "cursor"),
        ({"q": "#-", "type": "posts"}, "invalid hashtag"),
    ],
)
def test_checks_run_in_the_contract_order(arguments: dict[str, str], message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        parse_search_request(arguments)


def test_hashtag_filter() -> None:
    assert hashtag_filter("#Beach_2") == "beach_2"
    assert hashtag_filter("beach") is None
    assert hashtag_filter("@beach") is None
    for bad in ("#", "#a-b", "#a b", "#é", "##a", "#a\n"):
        with pytest.raises(BadRequest, match="invalid hashtag"):
            hashtag_filter(bad)


def test_at_and_hash_separate_words() -> None:
    assert normalise("@Ann#Cats  Dogs") == "ann cats dogs"
    assert normalise("@#") == ""
    assert words("Hello#World @ann_b, it's 2026!") == [
        "hello",
        "world",
        "ann",
        "b",
        "it",
        "s",
        "2026",
    ]
    assert PostQuery.from_query("@ann sunset") == PostQuery(
        text="ann sunset", words=("ann", "sunset"), tag=None
    )


@given(st.text(max_size=60))
def test_full_text_terms_never_carry_tsquery_syntax(text: str) -> None:
    terms = prefix_terms(tuple(words(text)))
    # Only word characters, the AND between them and the final prefix marker.
    stripped = terms.replace(" & ", "").removesuffix(":*")
    assert all(character.isalnum() for character in stripped)


def test_prefix_terms_make_only_the_last_word_a_prefix() -> None:
    assert prefix_terms(("sunset", "bea")) == "sunset & bea:*"
    assert prefix_terms(()) == ""


def test_like_prefix_escapes_wildcards_and_the_escape_character() -> None:
    assert like_prefix("a_b%c\\d") == "a\\_b\\%c\\\\d%"
