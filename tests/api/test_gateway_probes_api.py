"""The API origin's own probes on the local gateway (docs/api.md §A.9)."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from wsgiref.types import WSGIApplication

import pytest
import requests

from phasma.devstack.gateway import Gateway, HttpUpstream, serve
from phasma.http.pipeline import HttpFunction
from phasma.registry import get_function
from phasma.runtime import Runtime
from tests.api.conftest import Api, ApiStack

# The backend security headers of docs/api.md §3.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-XSS-Protection": "0",
    "Content-Security-Policy": (
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
}


def assert_origin_headers(response: requests.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value, name
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/health", "/ready"])
def test_the_origin_answers_its_probes_when_every_function_is_ready(api: Api, path: str) -> None:
    # Probed as Knative probes: until it answers, once a second for up to 30 s. On a
    # loaded machine one function's check (the bucket's) can overrun its budget once.
    response = api.get(path)
    for _ in range(30):
        if response.status_code == 204:
            break
        time.sleep(1)
        response = api.get(path)
    assert (response.status_code, response.content) == (204, b"")
    assert_origin_headers(response)
    assert api.get(path, headers={"X-Request-ID": "probe-1"}).headers["X-Request-ID"] == "probe-1"
    assert api.request("HEAD", path).status_code == 204


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on: a function process that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gateway_with(api_stack: ApiStack, name: str, upstream: WSGIApplication) -> Iterator[str]:
    """The test stack's gateway with function `name` replaced by `upstream`: its URL."""
    apps = {function: http.wsgi_app for function, http in api_stack.functions.items()}
    server = serve(Gateway({**apps, name: upstream}), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def test_one_function_down_makes_the_origin_unready_but_still_healthy(
    api_stack: ApiStack, closed_port: int
) -> None:
    down = HttpUpstream(f"http://127.0.0.1:{closed_port}")
    with gateway_with(api_stack, "search", down) as base_url:
        ready = requests.get(f"{base_url}/ready", timeout=10)
        assert ready.status_code == 503
        assert ready.json() == {"message": "Service unavailable"}
        assert_origin_headers(ready)
        assert requests.get(f"{base_url}/health", timeout=10).status_code == 204
        # The other functions still serve through it.
        assert requests.get(f"{base_url}/users/me", timeout=10).status_code == 401


def test_a_function_whose_ready_hangs_makes_the_origin_unready(api_stack: ApiStack) -> None:
    with socket.socket() as silent:  # accepts connections (the backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        upstream = HttpUpstream(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=5)
        with gateway_with(api_stack, "notifications", upstream) as base_url:
            assert requests.get(f"{base_url}/ready", timeout=10).status_code == 503


def test_a_function_answering_503_on_its_ready_makes_the_origin_unready(
    api_stack: ApiStack,
) -> None:
    # A real function whose database is unreachable answers its own /ready with 503.
    settings = api_stack.settings.model_copy(
        update={"database_url": "postgresql://nobody:x@127.0.0.1:1/none", "ready_timeout_ms": 500}
    )
    likes = get_function("likes")
    broken = HttpFunction(likes, Runtime(likes, settings))
    try:
        with gateway_with(api_stack, "likes", broken.wsgi_app) as base_url:
            assert requests.get(f"{base_url}/ready", timeout=10).status_code == 503
    finally:
        broken.runtime.close()
