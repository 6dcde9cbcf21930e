"""Fixtures shared by every test: the session's dependency servers."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from phasma.devstack.services import Dependencies, DependencyUrls


@pytest.fixture(scope="session")
def dependencies() -> Iterator[DependencyUrls]:
    """PostgreSQL, Redis, Kafka and S3 for the whole session; the environment may name any.

    The state lives outside pytest's tmp_path root: each pytest session that starts locks
    that root to 0700 again, which cuts off PostgreSQL, run as a system user when we are
    root, in mid-initdb. It is removed after the session, or kept when a server failed.
    """
    state_dir = Path(tempfile.mkdtemp(prefix="phasma-devstack-"))
    with Dependencies(state_dir, os.environ) as servers:
        yield servers.start()
    shutil.rmtree(state_dir)
