"""The entry point of event functions: CloudEvents over HTTP (docs/operations.md §2.2).

A KafkaSource or PingSource POSTs each event to the function in HTTP binary mode.
The entry point decodes it with the CloudEvents SDK and hands it to the handler the
registry names (`Function.event_handler`, a `"module:function"` with the signature
of `EventHandler`), then answers the way delivery needs:

- `204` when the handler applied the event or deliberately skipped it: unknown type,
  undecodable payload, referent gone (`Skip`, or a payload failing its model). A
  retryable status for a permanent problem would hold the partition for ~8.5 min.
- `503` when a dependency is unavailable (`phasma.failures.DependencyUnavailable`):
  the source retries with backoff, then dead-letters.
- `422` with the reason as `{"message"}` when the event can never succeed (`Reject`,
  e.g. a mail server refusing the recipient for good): KafkaSource does not retry a
  4xx other than 404, 408, 409, 425 and 429, so it dead-letters the event at once,
  the reason in its `knativeerrordata` extension.
- `500` for anything else, logged with its stack: retried and dead-lettered too, so
  the event can be replayed once the bug is fixed.

The outcome is also in the `Phasma-Event-Outcome` header and counted in
`phasma_events_total{type,outcome}`. Event functions answer the probes of HTTP
functions (`/health`, `/ready`, `/metrics`) through the same front door
(`phasma.http.entry`), plus `GET /health/background`.
"""

from __future__ import annotations

import builtins
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

from cloudevents.http import CloudEvent
from prometheus_client import Counter
from pydantic import BaseModel, ValidationError
from werkzeug import Request, Response

from phasma.config import Settings
from phasma.events import pipelines
from phasma.events.catalogue import CATALOGUE
from phasma.events.cloudevents import UndecodableEvent, from_http_request
from phasma.failures import DependencyUnavailable
from phasma.http import probes
from phasma.http.entry import Entry, Exchange
from phasma.http.function import Target, as_target, start_process
from phasma.http.responses import error_response, json_response, no_content
from phasma.logs import request_id_var
from phasma.registry import Function
from phasma.runtime import Runtime

log = logging.getLogger("phasma.events")

Outcome = Literal["applied", "skipped"]
EventHandler = Callable[["ReceivedEvent", Runtime], Outcome]
Payload = TypeVar("Payload", bound=BaseModel)

BACKGROUND_PATH = "/health/background"
OUTCOME_HEADER = "Phasma-Event-Outcome"
# The type Knative's PingSource gives its events.
PING_TYPE = "dev.knative.sources.ping"
# Types outside the catalogue share one label, so outside input cannot grow the metric.
OTHER_TYPE = "other"

EVENTS = Counter(
    "phasma_events",
    "Delivered events by type and outcome (applied, skipped, rejected, failed)",
    ["type", "outcome"],
)


class Skip(Exception):
    """Raised by a handler to acknowledge an event it deliberately does not apply."""


class Reject(Exception):
    """Raised by a handler for an event that can never succeed: dead-letter it now.

    The message is the reason the dead letter carries; it must hold no secret.
    """


# Not retried by KafkaSource (nor by the local dispatcher): straight to the dead letters.
REJECTED_STATUS = 422


@dataclass(frozen=True)
class ReceivedEvent:
    """One delivered CloudEvent: its attributes and its JSON object payload."""

    id: str
    type: str
    source: str
    subject: str | None
    time: datetime | None
    data: dict[str, Any]

    # `builtins.type`: in this class body `type` is the field above.
    def payload(self, model: builtins.type[Payload]) -> Payload:
        """`data` parsed as `model` (a catalogue payload); `Skip` when it does not fit."""
        try:
            return model.model_validate(self.data)
        except ValidationError as error:
            raise Skip(f"undecodable {self.type} payload: {error.error_count()} errors") from None


