"""Reading what arrives on Kafka topics, for asserting what was published."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from phasma.topics import ACTIVITY, ENTITY_CHANGES

OUTBOX_TOPICS = (ENTITY_CHANGES.name, ACTIVITY.name)


def header(record: Any, name: str) -> str | None:
    """A record header as text (None when absent)."""
    for key, value in record.headers or ():
        if key == name:
            return value.decode()
    return None


class TopicReader:
    """Every record that arrives on `topics` after the reader was created (no consumer group)."""

    def __init__(self, brokers: str, topics: Sequence[str] = OUTBOX_TOPICS) -> None:
        self._consumer = KafkaConsumer(
            bootstrap_servers=brokers, enable_auto_commit=False, allow_auto_create_topics=False
        )
        partitions = [
            TopicPartition(topic, partition)
            for topic in topics
            for partition in self._consumer.partitions_for_topic(topic) or ()
        ]
        self._consumer.assign(partitions)
        self._consumer.seek_to_end()
        for partition in partitions:
            self._consumer.position(partition)  # fix "the end" now, not at the first poll
        self.records: list[Any] = []

    def with_ids(
        self, ids: Sequence[int | str], key: str, timeout: float = 20.0
    ) -> dict[str, list[Any]]:
        """Records keyed `key` by CloudEvent id, polling until each of `ids` arrived or timeout.

        An event's id is its outbox row id, unique within one database only. Every test
        database counts from 1 and their relays share the broker, so the same id can
        arrive from another database; the partition key tells the records apart.
        """
        wanted = {str(event_id) for event_id in ids}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not wanted <= self.by_id(key).keys():
            for records in self._consumer.poll(timeout_ms=200).values():
                self.records.extend(records)
        found = self.by_id(key)
        return {event_id: found[event_id] for event_id in wanted if event_id in found}

    def by_id(self, key: str) -> dict[str, list[Any]]:
        """Every record read so far with partition key `key`, by CloudEvent id."""
        found: dict[str, list[Any]] = {}
        for record in self.records:
            if record.key == key.encode():
                found.setdefault(header(record, "ce_id") or "", []).append(record)
        return found

    def drain(self, seconds: float) -> None:
        """Keep reading for `seconds` (to see duplicates that might still arrive)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for records in self._consumer.poll(timeout_ms=100).values():
                self.records.extend(records)

    def close(self) -> None:
        self._consumer.close(autocommit=False)
