"""Migration 0013: the widths of the responsive renditions on uploads and posts."""

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


def _column(connection: pg8000.native.Connection, table: str) -> list[list[str]]:
    return connection.run(
        "SELECT data_type, is_nullable FROM information_schema.columns"
        " WHERE table_name = :table AND column_name = 'renditions'",
        table=table,
    )


def _insert(connection: pg8000.native.Connection, table: str, renditions: object) -> None:
    [[user_id]] = connection.run(
        "INSERT INTO users (name, username, email, password_hash)"
        " VALUES ('Someone', 'owner', 'owner@example.com', 'hash')"
        " ON CONFLICT (username) DO UPDATE SET name = excluded.name RETURNING id"
    )
    # Table names come from TABLES, never from input.
    connection.run(
        f"INSERT INTO {table} (filename, user_id, renditions)"
        " VALUES (:filename, :user_id, CAST(:renditions AS int[]))",
        filename=BLOB,
        user_id=user_id,
        renditions=renditions,
    )


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("renditions", [None, [], [640], [640, 1080]])
def test_the_widths_are_an_optional_int_array(
    owner: pg8000.native.Connection, table: str, renditions: list[int] | None
) -> None:
    assert _column(owner, table) == [["ARRAY", "YES"]]
    _insert(owner, table, renditions)
    assert owner.run(f"SELECT renditions FROM {table}") == [[renditions]]


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("renditions", [[0], [640, -1080]])
def test_widths_must_be_positive(
    owner: pg8000.native.Connection, table: str, renditions: list[int]
) -> None:
    with pytest.raises(pg8000.exceptions.DatabaseError) as raised:
        _insert(owner, table, renditions)
    assert raised.value.args[0]["C"] == CHECK_VIOLATION


def test_the_backfill_index_holds_only_posts_still_to_process(
    owner: pg8000.native.Connection,
) -> None:
    [[definition]] = owner.run(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'posts_renditions_missing_idx'"
    )
    assert definition.endswith("USING btree (id) WHERE (renditions IS NULL)")


def test_rolling_back_drops_the_columns_and_the_index(
    migrated_database_url: str, owner: pg8000.native.Connection
) -> None:
    steps = sum(1 for migration in discover(DEFAULT_DIR) if migration.version >= 13)
    rolled_back = rollback(migrated_database_url, steps=steps, progress=lambda _line: None)
    assert rolled_back[-1].label == "0013_image_renditions"
    assert _column(owner, "uploads") == [] and _column(owner, "posts") == []
    assert (
        owner.run("SELECT 1 FROM pg_indexes WHERE indexname = 'posts_renditions_missing_idx'") == []
    )
