"""Fixtures shared by every test: the session's dependency servers and migrated template."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from phasma.devstack.services import Dependencies, DependencyUrls
from tests.databases import migrated_template


@pytest.fixture(scope="session")
def dependencies() -> Iterator[DependencyUrls]:
    """PostgreSQL, Redis, Kafka and S3 for the whole session; the environment may name any.

    Started only when a test asks for it, so `./taskw test:unit` starts nothing. The
    PostgreSQL started here is not durable (no fsync): its data dies with the session.

    The state lives outside pytest's tmp_path root: each pytest session that starts locks
    that root to 0700 again, which cuts off PostgreSQL, run as a system user when we are
    root, in mid-initdb. It is removed after the session, or kept when a server failed.
    """
    state_dir = Path(tempfile.mkdtemp(prefix="phasma-devstack-"))
    with Dependencies(state_dir, os.environ, durable=False) as servers:
        yield servers.start()
    shutil.rmtree(state_dir)


@pytest.fixture(scope="session")
def template_database(dependencies: DependencyUrls) -> str:
    """The name of a database with every migration applied, to copy (tests/databases.py)."""
    return migrated_template(dependencies.database_url)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `servers` every test that needs the dependency servers, for `-m "not servers"`."""
    for item in items:
        if "dependencies" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.servers)
