"""Outbox rows: every event is written in the same transaction as the change it describes.

A failed transaction therefore never leaves an event behind, and a committed one
never loses it. Right after the commit, the rows a transaction recorded are
published to Kafka by the function that wrote them (one batch per transaction, see
`phasma.events.publisher`); whatever that misses, the `outbox-relay` sweep publishes.
"""

from __future__ import annotations

from phasma.db.pool import Database, Executor
from phasma.events.catalogue import CATALOGUE, EventPayload
from phasma.events.cloudevents import OutboxRow, encode_json
from phasma.events.publisher import publish_rows


class _PublishAfterCommit:
    """The after-commit callback publishing one transaction's outbox rows, in order."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.rows: list[OutboxRow] = []

    def __call__(self) -> None:
        publish_rows(self.database, self.rows)


def _publication(executor: Executor) -> _PublishAfterCommit:
    for callback in executor.commit_callbacks:
        if isinstance(callback, _PublishAfterCommit):
            return callback
    publication = _PublishAfterCommit(executor.database)
    executor.after_commit(publication)
    return publication


def record_event(
    executor: Executor,
    *,
    event_type: str,
    source_function: str,
    subject: str,
    payload: EventPayload,
    partition_key: str | None = None,
) -> int:
    """Insert one outbox row, published after commit; returns its id (the CloudEvent `id`)."""
    topic, payload_model = CATALOGUE[event_type]
    if not isinstance(payload, payload_model):
        raise TypeError(f"{event_type} needs a {payload_model.__name__} payload")
    source = f"/phasma/{source_function}"
    key = partition_key or subject
    body = payload.model_dump(mode="json", by_alias=True)
    row = executor.fetch_all(
        """
        INSERT INTO outbox (topic, type, source, subject, partition_key, payload)
        VALUES (:topic, :type, :source, :subject, :partition_key, CAST(:payload AS jsonb))
        RETURNING id, created
        """,
        topic=topic,
        type=event_type,
        source=source,
        subject=subject,
        partition_key=key,
        payload=encode_json(body).decode(),
    )[0]
    _publication(executor).rows.append(
        OutboxRow(row["id"], topic, event_type, source, subject, key, body, row["created"])
    )
    event_id: int = row["id"]
    return event_id
