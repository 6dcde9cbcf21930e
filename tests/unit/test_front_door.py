"""One front door (`phasma.http.entry.Entry`) for HTTP functions, event functions and the site."""

from __future__ import annotations

from prometheus_client import REGISTRY
from werkzeug import Request, Response
from werkzeug.test import Client

from phasma.events.worker import EventFunction
from phasma.frontend.app import Frontend
from phasma.http.entry import SECURITY_HEADERS, Entry, Exchange
from phasma.http.pipeline import HttpFunction
from phasma.logs import request_id_var


class Toy(Entry[Exchange]):
    """An entry that records what the front door asked of it."""

    def __init__(self) -> None:
        super().__init__("toy-entry")
        self.seen_ids: list[str | None] = []

    def begin(self, request: Request) -> Exchange:
        return Exchange(request, "" if request.path == "/anonymous" else "rid-1")

    def may_probe(self, request: Request) -> bool:
        return request.path != "/metrics"

    def probe(self, path: str) -> Response:
        return Response(f"probe {path}", status=200)

    def dispatch(self, exchange: Exchange) -> tuple[Response, str]:
        self.seen_ids.append(request_id_var.get())
        return Response("page", status=404), "/{page}"


def requests_counted(route: str, status: str) -> float:
    labels = {"function": "toy-entry", "method": "GET", "route": route, "status": status}
    return REGISTRY.get_sample_value("phasma_http_requests_total", labels) or 0.0


def test_the_three_entry_kinds_share_the_front_door() -> None:
    for kind in (HttpFunction, EventFunction, Frontend):
        assert issubclass(kind, Entry)
        assert "handle" not in vars(kind) and "wsgi_app" not in vars(kind)


def test_probes_headers_request_id_and_metrics_come_from_the_front_door() -> None:
    toy = Toy()
    client = Client(toy.wsgi_app)
    before = requests_counted("/health", "200"), requests_counted("/{page}", "404")

    probed = client.get("/health")
    assert (probed.status_code, probed.get_data(as_text=True)) == (200, "probe /health")
    assert probed.headers["X-Frame-Options"] == "DENY"
    assert probed.headers["X-Request-ID"] == "rid-1"
    assert toy.seen_ids == []  # a probe never reaches the entry's pipeline

    # A probe the caller may not see is the entry's own business, like any other path.
    hidden = client.get("/metrics")
    assert hidden.status_code == 404 and hidden.get_data(as_text=True) == "page"
    assert toy.seen_ids == ["rid-1"]
    assert request_id_var.get() != "rid-1"  # reset after the request

    anonymous = client.get("/anonymous")
    assert "X-Request-ID" not in anonymous.headers
    for name, value in SECURITY_HEADERS.items():
        assert anonymous.headers[name] == value
    after = requests_counted("/health", "200"), requests_counted("/{page}", "404")
    assert (after[0] - before[0], after[1] - before[1]) == (1, 2)
