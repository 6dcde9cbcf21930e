"""The CloudEvent entry point of event functions: outcomes, statuses, probes, metrics."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from cloudevents.http import CloudEvent
from prometheus_client import REGISTRY
from werkzeug.test import Client

from phasma.config import Settings
from phasma.db.pool import DatabaseUnavailable
from phasma.events.catalogue import PostLikeChanged
from phasma.events.worker import (
    OUTCOME_HEADER,
    EventFunction,
    Outcome,
    ReceivedEvent,
    Skip,
)
from phasma.registry import Function, Scaling
from phasma.runtime import Runtime
from tests.api.conftest import deliver

received: list[ReceivedEvent] = []


def handler(event: ReceivedEvent, runtime: Runtime) -> Outcome:
    """Does what the event's `behaviour` says, so each answer of the entry point shows."""
    received.append(event)
    behaviour = event.data.get("behaviour")
    if behaviour == "unavailable":
        raise DatabaseUnavailable("database circuit open")
    if behaviour == "crash":
        raise RuntimeError("a bug")
    if behaviour == "skip":
        raise Skip("referent gone")
    if behaviour == "parse":
        event.payload(PostLikeChanged)
    return "applied"


TEST_WORKER = Function(
    "entry-point-test",
    "event",
    "entry point tests",
    Scaling(1, 1, 1, None, "100m", "500m", "128Mi", "256Mi", 60),
    uses_database=False,
    event_handler=f"{__name__}:handler",
)


@pytest.fixture(scope="module")
def worker() -> EventFunction:
    settings = Settings(_env_file=None, k_service="entry-point-test")
    return EventFunction(TEST_WORKER, Runtime(TEST_WORKER, settings))


def event(data: Any, event_type: str = "phasma.post.liked") -> CloudEvent:
    return CloudEvent(
        {
            "id": "4711",
            "source": "/phasma/likes",
            "type": event_type,
            "subject": "post-1",
            "time": "2024-05-06T07:08:09.5Z",
            "datacontenttype": "application/json",
        },
        data,
    )


def counted(event_type: str, outcome: str) -> float:
    labels = {"type": event_type, "outcome": outcome}
    return REGISTRY.get_sample_value("phasma_events_total", labels) or 0.0


def pipeline(worker: EventFunction) -> dict[str, Any]:
    body = Client(worker.wsgi_app).get("/health/background").get_json()
    return next(p for p in body["pipelines"] if p["name"] == "entry-point-test")


def test_the_handler_receives_the_decoded_event(worker: EventFunction) -> None:
    before = counted("phasma.post.liked", "applied")
    response = deliver(worker, event({"behaviour": "apply", "postId": "p"}))
    assert response.status_code == 204
    assert response.headers[OUTCOME_HEADER] == "applied"
    assert response.get_data() == b""
    seen = received[-1]
    assert (seen.id, seen.type, seen.source, seen.subject) == (
        "4711",
        "phasma.post.liked",
        "/phasma/likes",
        "post-1",
    )
    assert seen.time is not None and seen.time.isoformat() == "2024-05-06T07:08:09.500000+00:00"
    assert seen.data == {"behaviour": "apply", "postId": "p"}
    assert counted("phasma.post.liked", "applied") == before + 1


@pytest.mark.parametrize(
    "data",
    [
        {"behaviour": "skip"},  # the handler says so
        {"behaviour": "parse", "postId": "not a uuid"},  # the payload fails its model
        ["not", "an", "object"],  # never reaches the handler
    ],
)
def test_permanent_problems_are_acknowledged_as_skipped(worker: EventFunction, data: Any) -> None:
    before = counted("phasma.post.liked", "skipped")
    response = deliver(worker, event(data))
    assert response.status_code == 204
    assert response.headers[OUTCOME_HEADER] == "skipped"
    assert counted("phasma.post.liked", "skipped") == before + 1


def test_a_valid_payload_parses_into_its_catalogue_model() -> None:
    actor, recipient, post = (str(uuid.uuid4()) for _ in range(3))
    data = {"postId": post, "actorId": actor, "recipientId": recipient, "extra": 1}
    received_event = ReceivedEvent("1", "phasma.post.liked", "/phasma/likes", post, None, data)
    payload = received_event.payload(PostLikeChanged)
    assert str(payload.actor_id) == actor and str(payload.recipient_id) == recipient


def test_a_request_that_is_not_a_cloudevent_is_skipped(worker: EventFunction) -> None:
    response = Client(worker.wsgi_app).post("/", data=b"hello", content_type="text/plain")
    assert response.status_code == 204
    assert response.headers[OUTCOME_HEADER] == "skipped"


def test_unknown_types_share_one_metric_label(worker: EventFunction) -> None:
    before = counted("other", "applied")
    assert deliver(worker, event({}, event_type="com.example.surprise")).status_code == 204
    assert counted("other", "applied") == before + 1


def test_an_unavailable_dependency_answers_503_for_a_retry(worker: EventFunction) -> None:
    before = counted("phasma.post.liked", "failed")
    response = deliver(worker, event({"behaviour": "unavailable"}))
    assert response.status_code == 503
    assert response.get_json() == {"message": "Service unavailable"}
    assert counted("phasma.post.liked", "failed") == before + 1
    health = pipeline(worker)
    assert health["errorStreak"] >= 1
    assert health["lastError"] == "DatabaseUnavailable: database circuit open"
    # The next successful delivery is progress: the streak ends.
    assert deliver(worker, event({"behaviour": "apply"})).status_code == 204
    health = pipeline(worker)
    assert (health["errorStreak"], health["firstErrorAt"]) == (0, None)
    assert health["errorCount"] >= 1 and health["processed"] >= 1


def test_a_bug_answers_500_so_the_event_is_retried_then_dead_lettered(
    worker: EventFunction,
) -> None:
    response = deliver(worker, event({"behaviour": "crash"}))
    assert response.status_code == 500
    assert response.get_json() == {"message": "Internal Server Error"}
    assert pipeline(worker)["lastError"] == "RuntimeError: a bug"


def test_event_functions_answer_the_probes(worker: EventFunction) -> None:
    client = Client(worker.wsgi_app)
    assert client.get("/health").status_code == 204
    assert client.get("/ready").status_code == 204
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    text = metrics.get_data(as_text=True)
    assert "phasma_events_total" in text and "phasma_pipeline_processed_total" in text
    background = client.get("/health/background")
    assert background.status_code == 200
    assert background.headers["Content-Type"].startswith("application/json")
    assert background.headers["X-Content-Type-Options"] == "nosniff"
    assert any(p["name"] == "entry-point-test" for p in background.get_json()["pipelines"])
    assert client.get("/").status_code == 405
