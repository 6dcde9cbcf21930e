"""Local eventing: Knative's KafkaSource and PingSource, played for `./taskw up` and tests.

Per worker (an event function with topics), one consumer group `phasma-<name>` reads
its topics from the earliest offset and POSTs each record to the worker as an HTTP
binary-mode CloudEvent, with the semantics of docs/operations.md §2.2:

- ordered per partition: a record being retried holds its partition (and only it);
- offsets are committed only after a 2xx;
- a failed delivery is retried with exponential backoff (10 retries from 0.5 s by
  default), then the record goes to the `dead-letter` topic with Knative's
  `knativeerrordest` / `knativeerrorcode` / `knativeerrordata` extensions and the
  partition moves on;
- as in Knative, a 4xx other than 404, 408, 409, 425 and 429 is not retried: the
  worker said the event can never succeed, so it is dead-lettered at once.

Per scheduled function, a ping posts its registry payload once at start, then every
`Schedule.local_every_seconds`. Tansu keeps topics in memory only, so a keeper
recreates missing topics every few seconds, and each consumer of a recreated topic
reads it again from the beginning: its position in the old log means nothing in the new.
"""

from __future__ import annotations

import base64
import collections
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import urllib3
from cloudevents.http import CloudEvent
from kafka import ConsumerRebalanceListener, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from phasma.deploy.eventing import consumer_group
from phasma.events.cloudevents import (
    CONTENT_TYPE,
    UndecodableEvent,
    from_kafka_record,
    to_http,
)
from phasma.events.worker import PING_TYPE
from phasma.provisioning import create_topics
from phasma.registry import Function
from phasma.topics import DEAD_LETTER, PARTITIONS

log = logging.getLogger(__name__)

DEAD_LETTER_TOPIC = DEAD_LETTER.name
ERROR_HEADERS = ("ce_knativeerrordest", "ce_knativeerrorcode", "ce_knativeerrordata")
# What KafkaSource calls a record that is not a CloudEvent.
RAW_RECORD_TYPE = "dev.knative.kafka.event"
# Consumer groups join in ~3 s with these instead of ~20 s (ARCHITECTURE.md, local stack).
SESSION_TIMEOUT_MS = 6000
HEARTBEAT_INTERVAL_MS = 500
# Notice recreated topics quickly after a broker restart.
METADATA_MAX_AGE_MS = 2000
# Tansu answers a waiting fetch only when its wait is over, not when a record arrives,
# so the wait bounds delivery latency (at kafka-python's default of 500 ms a like took
# ~160 ms to reach its worker, at 100 ms ~20 ms).
FETCH_MAX_WAIT_MS = 100
TOPIC_CHECK_SECONDS = 2.0
RECONNECT_SECONDS = 1.0
# Records buffered per partition before fetching from it pauses.
PARTITION_BUFFER = 500
POLL_SECONDS = 0.2
# Leaving the group must not hold up a stop while the broker is gone.
CLOSE_TIMEOUT_MS = 2000
# kafka-python sends the poll interval as JoinGroup's rebalance timeout, and a Tansu
# restarted empty under a member holds that member's JoinGroup for all of it: this
# floor bounds the stall (at 300 s deliveries stopped for five minutes).
MIN_POLL_INTERVAL_SECONDS = 30
# Knative's delivery retries these 4xx (and every 5xx); any other 4xx goes to the dead letters.
RETRYABLE_CLIENT_ERRORS = frozenset({404, 408, 409, 425, 429})
# Knative keeps at most this much of a failed response's body in `knativeerrordata`.
ERROR_DATA_MAX_BYTES = 1024


def retryable(status: int) -> bool:
    """Whether a delivery answered `status` is tried again (0: nothing answered)."""
    return not 400 <= status < 500 or status in RETRYABLE_CLIENT_ERRORS


@dataclass(frozen=True)
class Answer:
    """A worker's answer to one delivery: its status (0 when nothing answered) and body."""

    status: int
    body: bytes = b""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True)
class RetryPolicy:
    """KafkaSource's `retry` and exponential `backoffDelay`: delay * 2^(attempt - 1)."""

    retries: int = 10
    backoff_seconds: float = 0.5

    def delay(self, failed_attempts: int) -> float:
        return self.backoff_seconds * 2.0 ** (failed_attempts - 1)


