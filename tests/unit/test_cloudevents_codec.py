"""The CloudEvents codec: outbox rows to Kafka binary-mode records and HTTP, and back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cloudevents.http import CloudEvent

from phasma.events.cloudevents import (
    OutboxRow,
    UndecodableEvent,
    from_http_request,
    from_kafka_record,
    to_cloudevent,
    to_http,
    to_kafka_record,
)

ROW = OutboxRow(
    id=42,
    topic="activity",
    type="phasma.comment.created",
    source="/phasma/comments",
    subject="8f4e2b1c-0000-4000-8000-000000000001",
    partition_key="8f4e2b1c-0000-4000-8000-000000000002",
    payload={"commentId": "c", "postId": "p", "note": "café ☕", "tags": []},
    created=datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC),
)


def test_an_outbox_row_becomes_a_binary_mode_record_keyed_by_its_partition_key() -> None:
    record = to_kafka_record(ROW)
    assert record.topic == "activity"
    assert record.key == ROW.partition_key.encode()
    assert record.value == '{"commentId":"c","postId":"p","note":"café ☕","tags":[]}'.encode()
    assert dict(record.headers) == {
        "ce_specversion": b"1.0",
        "ce_id": b"42",
        "ce_source": b"/phasma/comments",
        "ce_type": b"phasma.comment.created",
        "ce_subject": ROW.subject.encode(),
        "ce_time": b"2024-05-06T07:08:09.123456Z",
        "ce_partitionkey": ROW.partition_key.encode(),
        "content-type": b"application/json",
    }
    assert len(record.headers) == len(dict(record.headers))


def test_a_record_round_trips_to_the_same_event() -> None:
    record = to_kafka_record(ROW)
    event = from_kafka_record(record.headers, record.key, record.value)
    assert event.get_attributes() == to_cloudevent(ROW).get_attributes()
    assert event.get_data() == ROW.payload


def test_an_event_round_trips_through_http_binary_mode() -> None:
    headers, body = to_http(to_cloudevent(ROW))
    assert headers["ce-id"] == "42"
    assert headers["ce-partitionkey"] == ROW.partition_key
    assert headers["content-type"] == "application/json"
    event = from_http_request(headers, body)
    assert event.get_attributes() == to_cloudevent(ROW).get_attributes()
    assert event.get_data() == ROW.payload


def test_a_structured_mode_request_is_read_too() -> None:
    body = b'{"specversion":"1.0","id":"1","source":"/s","type":"t","data":{"a":1}}'
    event = from_http_request({"content-type": "application/cloudevents+json"}, body)
    assert (event["id"], event.get_data()) == ("1", {"a": 1})


@pytest.mark.parametrize(
    ("headers", "body"),
    [({}, b"plain text"), ({"ce-specversion": "9.9", "ce-id": "1"}, b"{}"), ({}, b"")],
)
def test_requests_that_are_not_cloudevents_are_undecodable(
    headers: dict[str, str], body: bytes
) -> None:
    with pytest.raises(UndecodableEvent):
        from_http_request(headers, body)


def test_records_that_are_not_cloudevents_are_undecodable() -> None:
    with pytest.raises(UndecodableEvent):
        from_kafka_record([("content-type", b"application/json")], b"key", b'{"a":1}')


def test_a_body_that_is_not_json_decodes_to_no_data() -> None:
    headers, _ = to_http(CloudEvent({"id": "1", "source": "/s", "type": "t"}, {"a": 1}))
    event = from_http_request({**headers, "content-type": "application/json"}, b"{not json")
    assert event.get_data() is None
