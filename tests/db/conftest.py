"""Fixtures for the database tests: a fresh database per test on the shared server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

import pytest

from phasma.db.connect import connect
from phasma.db.migrations import migrate


class _Dependencies(Protocol):
    database_url: str


def _with_database(database_url: str, database: str) -> str:
    """``database_url`` pointing at another database on the same server."""
    return urlunsplit(urlsplit(database_url)._replace(path=f"/{database}"))


@pytest.fixture
def empty_database_url(dependencies: _Dependencies) -> Iterator[str]:
    """A superuser URL to a brand-new empty database, dropped after the test."""
    # Generated here, never user input, so interpolating it into DDL is safe.
    name = f"phasma_test_{uuid.uuid4().hex[:16]}"
    with connect(dependencies.database_url) as connection:
        connection.run(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(dependencies.database_url, name)
    finally:
        with connect(dependencies.database_url) as connection:
            connection.run(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def migrated_database_url(empty_database_url: str) -> str:
    """``empty_database_url`` with every migration applied."""
    migrate(empty_database_url, progress=lambda _line: None)
    return empty_database_url