@dataclass(frozen=True)
class Subscription:
    """A KafkaSource: consumer group `group` delivering `topics` to the worker at `url`."""

    name: str
    group: str
    topics: tuple[str, ...]
    url: str
    timeout_seconds: float = 60.0


@dataclass(frozen=True)
class Ping:
    """A PingSource: `payload` posted to `url` at start, then every `every_seconds`."""

    source_name: str
    url: str
    payload: str
    every_seconds: float
    timeout_seconds: float = 300.0


@dataclass
class _Partition:
    """Records fetched from one partition and the retry state of the first."""

    records: collections.deque[Any] = field(default_factory=collections.deque)
    failed_attempts: int = 0
    next_attempt_at: float = 0.0


def record_event(record: Any) -> CloudEvent:
    """The CloudEvent a record carries, or KafkaSource's wrapping of a record that has none."""
    try:
        return from_kafka_record(record.headers or [], record.key, record.value)
    except UndecodableEvent:
        try:
            data = json.loads(record.value) if record.value else None
        except ValueError:
            data = None
        return CloudEvent(
            {
                "id": f"partition:{record.partition}/offset:{record.offset}",
                "source": f"/phasma/devstack/kafka#{record.topic}",
                "type": RAW_RECORD_TYPE,
                "datacontenttype": CONTENT_TYPE,
            },
            data,
        )


def ping_event(source_name: str, payload: str) -> CloudEvent:
    """The event a PingSource named `source_name` sends with its JSON `payload`."""
    return CloudEvent(
        {
            "type": PING_TYPE,
            "source": f"/apis/v1/namespaces/phasma/pingsources/{source_name}",
            "datacontenttype": CONTENT_TYPE,
        },
        json.loads(payload),
    )


class _Delivery:
    """POSTs CloudEvents to one URL; the answer (status 0 when nothing answered)."""

    def __init__(self, url: str, timeout_seconds: float) -> None:
        self.url = url
        self._http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=2.0, read=timeout_seconds), retries=False
        )

    def post(self, event: CloudEvent) -> Answer:
        headers, body = to_http(event)
        try:
            response = self._http.request("POST", self.url, body=body, headers=headers)
        except urllib3.exceptions.HTTPError as error:
            log.warning("delivery to %s failed: %s", self.url, error)
            return Answer(0)
        return Answer(response.status, response.data[:ERROR_DATA_MAX_BYTES])


