"""The Kafka topics (docs/operations.md §2.1): names, partitions and retention, in one table.

Topics are created by setup, never auto-created: the cluster's `topics` Job
(`phasma.deploy.setup`) and the local stack (`phasma.devstack`) both create these,
through `phasma.provisioning`. Events name their topic in `phasma.events.catalogue`,
workers theirs in the registry; a test checks both against this table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    retention_days: int


ENTITY_CHANGES: Final = Topic("entity-changes", partitions=6, retention_days=7)
ACTIVITY: Final = Topic("activity", partitions=6, retention_days=7)
# Undeliverable events, kept twice as long as the events they were.
DEAD_LETTER: Final = Topic("dead-letter", partitions=1, retention_days=14)
TOPICS: Final = (ENTITY_CHANGES, ACTIVITY, DEAD_LETTER)
PARTITIONS: Final[Mapping[str, int]] = {topic.name: topic.partitions for topic in TOPICS}
RETENTION_MS: Final[Mapping[str, int]] = {
    topic.name: topic.retention_days * 24 * 3600 * 1000 for topic in TOPICS
}
