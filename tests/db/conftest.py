"""Fixtures for the database tests: a fresh database per test on the shared server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Protocol

import pytest

from phasma.db.connect import connect
from tests.databases import database_from_template, with_database


class _Dependencies(Protocol):
    database_url: str


def _drop(database_url: str, name: str) -> None:
    with connect(database_url) as connection:
        connection.run(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def empty_database_url(dependencies: _Dependencies) -> Iterator[str]:
    """A superuser URL to a brand-new empty database, dropped after the test."""
    # Generated here, never user input, so interpolating it into DDL is safe.
    name = f"phasma_test_{uuid.uuid4().hex[:16]}"
    with connect(dependencies.database_url) as connection:
        connection.run(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(dependencies.database_url, name)
    finally:
        _drop(dependencies.database_url, name)


@pytest.fixture
def migrated_database_url(dependencies: _Dependencies, template_database: str) -> Iterator[str]:
    """A superuser URL to a brand-new database with every migration applied, dropped after.

    A copy of the session's migrated template (tests/databases.py), not a migration run.
    """
    name = f"phasma_test_{uuid.uuid4().hex[:16]}"
    url = database_from_template(dependencies.database_url, template_database, name)
    try:
        yield url
    finally:
        _drop(dependencies.database_url, name)