class KafkaSourceLoop(threading.Thread):
    """One consumer group delivering its topics to one worker, as KafkaSource does."""

    def __init__(
        self,
        brokers: str,
        subscription: Subscription,
        retry: RetryPolicy,
        dead_letter: Callable[[Any, str, Answer], bool],
        stopping: threading.Event,
    ) -> None:
        super().__init__(name=f"kafka-source-{subscription.name}", daemon=True)
        self.brokers = brokers
        self.subscription = subscription
        self.retry = retry
        self._dead_letter = dead_letter
        self._stopping = stopping
        self._delivery = _Delivery(subscription.url, subscription.timeout_seconds)
        self._partitions: dict[TopicPartition, _Partition] = {}
        self._recreated_topics: set[str] = set()  # written by the keeper, read by this loop
        self._recreated_lock = threading.Lock()
        self.joined = threading.Event()  # set once the group assigned partitions

    def topics_recreated(self, topics: Iterable[str]) -> None:
        """Read these topics again from their beginning (called from the keeper's thread).

        A recreated topic's log starts again at offset 0, but the consumer's position in
        the old one may equal the new log's end offset, which the broker accepts, and
        kafka-python keeps a position through a rebalance: the new records would be
        skipped. Every record in the new log came after the recreation, so the beginning
        is the right place; the group keeps its member (Tansu's coordinator stalls when a
        member leaves during a rebalance).
        """
        with self._recreated_lock:
            self._recreated_topics.update(topics)

    def run(self) -> None:
        while not self._stopping.is_set():
            consumer: KafkaConsumer | None = None
            try:
                consumer = self._consumer()
                self._consume(consumer)
            except Exception as error:
                log.warning("%s: consumer failed, reconnecting: %s", self.name, error)
                self._stopping.wait(RECONNECT_SECONDS)
            finally:
                self._partitions.clear()  # uncommitted records are fetched again
                if consumer is not None:
                    consumer.close(autocommit=False, timeout_ms=CLOSE_TIMEOUT_MS)

    def _consumer(self) -> KafkaConsumer:
        consumer = KafkaConsumer(
            bootstrap_servers=self.brokers.split(","),
            group_id=self.subscription.group,
            client_id=self.subscription.group,
            enable_auto_commit=False,
            # A new group must not skip events produced before it existed.
            auto_offset_reset="earliest",
            allow_auto_create_topics=False,
            session_timeout_ms=SESSION_TIMEOUT_MS,
            heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS,
            metadata_max_age_ms=METADATA_MAX_AGE_MS,
            fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
            # A drain pass starts deliveries for one worker timeout, and the last may
            # take another: polls come at most two timeouts apart.
            max_poll_interval_ms=int(
                max(self.subscription.timeout_seconds * 2, MIN_POLL_INTERVAL_SECONDS) * 1000
            ),
        )
        consumer.subscribe(list(self.subscription.topics), listener=_Forget(self))
        return consumer

    def forget(self, partitions: Iterable[TopicPartition]) -> None:
        """Drop buffered records of revoked partitions: their next owner refetches them."""
        for partition in partitions:
            self._partitions.pop(partition, None)

    def _consume(self, consumer: KafkaConsumer) -> None:
        while not self._stopping.is_set():
            self._rewind_recreated(consumer)
            fetched = consumer.poll(timeout_ms=int(self._poll_seconds() * 1000))
            if consumer.assignment():
                self.joined.set()
            for partition, records in fetched.items():
                state = self._partitions.setdefault(partition, _Partition())
                state.records.extend(records)
                if len(state.records) >= PARTITION_BUFFER:
                    consumer.pause(partition)
            offsets = {}
            drain_until = time.monotonic() + self.subscription.timeout_seconds
            for partition, state in list(self._partitions.items()):
                offset = self._drain(partition, state, drain_until)
                if offset is not None:
                    offsets[partition] = OffsetAndMetadata(offset, "", -1)
                if partition in consumer.paused() and len(state.records) < PARTITION_BUFFER // 2:
                    consumer.resume(partition)
            if offsets:
                consumer.commit(offsets)

    def _rewind_recreated(self, consumer: KafkaConsumer) -> None:
        """Seek the partitions of recreated topics to their beginning, once assigned."""
        with self._recreated_lock:
            if not self._recreated_topics:
                return
            partitions = [p for p in consumer.assignment() if p.topic in self._recreated_topics]
            # Mid-rebalance nothing is assigned yet: try again after the next poll.
            self._recreated_topics.difference_update(p.topic for p in partitions)
        if partitions:
            log.info("%s: topic recreated, reading from the beginning: %s", self.name, partitions)
            self.forget(partitions)  # buffered records came from the old log
            consumer.resume(*partitions)  # paused for a full buffer that is gone now
            consumer.seek_to_beginning(*partitions)

    def _poll_seconds(self) -> float:
        """Poll no longer than until the next retry is due."""
        now = time.monotonic()
        due = [state.next_attempt_at - now for state in self._partitions.values() if state.records]
        return max(0.0, min([POLL_SECONDS, *due])) if due else POLL_SECONDS

    def _drain(self, partition: TopicPartition, state: _Partition, until: float) -> int | None:
        """Deliver the partition's records in order; the offset to commit, if any moved on.

        No delivery starts after `until`, so the consumer polls (and stays in its group)
        however slow the worker; the rest wait in the buffer for the next pass.
        """
        committed: int | None = None
        while state.records and time.monotonic() >= state.next_attempt_at:
            if self._stopping.is_set() or time.monotonic() >= until:
                break
            record = state.records[0]
            answer = self._delivery.post(record_event(record))
            status = answer.status
            if not answer.ok:
                state.failed_attempts += 1
                if retryable(status) and state.failed_attempts <= self.retry.retries:
                    state.next_attempt_at = time.monotonic() + self.retry.delay(
                        state.failed_attempts
                    )
                    log.info(
                        "%s: %s offset %d answered %d, retry %d in %.1f s",
                        self.name,
                        partition,
                        record.offset,
                        status,
                        state.failed_attempts,
                        state.next_attempt_at - time.monotonic(),
                    )
                    break
                if not self._dead_letter(record, self.subscription.url, answer):
                    break  # stopping before the dead letter was written: keep the record
            state.records.popleft()
            state.failed_attempts = 0
            state.next_attempt_at = 0.0
            committed = record.offset + 1
        return committed


