"""The CloudEvents codec (docs/domain.md §5.1): outbox rows to Kafka records and back, and HTTP.

On Kafka, events travel in binary mode: the attributes as `ce_*` headers (including
`ce_partitionkey`), `content-type: application/json`, the payload JSON as the value,
and the partition key as the record key. To a worker, the same event is an HTTP POST
in binary mode (`ce-*` headers, JSON body), as Knative's KafkaSource delivers it.
Both directions go through the CloudEvents SDK.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from cloudevents import conversion
from cloudevents import exceptions as cloudevent_errors
from cloudevents import kafka as cloudevents_kafka
from cloudevents.http import CloudEvent, from_http

from phasma.models import format_timestamp

SPEC_VERSION: Final = "1.0"
CONTENT_TYPE: Final = "application/json"
PARTITION_KEY: Final = "partitionkey"


class UndecodableEvent(ValueError):
    """A record or request that is not a CloudEvent this codec can read."""


@dataclass(frozen=True)
class OutboxRow:
    """One `outbox` row: everything its CloudEvent is made of."""

    id: int
    topic: str
    type: str
    source: str
    subject: str
    partition_key: str
    payload: dict[str, Any]
    created: datetime


@dataclass(frozen=True)
class KafkaRecord:
    """A record as a Kafka client sends it: topic, key, value and ordered headers."""

    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


def encode_json(data: Any) -> bytes:
    """Compact UTF-8 JSON: the wire form of every payload."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def to_cloudevent(row: OutboxRow) -> CloudEvent:
    """The CloudEvent of an outbox row: id = row id, time = when the change committed."""
    attributes = {
        "specversion": SPEC_VERSION,
        "id": str(row.id),
        "source": row.source,
        "type": row.type,
        "subject": row.subject,
        "time": format_timestamp(row.created),
        "datacontenttype": CONTENT_TYPE,
        PARTITION_KEY: row.partition_key,
    }
    return CloudEvent(attributes, row.payload)


def to_kafka_record(row: OutboxRow) -> KafkaRecord:
    """The binary-mode Kafka record of an outbox row, keyed by its partition key."""
    event = to_cloudevent(row)
    message = cloudevents_kafka.to_binary(event, data_marshaller=encode_json)
    headers = [(name, value) for name, value in message.headers.items()]
    # The SDK moves the partition key into the record key only; the envelope also
    # carries it as a header so consumers that ignore keys still see it.
    headers.append((f"ce_{PARTITION_KEY}", row.partition_key.encode()))
    value = message.value
    if isinstance(value, str):  # the SDK's type allows text; `encode_json` always gives bytes
        value = value.encode()
    return KafkaRecord(row.topic, row.partition_key.encode(), value, headers)


def from_kafka_record(
    headers: Iterable[tuple[str, bytes]], key: bytes | None, value: bytes | None
) -> CloudEvent:
    """The CloudEvent in a binary-mode record; UndecodableEvent when it is not one."""
    message = cloudevents_kafka.KafkaMessage(
        headers=dict(headers),
        key=key.decode(errors="replace") if key is not None else None,
        value=value or b"",
    )
    try:
        return cloudevents_kafka.from_binary(message, data_unmarshaller=_json_or_none)
    except (cloudevent_errors.GenericException, UnicodeDecodeError) as error:
        raise UndecodableEvent(str(error)) from error


def to_http(event: CloudEvent) -> tuple[dict[str, str], bytes]:
    """Headers and body of the event as a binary-mode HTTP request."""
    headers, body = conversion.to_binary(event, data_marshaller=encode_json)
    return dict(headers), body if isinstance(body, bytes) else body.encode()


def from_http_request(headers: Mapping[str, str], body: bytes) -> CloudEvent:
    """The CloudEvent of an HTTP request (binary or structured); UndecodableEvent if none."""
    try:
        return from_http(dict(headers), body, data_unmarshaller=_json_or_none)
    except (cloudevent_errors.GenericException, UnicodeDecodeError) as error:
        raise UndecodableEvent(str(error)) from error


def _json_or_none(raw: str | bytes | None) -> Any:
    """The JSON payload, or None when the body is empty or not JSON (the worker skips it)."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None
