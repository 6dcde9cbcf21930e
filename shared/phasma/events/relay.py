"""The `outbox-relay` sweep (docs/operations.md §2.3): publish what the writing functions did not.

Each batch is one transaction: lock up to `OUTBOX_RELAY_BATCH_SIZE` unpublished rows
older than `OUTBOX_RELAY_MIN_AGE_SECONDS`, oldest first, with `FOR UPDATE SKIP LOCKED`
(overlapping sweeps take disjoint rows), publish them, wait for the broker's acks,
then set `published_at` on the acknowledged ones. Batches repeat until none is left
or `OUTBOX_RELAY_TIME_BUDGET_SECONDS` is spent; the next ping continues. Delivery is
at least once: a row acked but not marked (a crash in between) is published again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Counter, Gauge

from phasma.db.pool import Database
from phasma.events import pipelines
from phasma.events.cloudevents import OutboxRow
from phasma.events.publisher import MARK_PUBLISHED, BrokerUnavailable, publisher_for
from phasma.events.worker import Outcome, ReceivedEvent, Skip
from phasma.runtime import Runtime

log = logging.getLogger(__name__)

SWEEP_TASK = "outbox-sweep"

RELAYED = Counter("phasma_outbox_relayed", "Outbox rows the relay published")
UNPUBLISHED = Gauge("phasma_outbox_unpublished", "Outbox rows not yet published (last sweep)")
OLDEST_UNPUBLISHED_AGE = Gauge(
    "phasma_outbox_oldest_unpublished_age_seconds",
    "Age of the oldest unpublished outbox row seen by the last sweep (0 when none)",
)


class _OldestUnpublished:
    """When the oldest unpublished row was written; the gauge turns it into an age at scrape."""

    created: datetime | None = None

    def age_seconds(self) -> float:
        if self.created is None:
            return 0.0
        return (datetime.now(UTC) - self.created).total_seconds()


_oldest_unpublished = _OldestUnpublished()
OLDEST_UNPUBLISHED_AGE.set_function(_oldest_unpublished.age_seconds)

LOCK_BATCH = """
    SELECT id, topic, type, source, subject, partition_key, payload, created
    FROM outbox
    WHERE published_at IS NULL AND created < now() - make_interval(secs => :min_age)
    ORDER BY id
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
"""
BACKLOG = """
    SELECT count(*) AS unpublished,
           min(created) AS oldest,
           count(*) FILTER (WHERE created < now() - make_interval(secs => :min_age)) AS due
    FROM outbox
    WHERE published_at IS NULL
"""


@dataclass(frozen=True)
class SweepResult:
    """What one sweep did and what it left."""

    published: int
    batches: int
    unpublished: int  # rows still unpublished at the end (young ones included)
    due: int  # of those, rows past the grace period: work the relay still has


def _row(record: dict[str, Any]) -> OutboxRow:
    return OutboxRow(
        id=record["id"],
        topic=record["topic"],
        type=record["type"],
        source=record["source"],
        subject=record["subject"],
        partition_key=record["partition_key"],
        payload=record["payload"],
        created=record["created"],
    )


def sweep(runtime: Runtime) -> SweepResult:
    """Publish every due row within the time budget; BrokerUnavailable if the broker failed.

    Rows acknowledged before a failure stay marked: progress is never thrown away.
    """
    settings = runtime.settings
    publisher = publisher_for(settings)
    if publisher is None:
        raise RuntimeError("KAFKA_BROKERS is not set: the relay has nowhere to publish")
    deadline = time.monotonic() + settings.outbox_relay_time_budget_seconds
    published = batches = 0
    complete = True
    while complete and time.monotonic() < deadline:
        with runtime.db.transaction() as executor:
            rows = [
                _row(record)
                for record in executor.fetch_all(
                    LOCK_BATCH,
                    min_age=settings.outbox_relay_min_age_seconds,
                    limit=settings.outbox_relay_batch_size,
                )
            ]
            if not rows:
                break
            acknowledged = publisher.send(rows)
            if acknowledged:
                executor.execute(MARK_PUBLISHED, ids=acknowledged)
        batches += 1
        published += len(acknowledged)
        RELAYED.inc(len(acknowledged))
        complete = len(acknowledged) == len(rows)
        if len(rows) < settings.outbox_relay_batch_size:
            break
    result = _measure(runtime.db, settings.outbox_relay_min_age_seconds, published, batches)
    log.info(
        "outbox sweep: %d published in %d batches; %d unpublished, %d of them due",
        result.published,
        result.batches,
        result.unpublished,
        result.due,
    )
    if not complete:
        raise BrokerUnavailable(f"the broker did not acknowledge every row ({published} did)")
    return result


def _measure(database: Database, min_age: float, published: int, batches: int) -> SweepResult:
    row = database.read(lambda executor: executor.fetch_all(BACKLOG, min_age=min_age)[0])
    UNPUBLISHED.set(row["unpublished"])
    _oldest_unpublished.created = row["oldest"]
    return SweepResult(published, batches, row["unpublished"], row["due"])


def handle(event: ReceivedEvent, runtime: Runtime) -> Outcome:
    """The PingSource's `{"task":"outbox-sweep"}`: one sweep."""
    if event.data.get("task") != SWEEP_TASK:
        raise Skip(f"unknown task {event.data.get('task')!r}")
    pipeline = pipelines.get(runtime.function.name)
    try:
        result = sweep(runtime)
    except BrokerUnavailable:
        pipeline.set_backlog(True)
        raise
    pipeline.set_backlog(result.due > 0)
    return "applied"
