"""Migration 0007: image width, height and blurhash on uploads and posts."""

from __future__ import annotations

from collections.abc import Iterator

import pg8000.exceptions
import pg8000.native
import pytest

from phasma.db.connect import connect
from phasma.db.migrations import DEFAULT_DIR, discover, rollback

CHECK_VIOLATION = "23514"
BLOB = "0123456789abcdef0123456789abcdef"
TABLES = ("uploads", "posts")


@pytest.fixture
def owner(migrated_database_url: str) -> Iterator[pg8000.native.Connection]:
    with connect(migrated_database_url) as connection:
        yield connection


def _columns(connection: pg8000.native.Connection, table: str) -> dict[str, tuple[str, str]]:
    rows = connection.run(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
        " WHERE table_name = :table AND column_name IN ('width', 'height', 'blurhash')",
        table=table,
    )
    return {name: (data_type, nullable) for name, data_type, nullable in rows}


def _insert(connection: pg8000.native.Connection, table: str, **metadata: object) -> None:
    [[user_id]] = connection.run(
        "INSERT INTO users (name, username, email, password_hash)"
        " VALUES ('Someone', 'owner', 'owner@example.com', 'hash')"
        " ON CONFLICT (username) DO UPDATE SET name = excluded.name RETURNING id"
    )
    # Table names come from TABLES, never from input.
    connection.run(
        f"INSERT INTO {table} (filename, user_id, width, height, blurhash)"
        " VALUES (:filename, :user_id, :width, :height, :blurhash)",
        filename=BLOB,
        user_id=user_id,
        **{"width": None, "height": None, "blurhash": None, **metadata},
    )


@pytest.mark.parametrize("table", TABLES)
def test_the_columns_exist_and_are_nullable(owner: pg8000.native.Connection, table: str) -> None:
    assert _columns(owner, table) == {
        "width": ("integer", "YES"),
        "height": ("integer", "YES"),
        "blurhash": ("character varying", "YES"),
    }
    _insert(owner, table)  # rows from before the migration have none of them
    assert owner.run(f"SELECT width, height, blurhash FROM {table}") == [[None, None, None]]


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("column", ["width", "height"])
@pytest.mark.parametrize("value", [0, -1])
def test_dimensions_must_be_positive(
    owner: pg8000.native.Connection, table: str, column: str, value: int
) -> None:
    with pytest.raises(pg8000.exceptions.DatabaseError) as raised:
        _insert(owner, table, **{column: value})
    assert raised.value.args[0]["C"] == CHECK_VIOLATION


@pytest.mark.parametrize("table", TABLES)
def test_a_blurhash_longer_than_64_characters_is_refused(
    owner: pg8000.native.Connection, table: str
) -> None:
    _insert(owner, table, width=1, height=1, blurhash="L" * 64)
    owner.run(f"DELETE FROM {table}")
    with pytest.raises(pg8000.exceptions.DatabaseError) as raised:
        _insert(owner, table, blurhash="L" * 65)
    assert raised.value.args[0]["C"] == "22001"  # string data right truncation


def test_rolling_back_drops_the_columns(
    migrated_database_url: str, owner: pg8000.native.Connection
) -> None:
    # Later migrations (other features) go first.
    steps = sum(1 for migration in discover(DEFAULT_DIR) if migration.version >= 7)
    rolled_back = rollback(migrated_database_url, steps=steps, progress=lambda _line: None)
    assert rolled_back[-1].label == "0007_image_metadata"
    assert _columns(owner, "uploads") == {} and _columns(owner, "posts") == {}
