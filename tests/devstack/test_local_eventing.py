"""Local eventing against the real broker: ordered delivery, retries, dead letters, pings."""

from __future__ import annotations

import base64
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from werkzeug import Request, Response
from werkzeug.serving import make_server

from phasma.devstack.eventing import (
    Dispatcher,
    Ping,
    RetryPolicy,
    Subscription,
    dispatcher_for,
)
from phasma.devstack.services import DependencyUrls, start_kafka
from phasma.events.cloudevents import OutboxRow, from_http_request, to_kafka_record
from phasma.provisioning import create_topics
from phasma.registry import Function, Scaling, Schedule
from tests.events.records import TopicReader, header

# Small numbers so a test sees the whole retry budget in well under a second.
QUICK_RETRIES = RetryPolicy(retries=3, backoff_seconds=0.05)
REJECTION = b'{"message":"550 5.1.1 no such mailbox"}'
LIGHT = Scaling(1, 1, 1, None, "100m", "500m", "128Mi", "256Mi", 5)


class Worker:
    """A tiny event function: records each delivery, answers what `answer` decides."""

    def __init__(self, answer: Callable[[str, int], int]) -> None:
        self.answer = answer  # (event id, attempt number) -> status
        self.deliveries: list[tuple[str, int, dict[str, Any]]] = []  # (id, status, event)
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _app(self, environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        event = from_http_request(dict(request.headers), request.get_data())
        with self._lock:
            attempt = 1 + sum(1 for seen, _, _ in self.deliveries if seen == event["id"])
            status = self.answer(event["id"], attempt)
            attributes = {**event.get_attributes(), "data": event.get_data()}
            self.deliveries.append((event["id"], status, attributes))
        body = REJECTION if status == 422 else b""
        return Response(body, status=status)(environ, start_response)

    def statuses(self, event_id: str) -> list[int]:
        with self._lock:
            return [status for seen, status, _ in self.deliveries if seen == event_id]

    def wait_for(self, condition: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"gave up waiting; deliveries: {self.deliveries}"
            time.sleep(0.02)

    def close(self) -> None:
        self._server.shutdown()


@pytest.fixture
def names() -> dict[str, str]:
    """Topic, dead-letter topic and consumer group of this test alone."""
    suffix = secrets.token_hex(4)
    return {
        "topic": f"test-events-{suffix}",
        "dead_letter": f"test-dead-letter-{suffix}",
        "group": f"phasma-test-{suffix}",
    }


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.close()


@pytest.fixture
def dispatchers() -> Iterator[list[Dispatcher]]:
    started: list[Dispatcher] = []
    yield started
    for dispatcher in started:
        dispatcher.stop()


def subscribed_dispatcher(
    brokers: str,
    names: dict[str, str],
    worker: Worker,
    dispatchers: list[Dispatcher],
    topics: dict[str, int],
    timeout_seconds: int = 5,
    **options: Any,
) -> Dispatcher:
    """A dispatcher with one KafkaSource from this test's topic to `worker` (not started).

    Its keeper keeps `topics` (name -> partitions); they are created first, as setup
    creates them before `./taskw up` starts the local eventing.
    """
    create_topics(brokers, topics)
    subscription = Subscription(
        "test-worker", names["group"], (names["topic"],), worker.url, timeout_seconds
    )
    dispatcher = Dispatcher(brokers, [subscription], topics=topics, **options)
    dispatchers.append(dispatcher)
    return dispatcher


def row(topic: str, event_id: int, key: str) -> OutboxRow:
    return OutboxRow(
        event_id, topic, "phasma.post.liked", "/phasma/likes", key, key, {"n": event_id},
        datetime.now(UTC),
    )  # fmt: skip


def produce(brokers: str, rows: list[OutboxRow], partition: int = 0) -> None:
    producer = KafkaProducer(bootstrap_servers=brokers, allow_auto_create_topics=False)
    try:
        for outbox_row in rows:
            record = to_kafka_record(outbox_row)
            producer.send(
                record.topic,
                value=record.value,
                key=record.key,
                headers=record.headers,
                partition=partition,
            ).get(timeout=10)
    finally:
        producer.close()


def committed(brokers: str, group: str, topic: str, partition: int) -> int | None:
    """The group's committed offset (asked without joining the group)."""
    consumer = KafkaConsumer(bootstrap_servers=brokers, group_id=group, enable_auto_commit=False)
    try:
        return consumer.committed(TopicPartition(topic, partition))
    finally:
        consumer.close(autocommit=False)


def test_a_poison_record_is_dead_lettered_and_the_partition_moves_on(
    dependencies: DependencyUrls,
    names: dict[str, str],
    workers: list[Worker],
    dispatchers: list[Dispatcher],
) -> None:
    brokers = dependencies.kafka_brokers
    worker = Worker(lambda event_id, attempt: 503 if event_id == "2" else 204)
    workers.append(worker)
    reports: list[str] = []
    dispatcher = subscribed_dispatcher(
        brokers,
        names,
        worker,
        dispatchers,
        retry=QUICK_RETRIES,
        dead_letter_topic=names["dead_letter"],
        topics={names["topic"]: 1, names["dead_letter"]: 1},
        report=reports.append,
    )
    dead_letters = TopicReader(brokers, [names["dead_letter"]])
    produce(brokers, [row(names["topic"], n, "post-1") for n in (1, 2, 3)])

    dispatcher.start()
    worker.wait_for(lambda: worker.statuses("3") == [204])

    assert worker.statuses("1") == [204]
    assert worker.statuses("2") == [503] * (1 + QUICK_RETRIES.retries)
    order = [event_id for event_id, _, _ in worker.deliveries]
    assert order == ["1", "2", "2", "2", "2", "3"]  # the poison record held its partition
    dead = dead_letters.with_ids(["2"], "post-1")["2"]
    dead_letters.close()
    assert len(dead) == 1
    assert dead[0].key == b"post-1" and dead[0].value == b'{"n":2}'
    assert header(dead[0], "ce_type") == "phasma.post.liked"
    assert header(dead[0], "ce_knativeerrorcode") == "503"
    assert header(dead[0], "ce_knativeerrordest") == worker.url
    assert any("dead-lettered" in line for line in reports)
    worker.wait_for(lambda: committed(brokers, names["group"], names["topic"], 0) == 3)


def test_a_rejected_event_is_dead_lettered_at_once_with_its_reason(
    dependencies: DependencyUrls,
    names: dict[str, str],
    workers: list[Worker],
    dispatchers: list[Dispatcher],
) -> None:
    # A worker's 422 (phasma.events.worker.Reject) means "never": like Knative, no retry.
    brokers = dependencies.kafka_brokers
    worker = Worker(lambda event_id, attempt: 422 if event_id == "2" else 204)
    workers.append(worker)
    dispatcher = subscribed_dispatcher(
        brokers,
        names,
        worker,
        dispatchers,
        retry=QUICK_RETRIES,
        dead_letter_topic=names["dead_letter"],
        topics={names["topic"]: 1, names["dead_letter"]: 1},
    )
    dead_letters = TopicReader(brokers, [names["dead_letter"]])
    produce(brokers, [row(names["topic"], n, "post-1") for n in (1, 2, 3)])

    dispatcher.start()
    worker.wait_for(lambda: worker.statuses("3") == [204])

    assert worker.statuses("2") == [422]  # delivered once, never retried
    dead = dead_letters.with_ids(["2"], "post-1")["2"]
    dead_letters.close()
    assert len(dead) == 1
    assert header(dead[0], "ce_knativeerrorcode") == "422"
    assert base64.b64decode(header(dead[0], "ce_knativeerrordata")) == REJECTION


def test_failed_deliveries_are_retried_while_other_partitions_go_on(
    dependencies: DependencyUrls,
    names: dict[str, str],
    workers: list[Worker],
    dispatchers: list[Dispatcher],
) -> None:
    brokers = dependencies.kafka_brokers
    answers = {1: 500, 2: 503}  # a flaky worker: two failures, then success
    worker = Worker(
        lambda event_id, attempt: answers.get(attempt, 204) if event_id == "10" else 204
    )
    workers.append(worker)
    dispatcher = subscribed_dispatcher(
        brokers,
        names,
        worker,
        dispatchers,
        retry=RetryPolicy(retries=10, backoff_seconds=0.3),
        topics={names["topic"]: 2},
    )
    produce(brokers, [row(names["topic"], 10, "post-a")], partition=0)
    produce(brokers, [row(names["topic"], 11, "post-b")], partition=1)

    dispatcher.start()
    worker.wait_for(lambda: worker.statuses("10")[-1:] == [204])

    assert worker.statuses("10") == [500, 503, 204]  # redelivered until a 2xx
    assert worker.statuses("11") == [204]
    order = [event_id for event_id, _, _ in worker.deliveries]
    assert order.index("11") < len(order) - 1  # partition 1 did not wait for partition 0
    for partition in (0, 1):
        worker.wait_for(
            lambda p=partition: committed(brokers, names["group"], names["topic"], p) == 1
        )


def test_a_worker_slower_than_the_drain_pass_still_gets_every_record_once_in_order(
    dependencies: DependencyUrls,
    names: dict[str, str],
    workers: list[Worker],
    dispatchers: list[Dispatcher],
) -> None:
    brokers = dependencies.kafka_brokers

    def slow(event_id: str, attempt: int) -> int:
        time.sleep(0.4)  # a pass starts deliveries for 1 s: about three per pass
        return 204

    worker = Worker(slow)
    workers.append(worker)
    dispatcher = subscribed_dispatcher(
        brokers,
        names,
        worker,
        dispatchers,
        timeout_seconds=1,
        topics={names["topic"]: 1},
    )
    produce(brokers, [row(names["topic"], n, "post-1") for n in range(1, 9)])

    dispatcher.start()
    worker.wait_for(lambda: len(worker.deliveries) >= 8)
    worker.wait_for(lambda: committed(brokers, names["group"], names["topic"], 0) == 8)
    assert [event_id for event_id, _, _ in worker.deliveries] == [str(n) for n in range(1, 9)]


def test_pings_fire_at_start_and_then_on_their_interval(
    dependencies: DependencyUrls, workers: list[Worker], dispatchers: list[Dispatcher]
) -> None:
    worker = Worker(lambda event_id, attempt: 204)
    workers.append(worker)
    dispatcher = Dispatcher(
        dependencies.kafka_brokers,
        [],
        [Ping("test-sweep", worker.url, '{"task":"outbox-sweep"}', every_seconds=0.2)],
        topics={},
    )
    dispatchers.append(dispatcher)
    dispatcher.start()
    worker.wait_for(lambda: len(worker.deliveries) >= 3, timeout=10)
    first = worker.deliveries[0][2]
    assert first["type"] == "dev.knative.sources.ping"
    assert first["source"] == "/apis/v1/namespaces/phasma/pingsources/test-sweep"
    assert first["data"] == {"task": "outbox-sweep"}
    assert len({event_id for event_id, _, _ in worker.deliveries}) == len(worker.deliveries)


@pytest.mark.servers  # its own broker, which it restarts
def test_deliveries_resume_after_the_broker_restarts_empty(
    tmp_path: Path, names: dict[str, str], workers: list[Worker], dispatchers: list[Dispatcher]
) -> None:
    broker = start_kafka(tmp_path)
    reports: list[str] = []
    try:
        worker = Worker(lambda event_id, attempt: 204)
        workers.append(worker)
        dispatcher = subscribed_dispatcher(
            broker.url,
            names,
            worker,
            dispatchers,
            topics={names["topic"]: 1},
            report=reports.append,
        )
        dispatcher.start()
        worker.wait_for(lambda: dispatcher.wait_until_joined(0.1))
        produce(broker.url, [row(names["topic"], 1, "post-1")])
        worker.wait_for(lambda: worker.statuses("1") == [204])

        broker.stop()  # Tansu keeps nothing: the topic and the group's offsets are gone
        broker = start_kafka(tmp_path, port=int(broker.url.rsplit(":", 1)[1]))
        # Produce only once the keeper has recreated the topic: a produce to a missing
        # topic makes Tansu create one itself, with its default partition count.
        worker.wait_for(lambda: any("topics recreated" in line for line in reports), timeout=60)
        assert names["topic"] in next(line for line in reports if "topics recreated" in line)
        produce(broker.url, [row(names["topic"], 2, "post-1")])
        # The new log's record sits at offset 1's old position; it must not be skipped.
        # A second delivery is in the contract (at least once), a missing one is not.
        worker.wait_for(lambda: worker.statuses("2")[:1] == [204], timeout=60)
    finally:
        for dispatcher in dispatchers:
            dispatcher.stop()
        broker.stop()


def test_the_registry_decides_sources_and_schedules() -> None:
    functions = (
        Function("a-worker", "event", "w", LIGHT, topics=("entity-changes", "activity")),
        Function(
            "a-relay",
            "event",
            "r",
            LIGHT,
            schedule=Schedule("a-relay-sweep", "* * * * *", '{"task":"sweep"}', 3),
        ),
        Function("an-api", "http", "h", LIGHT),
        Function("not-running", "event", "n", LIGHT, topics=("activity",)),
    )
    urls = {"a-worker": "http://w/", "a-relay": "http://r/", "an-api": "http://h/"}
    dispatcher = dispatcher_for("127.0.0.1:9", functions, urls, lambda line: None)
    sources = [loop.subscription for loop in dispatcher.sources]
    assert sources == [
        Subscription("a-worker", "phasma-a-worker", ("entity-changes", "activity"), "http://w/", 5)
    ]
    assert [loop.ping for loop in dispatcher.pings] == [
        Ping("a-relay-sweep", "http://r/", '{"task":"sweep"}', 3)
    ]
