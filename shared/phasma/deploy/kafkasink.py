"""A strict model of Knative's `eventing.knative.dev/v1alpha1` KafkaSink.

Like `kafkasource`, this restates the documented spec of the Kafka extension (topic,
numPartitions, replicationFactor, bootstrapServers, contentMode) because the Knative
Python models do not include it; unknown fields are rejected.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from phasma.deploy.kafkasource import ObjectMeta, StrictModel


class KafkaSinkSpec(StrictModel):
    """`spec` of a KafkaSink."""

    topic: str = Field(min_length=1)
    num_partitions: int | None = Field(default=None, alias="numPartitions", ge=1)
    replication_factor: int | None = Field(default=None, alias="replicationFactor", ge=1)
    bootstrap_servers: list[str] = Field(alias="bootstrapServers", min_length=1)
    content_mode: Literal["binary", "structured"] | None = Field(default=None, alias="contentMode")


class KafkaSink(StrictModel):
    """A KafkaSink manifest."""

    api_version: Literal["eventing.knative.dev/v1alpha1"] = Field(alias="apiVersion")
    kind: Literal["KafkaSink"]
    metadata: ObjectMeta
    spec: KafkaSinkSpec