class _Forget(ConsumerRebalanceListener):
    def __init__(self, loop: KafkaSourceLoop) -> None:
        self._loop = loop

    def on_partitions_revoked(self, revoked: Sequence[TopicPartition]) -> None:
        self._loop.forget(revoked)

    def on_partitions_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        """Nothing to prepare: records of a new partition arrive with the next poll."""


class PingLoop(threading.Thread):
    """One PingSource: a ping at start, then one every `every_seconds` (never overlapping)."""

    def __init__(self, ping: Ping, stopping: threading.Event) -> None:
        super().__init__(name=f"ping-source-{ping.source_name}", daemon=True)
        self.ping = ping
        self._stopping = stopping
        self._delivery = _Delivery(ping.url, ping.timeout_seconds)

    def run(self) -> None:
        while not self._stopping.is_set():
            started = time.monotonic()
            answer = self._delivery.post(ping_event(self.ping.source_name, self.ping.payload))
            if not answer.ok:
                log.warning("%s: %s answered %d", self.name, self.ping.url, answer.status)
            self._stopping.wait(max(self.ping.every_seconds - (time.monotonic() - started), 0))


class Dispatcher:
    """Every KafkaSource and PingSource of the local stack, plus the topic keeper."""

    def __init__(
        self,
        brokers: str,
        subscriptions: Sequence[Subscription],
        pings: Sequence[Ping] = (),
        *,
        retry: RetryPolicy | None = None,
        dead_letter_topic: str = DEAD_LETTER_TOPIC,
        topics: Mapping[str, int] = PARTITIONS,
        report: Callable[[str], None] = log.warning,
    ) -> None:
        self.brokers = brokers
        self.dead_letter_topic = dead_letter_topic
        self.topics = dict(topics)
        self._report = report
        self._stopping = threading.Event()
        self._producer: KafkaProducer | None = None
        self._producer_lock = threading.Lock()
        policy = retry or RetryPolicy()
        self.sources = [
            KafkaSourceLoop(brokers, subscription, policy, self._dead_letter, self._stopping)
            for subscription in subscriptions
        ]
        self.pings = [PingLoop(ping, self._stopping) for ping in pings]
        self._keeper = threading.Thread(target=self._keep_topics, name="topic-keeper", daemon=True)

    def start(self) -> None:
        self._keeper.start()
        for thread in (*self.sources, *self.pings):
            thread.start()

    def wait_until_joined(self, timeout: float) -> bool:
        """Whether every consumer group got its partitions within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        return all(
            source.joined.wait(max(deadline - time.monotonic(), 0)) for source in self.sources
        )

    def stop(self) -> None:
        """Stop every loop (an in-flight delivery finishes first) and close the producer."""
        self._stopping.set()
        for thread in (*self.sources, *self.pings, self._keeper):
            if thread.is_alive():
                thread.join()
        with self._producer_lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            producer.close(timeout=5)

    def _keep_topics(self) -> None:
        """Recreate topics a broker restart wiped (Tansu keeps them in memory only).

        Whoever recreated a topic (this keeper, or Tansu itself when a client first touches a
        missing topic), its consumers read it from the beginning once its id changes.
        """
        healthy = True
        known_ids: dict[str, str | None] = {}
        first_broker = self.brokers.split(",")[0]
        host, _, port = first_broker.rpartition(":")
        while not self._stopping.is_set():
            try:
                # A plain connect first: an admin client waits long for a broker that is down.
                socket.create_connection((host, int(port)), timeout=1).close()
                topic_ids = create_topics(self.brokers, self.topics)
                recreated = {
                    name
                    for name, topic_id in topic_ids.items()
                    if name in known_ids and known_ids[name] != topic_id
                }
                if recreated:
                    self._rewind_consumers_of(recreated)
                known_ids = topic_ids
                if not healthy:
                    self._report("eventing: broker reachable again, topics in place")
                healthy = True
            except Exception as error:
                if healthy:
                    self._report(f"eventing: broker unreachable ({error}); retrying")
                healthy = False
            self._stopping.wait(TOPIC_CHECK_SECONDS)

    def _rewind_consumers_of(self, recreated: set[str]) -> None:
        names = ", ".join(sorted(recreated))
        self._report(
            f"eventing: topics recreated, their consumers read them from the start: {names}"
        )
        for source in self.sources:
            if recreated.intersection(source.subscription.topics):
                source.topics_recreated(recreated)

    def _dead_letter(self, record: Any, destination: str, answer: Answer) -> bool:
        """Publish the undeliverable record to the dead-letter topic, as KafkaSink would.

        The worker's answer body (its reason) rides along base64-encoded in
        `knativeerrordata`, as Knative writes it. False only when stopping before it
        was written: the record is then not committed.
        """
        status = answer.status
        headers = [
            (name, value) for name, value in record.headers or [] if name not in ERROR_HEADERS
        ]
        headers += [
            ("ce_knativeerrordest", destination.encode()),
            ("ce_knativeerrorcode", str(status).encode()),
        ]
        if answer.body:
            headers.append(("ce_knativeerrordata", base64.b64encode(answer.body)))
        while not self._stopping.is_set():
            try:
                producer = self._dead_letter_producer()
                producer.send(
                    self.dead_letter_topic, value=record.value, key=record.key, headers=headers
                ).get(timeout=10)
            except Exception as error:
                # Moving on without the dead letter would lose the event: keep trying.
                log.warning("dead-lettering failed, retrying: %s", error)
                self._stopping.wait(RECONNECT_SECONDS)
                continue
            self._report(
                f"eventing: dead-lettered {record.topic}/{record.partition}@{record.offset} "
                f"after {destination} answered {status}"
            )
            return True
        return False

    def _dead_letter_producer(self) -> KafkaProducer:
        with self._producer_lock:
            if self._producer is None:
                self._producer = KafkaProducer(
                    bootstrap_servers=self.brokers.split(","),
                    client_id="phasma-devstack-dead-letter",
                    acks="all",
                    allow_auto_create_topics=False,
                    max_block_ms=10_000,
                )
            return self._producer


def dispatcher_for(
    brokers: str,
    functions: Iterable[Function],
    urls: Mapping[str, str],
    report: Callable[[str], None],
) -> Dispatcher:
    """The KafkaSources and PingSources the registry declares for the running functions."""
    subscriptions: list[Subscription] = []
    pings: list[Ping] = []
    for function in functions:
        if function.name not in urls:
            continue
        url = urls[function.name]
        timeout = float(function.scaling.timeout_seconds)
        if function.kind == "event" and function.topics:
            subscriptions.append(
                Subscription(function.name, consumer_group(function), function.topics, url, timeout)
            )
        if function.schedule is not None:
            schedule = function.schedule
            pings.append(
                Ping(schedule.source_name, url, schedule.payload, schedule.local_every_seconds)
            )
    return Dispatcher(brokers, subscriptions, pings, report=report)


def describe(record: Any) -> str:
    """One line for a developer: time, topic, type, subject, key and the compact payload."""
    event = record_event(record)
    payload = json.dumps(event.get_data(), separators=(",", ":"), ensure_ascii=False)
    key = record.key.decode(errors="replace") if record.key is not None else "-"
    return (
        f"{event.get('time') or '-'}  {record.topic:<14}  {event['type']}  "
        f"subject={event.get('subject') or '-'}  key={key}  {payload}"
    )


def tail(
    brokers: str,
    topics: Sequence[str],
    *,
    from_beginning: bool,
    out: Callable[[str], None],
    stopping: threading.Event,
) -> None:
    """Print every record arriving on `topics` until `stopping` is set.

    Reads without a consumer group (it never disturbs the workers' offsets) and
    reassigns when partitions appear, so it survives topics being recreated.
    """
    consumer = KafkaConsumer(
        bootstrap_servers=brokers.split(","),
        client_id="phasma-events-tail",
        enable_auto_commit=False,
        auto_offset_reset="earliest" if from_beginning else "latest",
        allow_auto_create_topics=False,
        metadata_max_age_ms=METADATA_MAX_AGE_MS,
    )
    try:
        assigned: set[TopicPartition] = set()
        while not stopping.is_set():
            available = {
                TopicPartition(topic, partition)
                for topic in topics
                for partition in consumer.partitions_for_topic(topic) or ()
            }
            if available != assigned:
                consumer.assign(sorted(available))
                assigned = available
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    out(describe(record))
    finally:
        consumer.close(autocommit=False, timeout_ms=CLOSE_TIMEOUT_MS)
