"""Knative Eventing objects: KafkaSources, the dead-letter KafkaSink, PingSources.

The rules are docs/operations.md §2.

Each event function with topics gets its own KafkaSource (its own consumer group);
each function with a `schedule` in the registry gets its PingSource. Objects are
emitted only for registered functions, so the manifests never point at a Service that
does not exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from phasma.deploy.environment import BROKER_ADDRESS
from phasma.deploy.kubernetes import Manifest, metadata
from phasma.registry import Function, Schedule
from phasma.topics import DEAD_LETTER

DEAD_LETTER_SINK = "dead-letter"
DEAD_LETTER_TOPIC = DEAD_LETTER.name
# ~8.5 minutes of retries before dead-lettering: enough to ride out a dependency restart.
RETRIES = 10
BACKOFF_DELAY = "PT0.5S"


def service_reference(name: str) -> dict[str, Any]:
    """A sink reference to the Knative Service `name`."""
    return {"ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": name}}


def consumer_group(function: Function) -> str:
    """The consumer group of a worker's KafkaSource."""
    return f"phasma-{function.name}"


def kafka_source(function: Function) -> Manifest:
    """The KafkaSource delivering `function.topics` to the function, in order."""
    return {
        "apiVersion": "sources.knative.dev/v1beta1",
        "kind": "KafkaSource",
        "metadata": metadata(
            function.name,
            "event-source",
            # `spec.ordering` is what KafkaSource reads; the annotation is the same
            # switch on Kafka triggers, kept so either data plane orders per partition.
            annotations={"kafka.eventing.knative.dev/delivery.order": "ordered"},
        ),
        "spec": {
            "bootstrapServers": [BROKER_ADDRESS],
            "topics": list(function.topics),
            "consumerGroup": consumer_group(function),
            # A new group must not skip events produced before it existed.
            "initialOffset": "earliest",
            "ordering": "ordered",
            "consumers": 1,
            "delivery": {
                "retry": RETRIES,
                "backoffPolicy": "exponential",
                "backoffDelay": BACKOFF_DELAY,
                "deadLetterSink": {
                    "ref": {
                        "apiVersion": "eventing.knative.dev/v1alpha1",
                        "kind": "KafkaSink",
                        "name": DEAD_LETTER_SINK,
                    }
                },
            },
            "sink": service_reference(function.name),
        },
    }


def dead_letter_sink() -> Manifest:
    """The KafkaSink writing undeliverable events to the `dead-letter` topic."""
    return {
        "apiVersion": "eventing.knative.dev/v1alpha1",
        "kind": "KafkaSink",
        "metadata": metadata(DEAD_LETTER_SINK, "event-sink"),
        "spec": {
            "topic": DEAD_LETTER_TOPIC,
            "bootstrapServers": [BROKER_ADDRESS],
            "numPartitions": DEAD_LETTER.partitions,
            "replicationFactor": 1,
            # Same wire format as every other Phasma topic (CloudEvents binary mode).
            "contentMode": "binary",
        },
    }


def ping_source(function: Function, schedule: Schedule) -> Manifest:
    """The PingSource posting `schedule`'s payload to `function`."""
    return {
        "apiVersion": "sources.knative.dev/v1",
        "kind": "PingSource",
        "metadata": metadata(schedule.source_name, "event-source"),
        "spec": {
            "schedule": schedule.cron,
            "timezone": "UTC",
            "contentType": "application/json",
            "data": schedule.payload,
            "sink": service_reference(function.name),
        },
    }


def kafka_sources(functions: Sequence[Function]) -> list[Manifest]:
    """One KafkaSource per event function that consumes topics."""
    return [kafka_source(function) for function in functions if event_consumer(function)]


def kafka_sinks(functions: Sequence[Function]) -> list[Manifest]:
    """The dead-letter sink, needed only once some KafkaSource can dead-letter."""
    return [dead_letter_sink()] if any(event_consumer(f) for f in functions) else []


def ping_sources(functions: Sequence[Function]) -> list[Manifest]:
    """One PingSource per function with a schedule in the registry."""
    return [
        ping_source(function, function.schedule)
        for function in functions
        if function.schedule is not None
    ]


def event_consumer(function: Function) -> bool:
    """Whether `function` is delivered Kafka records by a KafkaSource."""
    return function.kind == "event" and bool(function.topics)
