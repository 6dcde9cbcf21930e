"""Search offset cursors (docs/api.md §8.1): standard base64 with padding, strict decoding."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phasma.http.errors import BadRequest
from phasma.pagination import (
    OFFSET_MAX,
    SearchOffsets,
    decode_offset,
    decode_search_offsets,
    encode_offset,
)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_single_type_cursor_is_padded_standard_base64_of_the_decimal() -> None:
    assert encode_offset(20) == "MjA="
    assert decode_offset("MjA=") == 20
    assert decode_offset(b64("0")) == 0


@given(st.integers(min_value=0, max_value=OFFSET_MAX))
def test_single_type_cursor_round_trips(offset: int) -> None:
    assert decode_offset(encode_offset(offset)) == offset


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "MjA",  # padding missing
        "MjA=!",
        "Mj-=",  # base64url alphabet is not the standard one
        b64("-1"),
        b64("+1"),
        b64(" 1"),
        b64("1.5"),
        b64("x"),
        b64(""),
        b64("1_0"),
        b64("٣"),  # a non-ASCII digit
        b64(str(OFFSET_MAX + 1)),
        b64("9" * 30),
        "A" * 600,
        "é",
    ],
)
def test_single_type_cursor_rejects(raw: str) -> None:
    with pytest.raises(BadRequest):
        decode_offset(raw)


def test_blended_cursor_matches_the_contract_example() -> None:
    cursor = SearchOffsets(users=1, posts=1, hashtags=1).encode()
    assert cursor == "eyJ1IjoxLCJwIjoxLCJoIjoxfQ=="
    assert decode_search_offsets(cursor) == SearchOffsets(1, 1, 1)


@given(
    st.integers(min_value=0, max_value=OFFSET_MAX),
    st.integers(min_value=0, max_value=OFFSET_MAX),
    st.integers(min_value=0, max_value=OFFSET_MAX),
)
def test_blended_cursor_round_trips(users: int, posts: int, hashtags: int) -> None:
    offsets = SearchOffsets(users=users, posts=posts, hashtags=hashtags)
    assert decode_search_offsets(offsets.encode()) == offsets


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "not base64!",
        b64("[1, 2, 3]"),
        b64("20"),
        b64("{"),
        b64(json.dumps({"u": 0, "p": 0})),
        b64(json.dumps({"u": 0, "p": 0, "h": 0, "x": 0})),
        b64(json.dumps({"u": -1, "p": 0, "h": 0})),
        b64(json.dumps({"u": 0, "p": "1", "h": 0})),
        b64(json.dumps({"u": 0, "p": 1.0, "h": 0})),
        b64(json.dumps({"u": True, "p": 0, "h": 0})),
        b64(json.dumps({"u": None, "p": 0, "h": 0})),
        b64(json.dumps({"u": OFFSET_MAX + 1, "p": 0, "h": 0})),
        base64.urlsafe_b64encode(b'{"u":0,"p":0,"h":0}').decode().rstrip("="),
    ],
)
def test_blended_cursor_rejects(raw: str) -> None:
    with pytest.raises(BadRequest):
        decode_search_offsets(raw)
