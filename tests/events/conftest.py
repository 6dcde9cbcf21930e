"""Fixtures for the event plumbing tests: their own database, event functions, the broker.

The relay and the janitor act on whole tables, so these tests get a database of
their own instead of sharing the API tests' one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from phasma.config import Settings
from phasma.devstack.services import DependencyUrls
from phasma.events.worker import EventFunction
from phasma.provisioning import create_bucket, create_topics
from phasma.registry import get_function
from phasma.runtime import Runtime
from phasma.topics import PARTITIONS
from tests.api.conftest import Bucket, Database, build_settings, migrated_database


@pytest.fixture(scope="session")
def events_database(dependencies: DependencyUrls, template_database: str) -> tuple[str, str]:
    """(owner URL, app-role URL) of the event tests' database; the topics exist too."""
    create_topics(dependencies.kafka_brokers, PARTITIONS)
    return migrated_database(dependencies, template_database, "phasma_event_tests")


@pytest.fixture(scope="session")
def events_settings(events_database: tuple[str, str], dependencies: DependencyUrls) -> Settings:
    settings = build_settings(events_database[1], dependencies, s3_bucket="phasma-event-tests")
    create_bucket(
        settings.s3_endpoint,
        settings.s3_bucket,
        settings.s3_access_key or "",
        settings.s3_secret_key or "",
        settings.s3_region,
    )
    return settings


@pytest.fixture
def database(events_database: tuple[str, str]) -> Database:
    return Database(events_database[0])


@pytest.fixture(scope="session")
def bucket(events_settings: Settings) -> Bucket:
    return Bucket(events_settings)


@pytest.fixture
def host(
    events_database: tuple[str, str], dependencies: DependencyUrls
) -> Iterator[Callable[..., EventFunction]]:
    """`host(name, **settings)`: the registered event function on the event tests' database."""
    hosted: list[EventFunction] = []

    def build(name: str, **overrides: Any) -> EventFunction:
        settings = build_settings(
            events_database[1], dependencies, s3_bucket="phasma-event-tests", **overrides
        )
        function = get_function(name)
        hosted.append(EventFunction(function, Runtime(function, settings)))
        return hosted[-1]

    yield build
    for function in hosted:
        function.runtime.close()
