"""The front door every entry kind shares: HTTP functions, event functions and the site.

Every request, whichever kind of function it reaches, goes through `Entry.handle`:

request id → the probes (`/health`, `/ready`, `/metrics`; `GET` and `HEAD`, never
rate-limited or logged) → otherwise the entry's own answer (`dispatch`) → the
entry's common headers and `X-Request-ID` → one observation in
`phasma_http_requests_total` / `phasma_http_request_duration_seconds` under the
route template (docs/api.md §17), probes included.

A kind says only what differs: how it names a request (`begin`), who may probe
(`may_probe`: the public site shows `/metrics` only to the scraper), how its probes
answer (`probe`), its own pipeline (`dispatch`, which writes the access log) and
its headers (`common_headers`).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from wsgiref.types import StartResponse, WSGIEnvironment

from werkzeug import Request, Response

from phasma.http import metrics, probes
from phasma.logs import request_id_var

# What every API and event-function answer carries (docs/api.md §1.1); the site sends the
# browser's set instead, with a fresh CSP nonce (`phasma.frontend.security`).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-XSS-Protection": "0",
    "Content-Security-Policy": (
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
}
_PROBE_METHODS = frozenset({"GET", "HEAD"})


@dataclass
class Exchange:
    """One request at the front door, and the id its log lines and answer carry."""

    request: Request
    # "": no id of its own (an event delivery logs under its event's id).
    request_id: str
    started: float = field(default_factory=time.perf_counter)


X = TypeVar("X", bound=Exchange)


class Entry(ABC, Generic[X]):
    """One kind of function as functions-framework serves it; `handle` is the front door."""

    def __init__(self, name: str) -> None:
        self.name = name  # the registry's name: the `function` label of the metrics

    def wsgi_app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """The same entry as a plain WSGI application (tests, benchmarks, the local stack)."""
        return self.handle(Request(environ))(environ, start_response)

    def handle(self, request: Request) -> Response:
        """One request in, one response out."""
        exchange = self.begin(request)
        token = request_id_var.set(exchange.request_id) if exchange.request_id else None
        try:
            if (
                request.method in _PROBE_METHODS
                and request.path in probes.PATHS
                and self.may_probe(request)
            ):
                response, route = self.probe(request.path), request.path
            else:
                response, route = self.dispatch(exchange)
            # No answer sets these itself, so appending is safe and cheaper than replacing.
            response.headers.extend(self.common_headers(exchange))
            if exchange.request_id:
                response.headers.add("X-Request-ID", exchange.request_id)
            metrics.observe(
                self.name,
                request.method,
                route,
                response.status_code,
                time.perf_counter() - exchange.started,
            )
            return response
        finally:
            if token is not None:
                request_id_var.reset(token)

    @abstractmethod
    def begin(self, request: Request) -> X:
        """The exchange for `request`: at least its request id."""

    def may_probe(self, request: Request) -> bool:
        """Whether this caller gets the probe at `request.path` (else `dispatch` answers)."""
        return True

    @abstractmethod
    def probe(self, path: str) -> Response:
        """The answer to `/health`, `/ready` or `/metrics`."""

    @abstractmethod
    def dispatch(self, exchange: X) -> tuple[Response, str]:
        """Everything but a probe: the answer and its route template for the metrics."""

    def common_headers(self, exchange: X) -> Mapping[str, str]:
        """The headers every answer of this entry carries, probes included."""
        return SECURITY_HEADERS
