"""A strict model of Knative's `sources.knative.dev/v1beta1` KafkaSource.

The Knative Python models this project validates against do not cover the Kafka
extension (eventing-kafka-broker), so this model restates the documented fields of
`KafkaSourceSpec` (consumers, bootstrapServers, topics, consumerGroup, initialOffset,
ordering, delivery, sink, ceOverrides). Unknown fields are rejected and no value is
coerced, so a typo in a generated source fails validation instead of being ignored.
SASL/TLS settings (`net`) are left out: the in-cluster broker needs none, and an
unsupported field should fail loudly here rather than pass unchecked.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# ISO 8601 durations as Knative's delivery spec accepts them (PT0.5S, PT1M, P1D...).
_DURATION = re.compile(
    r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$"
)
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


class StrictModel(BaseModel):
    """Base of every model here: camelCase fields, nothing unknown, nothing coerced."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


class ObjectMeta(StrictModel):
    """The metadata fields a generated source may carry."""

    name: str
    namespace: str | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None

    @field_validator("name")
    @classmethod
    def _dns_label(cls, name: str) -> str:
        if not _DNS_LABEL.match(name):
            raise ValueError(f"{name!r} is not a DNS-1123 label")
        return name


class KReference(StrictModel):
    """A reference to an addressable object (Knative duck `KReference`)."""

    api_version: str = Field(alias="apiVersion")
    kind: str
    name: str
    namespace: str | None = None


class Destination(StrictModel):
    """Where events go: an object reference, a URI, or a URI relative to the reference."""

    ref: KReference | None = None
    uri: str | None = None
    ca_certs: str | None = Field(default=None, alias="CACerts")
    audience: str | None = None

    @model_validator(mode="after")
    def _has_target(self) -> Destination:
        if self.ref is None and self.uri is None:
            raise ValueError("a destination needs ref or uri")
        return self


class DeliverySpec(StrictModel):
    """Retries, backoff and dead-lettering of deliveries to the sink."""

    dead_letter_sink: Destination | None = Field(default=None, alias="deadLetterSink")
    retry: int | None = Field(default=None, ge=0)
    backoff_policy: Literal["linear", "exponential"] | None = Field(
        default=None, alias="backoffPolicy"
    )
    backoff_delay: str | None = Field(default=None, alias="backoffDelay")
    timeout: str | None = None

    @field_validator("backoff_delay", "timeout")
    @classmethod
    def _iso_duration(cls, value: str | None) -> str | None:
        if value is not None and not _DURATION.match(value):
            raise ValueError(f"{value!r} is not an ISO 8601 duration")
        return value


class CloudEventOverrides(StrictModel):
    """Extension attributes added to every event the source emits."""

    extensions: dict[str, str] | None = None


class KafkaSourceSpec(StrictModel):
    """`spec` of a KafkaSource."""

    consumers: int | None = Field(default=None, ge=1)
    bootstrap_servers: list[str] = Field(alias="bootstrapServers", min_length=1)
    topics: list[str] = Field(min_length=1)
    consumer_group: str | None = Field(default=None, alias="consumerGroup")
    initial_offset: Literal["earliest", "latest"] | None = Field(
        default=None, alias="initialOffset"
    )
    ordering: Literal["ordered", "unordered"] | None = None
    delivery: DeliverySpec | None = None
    sink: Destination
    ce_overrides: CloudEventOverrides | None = Field(default=None, alias="ceOverrides")


class KafkaSource(StrictModel):
    """A KafkaSource manifest."""

    api_version: Literal["sources.knative.dev/v1beta1"] = Field(alias="apiVersion")
    kind: Literal["KafkaSource"]
    metadata: ObjectMeta
    spec: KafkaSourceSpec
