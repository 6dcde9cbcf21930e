"""Outbox rows: every event is written in the same transaction as the change it describes.

Publishing to Kafka happens after commit (events issue); a failed transaction
therefore never leaves an event behind, and a committed one never loses it.
"""

from __future__ import annotations

from phasma.db.pool import Executor
from phasma.events.catalogue import CATALOGUE, EventPayload


def record_event(
    executor: Executor,
    *,
    event_type: str,
    source_function: str,
    subject: str,
    payload: EventPayload,
    partition_key: str | None = None,
) -> int:
    """Insert one outbox row; returns its id (the CloudEvent `id`)."""
    topic, payload_model = CATALOGUE[event_type]
    if not isinstance(payload, payload_model):
        raise TypeError(f"{event_type} needs a {payload_model.__name__} payload")
    return executor.fetch_value(
        """
        INSERT INTO outbox (topic, type, source, subject, partition_key, payload)
        VALUES (:topic, :type, :source, :subject, :partition_key, CAST(:payload AS jsonb))
        RETURNING id
        """,
        topic=topic,
        type=event_type,
        source=f"/phasma/{source_function}",
        subject=subject,
        partition_key=partition_key or subject,
        payload=payload.model_dump_json(by_alias=True),
    )
