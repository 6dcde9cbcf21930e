"""Publishing outbox rows to Kafka (docs/operations.md §5): one idempotent producer per process.

The producer is created on first use (kafka-python takes ~0.2 s to import, a cost a
cold start should not pay), waits for acknowledgement from all in-sync replicas, and
is flushed and closed when the process exits. Every wait on the broker (connecting,
metadata, acks) is bounded by `KAFKA_PUBLISH_TIMEOUT_MS`.

`published_at` is set only for rows the broker acknowledged; anything else stays for
the `outbox-relay` sweep, so a broker outage never loses an event and never fails a
request. After a failure, inline publishing is deferred for one timeout period, so
requests during an outage do not each wait for the broker.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter

from phasma.config import Settings
from phasma.db.pool import Database
from phasma.events.cloudevents import OutboxRow, to_kafka_record
from phasma.failures import DependencyUnavailable

if TYPE_CHECKING:
    from kafka import KafkaProducer

log = logging.getLogger(__name__)

PUBLISH_OUTCOMES = Counter(
    "phasma_outbox_publish",
    "Outbox rows published after commit, or deferred to the relay",
    ["outcome"],
)

MARK_PUBLISHED = """
    UPDATE outbox SET published_at = now()
    WHERE id = ANY(CAST(:ids AS bigint[])) AND published_at IS NULL
"""


class BrokerUnavailable(DependencyUnavailable):
    """The broker did not connect or acknowledge within `KAFKA_PUBLISH_TIMEOUT_MS`."""


class Publisher:
    """Sends outbox rows through one lazily created, idempotent producer."""

    def __init__(self, brokers: str, timeout_seconds: float, client_id: str) -> None:
        self.brokers = brokers
        self.timeout_seconds = timeout_seconds
        self._client_id = client_id
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()
        self._deferring_until = 0.0

    @property
    def deferring(self) -> bool:
        """True for one timeout period after a failure: inline publishing waits for nothing."""
        return time.monotonic() < self._deferring_until

    def send(self, rows: Sequence[OutboxRow], timeout_seconds: float | None = None) -> list[int]:
        """Publish `rows` in order; the ids the broker acknowledged within the timeout.

        Stops sending at the first row the producer cannot take (no metadata, no
        connection): the rest would wait just as long.
        """
        deadline = time.monotonic() + (timeout_seconds or self.timeout_seconds)
        try:
            producer = self._producer_within(deadline)
        except BrokerUnavailable as error:
            self._defer(error)
            return []
        pending: list[tuple[int, Any]] = []
        for row in rows:
            record = to_kafka_record(row)
            try:
                future = producer.send(
                    record.topic, value=record.value, key=record.key, headers=record.headers
                )
            except Exception as error:  # kafka-python raises KafkaTimeoutError and kin
                self._defer(error)
                break
            pending.append((row.id, future))
        acknowledged: list[int] = []
        for row_id, future in pending:
            try:
                future.get(timeout=max(deadline - time.monotonic(), 0.001))
            except Exception as error:
                self._defer(error)
                continue
            acknowledged.append(row_id)
        return acknowledged

    def close(self) -> None:
        """Flush what is buffered (bounded by the timeout) and close the producer."""
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            producer.close(timeout=self.timeout_seconds)

    def _producer_within(self, deadline: float) -> KafkaProducer:
        if not self._lock.acquire(timeout=max(deadline - time.monotonic(), 0.001)):
            raise BrokerUnavailable("another thread is still connecting to the broker")
        try:
            if self._producer is None:
                self._producer = self._connect(deadline)
            return self._producer
        finally:
            self._lock.release()

    def _connect(self, deadline: float) -> KafkaProducer:
        from kafka import KafkaProducer  # deferred: see the module docstring

        timeout_ms = max(int((deadline - time.monotonic()) * 1000), 1)
        bound_ms = int(self.timeout_seconds * 1000)
        try:
            producer = KafkaProducer(
                bootstrap_servers=self.brokers.split(","),
                client_id=self._client_id,
                acks="all",
                enable_idempotence=True,
                # Topics are created by setup, never by a producer (docs/operations.md §2.1).
                allow_auto_create_topics=False,
                bootstrap_timeout_ms=timeout_ms,
                max_block_ms=bound_ms,
                request_timeout_ms=bound_ms,
                # A record not acknowledged in time fails instead of lingering in the
                # buffer: the relay publishes it later, so nothing piles up in memory.
                delivery_timeout_ms=bound_ms,
            )
        except Exception as error:
            raise BrokerUnavailable(f"cannot connect to {self.brokers}: {error}") from error
        atexit.register(self.close)
        return producer

    def _defer(self, error: BaseException) -> None:
        self._deferring_until = time.monotonic() + self.timeout_seconds
        log.warning("publishing to %s failed: %s", self.brokers, error)


_publishers: dict[tuple[str, float], Publisher] = {}
_publishers_lock = threading.Lock()


def publisher_for(settings: Settings) -> Publisher | None:
    """This process's publisher for the configured brokers; None without `KAFKA_BROKERS`."""
    if not settings.kafka_brokers:
        return None
    key = (settings.kafka_brokers, settings.kafka_publish_timeout_ms / 1000)
    with _publishers_lock:
        publisher = _publishers.get(key)
        if publisher is None:
            publisher = Publisher(key[0], key[1], client_id=settings.k_service)
            _publishers[key] = publisher
        return publisher


def mark_published(database: Database, ids: Sequence[int]) -> None:
    """Set `published_at` on acknowledged rows (idempotent, so retried like a read)."""
    if ids:
        database.read(lambda executor: executor.execute(MARK_PUBLISHED, ids=list(ids)))


def publish_rows(database: Database, rows: Sequence[OutboxRow]) -> int:
    """Publish rows right after their transaction committed; returns how many were acked.

    Never raises for the broker: unacknowledged rows are counted as deferred and left
    for the relay. Without `KAFKA_BROKERS` every row is left for the relay.
    """
    publisher = publisher_for(database.settings)
    if publisher is None or publisher.deferring:
        PUBLISH_OUTCOMES.labels("deferred").inc(len(rows))
        return 0
    acknowledged = publisher.send(rows)
    PUBLISH_OUTCOMES.labels("published").inc(len(acknowledged))
    PUBLISH_OUTCOMES.labels("deferred").inc(len(rows) - len(acknowledged))
    mark_published(database, acknowledged)
    return len(acknowledged)
