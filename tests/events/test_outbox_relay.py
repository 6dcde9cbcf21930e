"""The `outbox-relay` sweep against the real broker: batches, grace period, SKIP LOCKED."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from prometheus_client import REGISTRY
from werkzeug.test import Client

from phasma.devstack.eventing import ping_event
from phasma.devstack.services import DependencyUrls, free_port
from phasma.events.relay import SweepResult, sweep
from phasma.events.worker import OUTCOME_HEADER, EventFunction
from tests.api.conftest import Database, deliver
from tests.events.records import TopicReader, header

SWEEP = ping_event("outbox-relay-sweep", '{"task":"outbox-sweep"}')


@pytest.fixture(autouse=True)
def empty_outbox(database: Database) -> None:
    database.rows("DELETE FROM outbox")


@pytest.fixture
def reader(dependencies: DependencyUrls) -> Iterator[TopicReader]:
    topic_reader = TopicReader(dependencies.kafka_brokers)
    yield topic_reader
    topic_reader.close()


def insert_events(database: Database, count: int, *, age_seconds: float, key: str) -> list[int]:
    """`count` unpublished `phasma.post.liked` rows written `age_seconds` ago, in id order."""
    rows = database.rows(
        """
        INSERT INTO outbox (topic, type, source, subject, partition_key, payload, created)
        SELECT 'activity', 'phasma.post.liked', '/phasma/likes', :key, :key,
               jsonb_build_object('sequence', n), now() - make_interval(secs => :age)
        FROM generate_series(1, :count) AS n
        ORDER BY n
        RETURNING id
        """,
        key=key,
        age=age_seconds,
        count=count,
    )
    return sorted(row[0] for row in rows)


def unpublished(database: Database, ids: list[int]) -> set[int]:
    rows = database.rows(
        "SELECT id FROM outbox WHERE id = ANY(:ids) AND published_at IS NULL", ids=ids
    )
    return {row[0] for row in rows}


def relay_health(relay: EventFunction) -> dict[str, Any]:
    """The relay's pipeline in `GET /health/background`."""
    response = Client(relay.wsgi_app).get("/health/background")
    assert response.status_code == 200
    return next(p for p in response.get_json()["pipelines"] if p["name"] == "outbox-relay")


def relayed_total() -> float:
    return REGISTRY.get_sample_value("phasma_outbox_relayed_total") or 0.0


def test_a_sweep_publishes_due_rows_in_batches_and_leaves_young_ones(
    host: Callable[..., EventFunction], database: Database, reader: TopicReader
) -> None:
    relay = host("outbox-relay", outbox_relay_batch_size=10, outbox_relay_min_age_seconds=30)
    due = insert_events(database, 25, age_seconds=60, key="relay-batches")
    young = insert_events(database, 2, age_seconds=0, key="relay-young")
    before = relayed_total()

    result = sweep(relay.runtime)

    assert result == SweepResult(published=25, batches=3, unpublished=2, due=0)
    assert relayed_total() - before == 25
    assert unpublished(database, due) == set()
    assert unpublished(database, young) == set(young)
    records = reader.with_ids(due, "relay-batches")
    assert sorted(int(event_id) for event_id in records) == due
    assert all(len(copies) == 1 for copies in records.values())
    # One key, one partition: the records follow the rows' order.
    offsets = [records[str(event_id)][0].offset for event_id in due]
    assert offsets == sorted(offsets)
    first = records[str(due[0])][0]
    assert first.topic == "activity" and first.key == b"relay-batches"
    assert header(first, "ce_type") == "phasma.post.liked"
    assert header(first, "ce_partitionkey") == "relay-batches"
    assert first.value == b'{"sequence":1}'


def test_the_ping_runs_a_sweep_and_reports_on_metrics_and_background_health(
    host: Callable[..., EventFunction], database: Database, reader: TopicReader
) -> None:
    relay = host("outbox-relay", outbox_relay_min_age_seconds=30)
    due = insert_events(database, 3, age_seconds=60, key="relay-ping")
    insert_events(database, 1, age_seconds=0, key="relay-ping-young")

    response = deliver(relay, SWEEP)

    assert response.status_code == 204
    assert response.headers[OUTCOME_HEADER] == "applied"
    assert len(reader.with_ids(due, "relay-ping")) == 3
    assert REGISTRY.get_sample_value("phasma_outbox_unpublished") == 1
    age = REGISTRY.get_sample_value("phasma_outbox_oldest_unpublished_age_seconds")
    assert age is not None and 0 <= age < 30
    pipeline = relay_health(relay)
    assert pipeline["running"] and not pipeline["stale"] and pipeline["errorStreak"] == 0
    assert pipeline["processed"] >= 1 and pipeline["lastProgress"] is not None


def test_another_task_is_skipped(host: Callable[..., EventFunction], database: Database) -> None:
    relay = host("outbox-relay")
    ids = insert_events(database, 1, age_seconds=60, key="relay-other-task")
    response = deliver(relay, ping_event("outbox-relay-sweep", '{"task":"vacuum"}'))
    assert response.status_code == 204
    assert response.headers[OUTCOME_HEADER] == "skipped"
    assert unpublished(database, ids) == set(ids)


def test_concurrent_sweeps_claim_every_row_exactly_once(
    host: Callable[..., EventFunction], database: Database, reader: TopicReader
) -> None:
    relays = [
        host("outbox-relay", outbox_relay_batch_size=10, outbox_relay_min_age_seconds=1)
        for _ in range(2)
    ]
    ids = insert_events(database, 200, age_seconds=60, key="relay-concurrent")
    results: list[SweepResult] = []
    start = threading.Barrier(len(relays))  # both sweeps claim from the same instant

    def run(relay: EventFunction) -> None:
        start.wait()
        results.append(sweep(relay.runtime))

    threads = [threading.Thread(target=run, args=(relay,)) for relay in relays]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Both sweeps finished, and a row both had claimed would be counted twice.
    assert len(results) == 2
    assert sum(result.published for result in results) == 200
    assert unpublished(database, ids) == set()
    records = reader.with_ids(ids, "relay-concurrent")
    assert len(records) == 200
    # The broker may keep a second copy of a record the producer retried under load
    # (the relay is at-least-once, docs/operations.md §2.3), but never serves one offset twice.
    offsets = [(record.partition, record.offset) for found in records.values() for record in found]
    assert len(offsets) == len(set(offsets))


def test_a_broker_that_does_not_answer_leaves_the_rows_and_answers_503(
    host: Callable[..., EventFunction], database: Database
) -> None:
    relay = host(
        "outbox-relay",
        kafka_brokers=f"127.0.0.1:{free_port()}",
        kafka_publish_timeout_ms=300,
        outbox_relay_min_age_seconds=1,
    )
    ids = insert_events(database, 2, age_seconds=60, key="relay-no-broker")

    response = deliver(relay, SWEEP)

    assert response.status_code == 503
    assert response.get_json() == {"message": "Service unavailable"}
    assert unpublished(database, ids) == set(ids)
    pipeline = relay_health(relay)
    assert pipeline["errorStreak"] >= 1 and pipeline["firstErrorAt"] is not None
    assert "BrokerUnavailable" in pipeline["lastError"]
    # The next sweep that reaches the broker publishes the rows and ends the streak.
    healthy = host("outbox-relay", outbox_relay_min_age_seconds=1)
    assert deliver(healthy, SWEEP).status_code == 204
    assert unpublished(database, ids) == set()
    pipeline = relay_health(healthy)
    assert (pipeline["errorStreak"], pipeline["firstErrorAt"]) == (0, None)