def received(event: CloudEvent) -> ReceivedEvent:
    """The handler's view of a decoded CloudEvent; `Skip` when its data is not an object."""
    data = event.get_data()
    if not isinstance(data, dict):
        raise Skip("the payload is not a JSON object")
    return ReceivedEvent(
        id=str(event["id"]),
        type=str(event["type"]),
        source=str(event["source"]),
        subject=event.get("subject"),
        time=_parse_time(event.get("time")),
        data=data,
    )


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def metric_type(event_type: str) -> str:
    """The `type` label of an event: its own for catalogue and ping events."""
    return event_type if event_type in CATALOGUE or event_type == PING_TYPE else OTHER_TYPE


class EventFunction(Entry[Exchange]):
    """One event function: its handler, its runtime, its pipeline and its probes."""

    def __init__(self, function: Function, runtime: Runtime) -> None:
        super().__init__(function.name)
        self.function = function
        self.runtime = runtime
        self.handler: EventHandler = function.resolve_event_handler()
        settings: Settings = runtime.settings
        self.pipeline = pipelines.register(
            pipelines.Pipeline(
                function.name,
                service=settings.k_service,
                stale_seconds=settings.background_pipeline_stale_seconds,
                error_window_seconds=settings.pipeline_error_window_seconds,
            )
        )

    # -- the front door's hooks ------------------------------------------

    def begin(self, request: Request) -> Exchange:
        # No request id of its own: a delivery logs under its event's id.
        return Exchange(request, "")

    def probe(self, path: str) -> Response:
        return probes.answer(path, self.runtime)

    def dispatch(self, exchange: Exchange) -> tuple[Response, str]:
        request = exchange.request
        if request.method in ("GET", "HEAD") and request.path == BACKGROUND_PATH:
            snapshots = [snapshot.model_dump(by_alias=True) for snapshot in pipelines.snapshots()]
            return json_response({"pipelines": snapshots}), BACKGROUND_PATH
        if request.method == "POST":
            return self._deliver(request), "/"
        return error_response(405, "Method Not Allowed"), "unmatched"

    def _deliver(self, request: Request) -> Response:
        try:
            event = from_http_request(dict(request.headers), request.get_data())
        except UndecodableEvent as error:
            log.warning("skipped a request that is not a CloudEvent: %s", error)
            self.pipeline.progress()
            return _outcome("skipped", OTHER_TYPE)
        token = request_id_var.set(f"event:{event['id']}")
        try:
            with self.pipeline.attempt():
                return self._apply(event)
        finally:
            request_id_var.reset(token)

    def _apply(self, event: CloudEvent) -> Response:
        event_type = metric_type(str(event["type"]))
        try:
            outcome = self.handler(received(event), self.runtime)
        except Skip as reason:
            log.info("skipped %s %s: %s", event["type"], event["id"], reason)
            outcome = "skipped"
        except Reject as reason:
            log.warning("rejected %s %s for good: %s", event["type"], event["id"], reason)
            self.pipeline.progress()  # answered: the partition moves on
            EVENTS.labels(event_type, "rejected").inc()
            return error_response(REJECTED_STATUS, str(reason))
        except DependencyUnavailable as error:
            log.warning("event %s %s must be retried: %s", event["type"], event["id"], error)
            self.pipeline.failure(f"{type(error).__name__}: {error}")
            EVENTS.labels(event_type, "failed").inc()
            return error_response(503, "Service unavailable")
        except Exception as error:
            log.exception("event %s %s failed", event["type"], event["id"])
            self.pipeline.failure(f"{type(error).__name__}: {error}")
            EVENTS.labels(event_type, "failed").inc()
            return error_response(500, "Internal Server Error")
        time_of_event = _parse_time(event.get("time"))
        lag = None if time_of_event is None else time.time() - time_of_event.timestamp()
        self.pipeline.progress(lag_seconds=lag)
        return _outcome(outcome, event_type)


def _outcome(outcome: Outcome, event_type: str) -> Response:
    EVENTS.labels(event_type, outcome).inc()
    response = no_content()
    response.headers[OUTCOME_HEADER] = outcome
    return response


def event_function(name: str) -> Target:
    """The registered event function `name`, wired to this process's runtime.

    functions-framework serves it with signature type `http` (the default): event
    functions answer probes too, which a `cloudevent` signature could not.
    """
    function, runtime = start_process(name)
    return as_target(name, function.summary, EventFunction(function, runtime))
