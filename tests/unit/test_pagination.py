import base64
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phasma.http.errors import BadRequest
from phasma.pagination import (
    Cursor,
    PageRequest,
    after_cursor,
    build_page,
    cursor_params,
    decode_cursor,
    parse_limit,
    parse_page_request,
)


def encode(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def test_limit_defaults_clamps_and_rejects() -> None:
    assert parse_limit({}) == 10
    assert parse_limit({"limit": "1"}) == 1
    assert parse_limit({"limit": "500"}) == 50
    for bad in ("0", "-1", "x", "1.5", ""):
        with pytest.raises(BadRequest):
            parse_limit({"limit": bad})
    with pytest.raises(BadRequest):
        parse_limit({"page": "2"})


@given(
    created=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    identifier=st.integers(min_value=1, max_value=2**62),
)
def test_cursor_round_trips(created: datetime, identifier: int) -> None:
    cursor = Cursor(created, identifier)
    assert "=" not in cursor.encode()
    assert decode_cursor(cursor.encode()) == cursor


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "!!!",
        "a" * 513,
        encode([1, 2]),
        encode({"id": 1}),
        encode({"created": "2026-01-01T00:00:00Z"}),
        encode({"created": "2026-01-01T00:00:00Z", "id": 0}),
        encode({"created": "2026-01-01T00:00:00Z", "id": "1"}),
        encode({"created": "2026-01-01T00:00:00Z", "id": True}),
        encode({"created": "2026-01-01", "id": 1}),
        encode({"created": "2026-01-01T00:00:00", "id": 1}),
        encode({"created": "yesterday", "id": 1}),
    ],
)
def test_invalid_cursors_are_rejected(raw: str) -> None:
    with pytest.raises(BadRequest):
        decode_cursor(raw)


def test_page_has_a_next_cursor_only_when_more_rows_exist() -> None:
    moment = datetime(2026, 6, 22, 12, tzinfo=UTC)
    rows = [(moment, 3), (moment, 2), (moment, 1)]
    page = build_page(rows, 2, lambda row: row)
    assert page.items == rows[:2]
    assert page.next_cursor is not None
    assert decode_cursor(page.next_cursor) == Cursor(moment, 2)
    assert build_page(rows, 3, lambda row: row).next_cursor is None
    assert parse_page_request({"cursor": page.next_cursor}).cursor == Cursor(moment, 2)


def test_a_first_page_binds_only_the_limit_and_a_next_page_its_cursor_too() -> None:
    created = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert cursor_params(PageRequest(10, None)) == {"limit": 11}
    assert cursor_params(PageRequest(10, Cursor(created, 7))) == {
        "limit": 11,
        "cursor_created": created,
        "cursor_id": 7,
    }


def test_the_keyset_condition_compares_the_named_columns_with_the_bound_cursor() -> None:
    condition = " ".join(after_cursor("b.created", "b.post_id").split())
    assert condition == (
        "AND (b.created, b.post_id) "
        "< (CAST(:cursor_created AS timestamptz), CAST(:cursor_id AS bigint))"
    )
