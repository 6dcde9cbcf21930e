"""Deliver the outbox's real events to a worker through its real entry point.

A test makes a change over HTTP, reads the outbox rows that change wrote, and
POSTs each to the worker as an HTTP binary-mode CloudEvent, exactly as the
KafkaSource (or the local dispatcher) would; it may deliver twice, late, or out of
order to check that handlers converge.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from phasma.events.cloudevents import OutboxRow, to_cloudevent
from phasma.events.worker import OUTCOME_HEADER, EventFunction
from phasma.runtime import Runtime
from tests.api.conftest import Database, deliver

_ROW_COLUMNS = "id, topic, type, source, subject, partition_key, payload, created"


class Worker:
    """An event function hosted in this process (the `event_function` fixture's), fed rows."""

    def __init__(self, function: EventFunction) -> None:
        self.function = function

    @property
    def runtime(self) -> Runtime:
        return self.function.runtime

    def deliver(self, row: OutboxRow) -> str:
        """POST the row's CloudEvent; asserts a 2xx and returns the outcome header."""
        response = deliver(self.function, to_cloudevent(row))
        assert response.status_code == 204, response.get_data(as_text=True)
        return response.headers[OUTCOME_HEADER]

    def deliver_all(self, rows: list[OutboxRow]) -> list[str]:
        return [self.deliver(row) for row in rows]


def outbox_rows(database: Database, after: int, *types: str) -> list[OutboxRow]:
    """The outbox rows written after position `after` (of `types`, if given), oldest first."""
    rows = database.rows(
        f"SELECT {_ROW_COLUMNS} FROM outbox WHERE id > :after ORDER BY id", after=after
    )
    events = [
        OutboxRow(
            id=row[0],
            topic=row[1],
            type=row[2],
            source=row[3],
            subject=row[4],
            partition_key=row[5],
            payload=row[6] if isinstance(row[6], dict) else json.loads(row[6]),
            created=row[7],
        )
        for row in rows
    ]
    return [event for event in events if not types or event.type in types]


def one_event(database: Database, after: int, event_type: str) -> OutboxRow:
    """The single `event_type` row written after `after`."""
    rows = outbox_rows(database, after, event_type)
    assert len(rows) == 1, rows
    return rows[0]


def with_payload(row: OutboxRow, **changes: Any) -> OutboxRow:
    """The same event with payload fields replaced (camelCase names)."""
    return replace(row, payload={**row.payload, **changes})
