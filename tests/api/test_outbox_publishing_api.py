"""Events leave the database: inline after commit, and via the relay after a broker outage."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from phasma.devstack.eventing import ping_event
from phasma.devstack.services import DependencyUrls, RunningService, start_kafka
from phasma.events.worker import OUTCOME_HEADER, EventFunction
from phasma.provisioning import create_topics
from phasma.topics import PARTITIONS
from tests.api.conftest import Api, Database, deliver, new_identity
from tests.events.records import TopicReader, header


def publish_outcomes(outcome: str) -> float:
    value = REGISTRY.get_sample_value("phasma_outbox_publish_total", {"outcome": outcome})
    return value or 0.0


def user_created_row(database: Database, username: str) -> tuple[int, str, object]:
    """(id, subject, published_at) of the `phasma.user.created` row of `username`."""
    rows = database.rows(
        """
        SELECT outbox.id, outbox.subject, outbox.published_at
        FROM outbox JOIN users ON outbox.subject = users.public_id::text
        WHERE users.username = :username AND outbox.type = 'phasma.user.created'
        """,
        username=username,
    )
    assert len(rows) == 1
    return rows[0][0], rows[0][1], rows[0][2]


def test_a_mutation_publishes_its_event_right_after_commit(
    api: Api, database: Database, dependencies: DependencyUrls
) -> None:
    reader = TopicReader(dependencies.kafka_brokers)
    published_before = publish_outcomes("published")
    identity = new_identity()

    assert api.post("/users", json=identity).status_code == 201

    row_id, subject, published_at = user_created_row(database, identity["username"])
    assert published_at is not None  # set before the response went out
    # Two rows: user.created and the verification mail's mail.requested.
    assert publish_outcomes("published") == published_before + 2
    record = reader.with_ids([row_id], subject)[str(row_id)][0]
    reader.close()
    assert record.topic == "entity-changes"
    assert record.key == subject.encode()
    assert header(record, "ce_specversion") == "1.0"
    assert header(record, "ce_source") == "/phasma/users"
    assert header(record, "ce_type") == "phasma.user.created"
    assert header(record, "ce_subject") == subject
    assert header(record, "ce_partitionkey") == subject
    assert header(record, "content-type") == "application/json"
    payload = json.loads(record.value)
    stored = database.value("SELECT payload FROM outbox WHERE id = :id", id=row_id)
    assert payload == stored
    assert payload["username"] == identity["username"] and payload["userId"] == subject


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[list[RunningService]]:
    """A broker of this test's own, which it may stop and start again (on the same port)."""
    running = [start_kafka(tmp_path)]
    create_topics(running[0].url, PARTITIONS)
    yield running
    for service in running:
        service.stop()


def test_a_broker_outage_delays_events_without_failing_or_losing_them(
    own_broker: list[RunningService],
    tmp_path: Path,
    stack_with: Callable[..., str],
    event_function: Callable[..., EventFunction],
    database: Database,
) -> None:
    broker = own_broker[0]
    settings = {"kafka_brokers": broker.url, "kafka_publish_timeout_ms": 1000}
    client = Api(stack_with(**settings))
    broker.stop()
    deferred_before = publish_outcomes("deferred")
    identity = new_identity()

    # The mutation succeeds; its event waits in the outbox.
    assert client.post("/users", json=identity).status_code == 201
    row_id, subject, published_at = user_created_row(database, identity["username"])
    assert published_at is None
    # Two rows: user.created and the verification mail's mail.requested.
    assert publish_outcomes("deferred") == deferred_before + 2

    # The broker comes back empty (memory only): topics are recreated, the relay sweeps.
    port = int(broker.url.rsplit(":", 1)[1])
    own_broker.append(start_kafka(tmp_path, port=port))
    create_topics(broker.url, PARTITIONS)
    reader = TopicReader(broker.url)
    relay = event_function("outbox-relay", **settings, outbox_relay_min_age_seconds=0)
    response = deliver(relay, ping_event("outbox-relay-sweep", '{"task":"outbox-sweep"}'))

    assert response.status_code == 204
    assert response.headers[OUTCOME_HEADER] == "applied"
    record = reader.with_ids([row_id], subject)[str(row_id)][0]
    reader.close()
    assert header(record, "ce_type") == "phasma.user.created"
    assert record.key == subject.encode()
    assert user_created_row(database, identity["username"])[2] is not None
