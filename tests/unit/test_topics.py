"""The topic table is the one list: events, workers and setup all name topics from it."""

from __future__ import annotations

from typing import get_args

from phasma.events.catalogue import CATALOGUE, Topic
from phasma.registry import FUNCTIONS
from phasma.topics import PARTITIONS, RETENTION_MS, TOPICS


def test_the_table_holds_the_topics_of_operations_md_2_1() -> None:
    assert [(topic.name, topic.partitions, topic.retention_days) for topic in TOPICS] == [
        ("entity-changes", 6, 7),
        ("activity", 6, 7),
        ("dead-letter", 1, 14),
    ]
    assert dict(PARTITIONS) == {"entity-changes": 6, "activity": 6, "dead-letter": 1}
    assert RETENTION_MS["dead-letter"] == 14 * 24 * 3600 * 1000


def test_events_are_published_only_to_topics_in_the_table() -> None:
    assert set(get_args(Topic)) == {"entity-changes", "activity"}
    assert set(get_args(Topic)) <= set(PARTITIONS)
    assert {topic for topic, _ in CATALOGUE.values()} == set(get_args(Topic))


def test_workers_consume_only_topics_in_the_table() -> None:
    for function in FUNCTIONS:
        assert set(function.topics) <= set(get_args(Topic)), function.name
