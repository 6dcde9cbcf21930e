"""The local API gateway: routes each request to the function that owns it, by the registry.

It behaves like an ingress: it keeps the `Host` header, replaces `X-Forwarded-For`
with the address it saw and `X-Forwarded-Proto` with its scheme (the functions
behind it trust one hop: `TRUSTED_PROXY_HOPS=1`), streams bodies both ways, and
adds nothing a function would not get in Knative. Unknown paths get the contract's
JSON 404.

`Gateway(..., internal=True)` plays the cluster-local ingress instead, the one the
frontend calls in Knative: it keeps the `X-Forwarded-For` the frontend wrote (the
browser's address, replacing whatever the browser sent), so the functions see the
person behind the site rather than the site itself. Only the frontend is given
its address.

It also answers the API origin's own probes (docs/api.md §A.9): `GET /health` → 204,
and `GET /ready` → 204 only when every function it routes to answers its own
`/ready` with 2xx within `READY_TIMEOUT_SECONDS`, else 503.
"""

from __future__ import annotations

import http.client
import io
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any
from urllib.parse import quote, urlsplit
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.test import EnvironBuilder

from phasma.http.entry import SECURITY_HEADERS
from phasma.http.pipeline import choose_request_id
from phasma.http.routing import Matched, MethodNotAllowed, RouteTable
from phasma.registry import http_functions

log = logging.getLogger(__name__)

# Hop-by-hop headers (RFC 9110 §7.6.1) are never forwarded.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# The gateway's own HTTP server always writes Server and Date; passing the
# function's on as well would send each twice.
_REPLACED_BY_GATEWAY = frozenset({"server", "date"})
_CHUNK = 64 * 1024
_PROBES = frozenset({"/health", "/ready"})
# Each function bounds its own `/ready` (READY_TIMEOUT_MS, 2 s by default); one that
# has not answered by then counts as not ready.
READY_TIMEOUT_SECONDS = 3.0


def _json_error(start_response: StartResponse, status: str, message: str) -> list[bytes]:
    body = json.dumps({"message": message}).encode()
    start_response(
        status,
        [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            *SECURITY_HEADERS.items(),
        ],
    )
    return [body]


class Gateway:
    """A WSGI app dispatching to one WSGI app per function name."""

    def __init__(self, functions: Mapping[str, WSGIApplication], *, internal: bool = False) -> None:
        self._functions = dict(functions)
        self._internal = internal
        self._routes: RouteTable[str] = RouteTable(
            (route.method, route.path, function.name)
            for function in http_functions()
            for route in function.routes
            if function.name in self._functions
        )
        # The functions `/ready` waits for: every one the gateway routes to.
        self._routed = [
            function.name
            for function in http_functions()
            if function.name in self._functions and function.routes
        ]
        self._ready_checks = ThreadPoolExecutor(
            max_workers=max(1, len(self._routed)), thread_name_prefix="gateway-ready"
        )

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path in _PROBES and environ["REQUEST_METHOD"] in ("GET", "HEAD"):
            return self._probe(path, environ, start_response)
        resolved = self._routes.resolve(environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/"))
        if isinstance(resolved, Matched):
            owner = resolved.target
        elif isinstance(resolved, MethodNotAllowed):
            owner = str(resolved.targets[0])  # the owner answers 405 with its Allow header
        else:
            return _json_error(start_response, "404 Not Found", "Not Found")
        if not self._internal:
            # Replaced, never appended (docs/api.md §A.1): the functions behind it trust one hop,
            # so whatever the client wrote there must not survive.
            environ["HTTP_X_FORWARDED_FOR"] = environ.get("REMOTE_ADDR", "")
            environ["HTTP_X_FORWARDED_PROTO"] = environ.get("wsgi.url_scheme", "http")
        return self._functions[owner](environ, start_response)

    def _probe(
        self, path: str, environ: WSGIEnvironment, start_response: StartResponse
    ) -> list[bytes]:
        """The origin's probes, with the headers and request id every API answer carries."""
        headers = [
            *SECURITY_HEADERS.items(),
            ("X-Request-ID", choose_request_id(environ.get("HTTP_X_REQUEST_ID"))),
            ("Cache-Control", "no-store"),
        ]
        if path == "/ready" and not self._every_function_ready():
            body = json.dumps({"message": "Service unavailable"}).encode()
            start_response(
                "503 Service Unavailable",
                [
                    ("Content-Type", "application/json; charset=utf-8"),
                    ("Content-Length", str(len(body))),
                    *headers,
                ],
            )
            return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]
        start_response("204 No Content", headers)
        return []

    def _every_function_ready(self) -> bool:
        checks = {
            name: self._ready_checks.submit(_answers_ready, self._functions[name])
            for name in self._routed
        }
        wait(checks.values(), timeout=READY_TIMEOUT_SECONDS)
        ready = True
        for name, check in checks.items():
            if not (check.done() and check.exception() is None and check.result()):
                log.warning("gateway readiness: function %s is not ready", name)
                ready = False
        return ready


def _answers_ready(app: WSGIApplication) -> bool:
    """Whether `app` answers `GET /ready` with 2xx (in-process or over HTTP alike)."""
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        statuses.append(status)
        return lambda data: None

    body = app(EnvironBuilder(path="/ready", method="GET").get_environ(), start_response)
    try:
        for _ in body:
            pass
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    return bool(statuses) and statuses[-1].startswith("2")


class HttpUpstream:
    """A WSGI app that forwards to a function process over HTTP, streaming both ways."""

    def __init__(self, base_url: str, timeout: float = 60.0) -> None:
        parts = urlsplit(base_url)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self._timeout = timeout
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
            self._local.connection = connection
        return connection

    def _drop_connection(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        target = environ.get("RAW_URI") or _request_target(environ)
        headers = _request_headers(environ)
        body = environ["wsgi.input"]
        if not environ.get("CONTENT_LENGTH") and environ.get("wsgi.input_terminated"):
            # A chunked request: functions need a length, so buffer it (dev only).
            buffered = body.read()
            body = io.BytesIO(buffered)
            headers.append(("Content-Length", str(len(buffered))))
            environ["CONTENT_LENGTH"] = str(len(buffered))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        for attempt in (1, 2):
            connection = self._connection()
            try:
                connection.putrequest(
                    environ["REQUEST_METHOD"], target, skip_host=True, skip_accept_encoding=True
                )
                for name, value in headers:
                    connection.putheader(name, value)
                connection.endheaders()
                _send_body(connection, body, length)
                upstream = connection.getresponse()
                break
            except (ConnectionError, http.client.HTTPException, OSError) as error:
                self._drop_connection()
                # A kept-alive connection the function closed: retry once on a fresh one,
                # but only when no body was consumed.
                if attempt == 2 or length:
                    log.warning("upstream %s:%s failed: %s", self._host, self._port, error)
                    return _json_error(
                        start_response, "503 Service Unavailable", "Service unavailable"
                    )
        response_headers = [
            (name, value)
            for name, value in upstream.getheaders()
            if name.lower() not in _HOP_BY_HOP and name.lower() not in _REPLACED_BY_GATEWAY
        ]
        start_response(f"{upstream.status} {upstream.reason}", response_headers)
        return self._stream(upstream)

    def _stream(self, upstream: http.client.HTTPResponse) -> Iterator[bytes]:
        try:
            # read1: whatever has arrived, up to a chunk. read() would wait for a full
            # chunk, holding back a Server-Sent Events stream until it ends.
            while chunk := upstream.read1(_CHUNK):
                yield chunk
        finally:
            upstream.close()
            if upstream.will_close:
                self._drop_connection()


def _request_target(environ: WSGIEnvironment) -> str:
    path = quote(environ.get("PATH_INFO", "/").encode("latin-1"), safe="/:@!$&'()*+,;=-._~")
    query = environ.get("QUERY_STRING")
    return f"{path}?{query}" if query else path


def _request_headers(environ: WSGIEnvironment) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").title()
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key.replace("_", "-").title()
        else:
            continue
        if value and name.lower() not in _HOP_BY_HOP:
            headers.append((name, value))
    return headers


def _send_body(connection: http.client.HTTPConnection, stream: Any, length: int) -> None:
    remaining = length
    while remaining > 0:
        chunk = stream.read(min(_CHUNK, remaining))
        if not chunk:
            break
        connection.send(chunk)
        remaining -= len(chunk)


class _QuietHandler(WSGIRequestHandler):
    """Function processes write the access log; the gateway stays silent."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        return


def serve(app: Callable[..., Iterable[bytes]], host: str, port: int) -> BaseWSGIServer:
    """A threaded HTTP server for `app` (call `serve_forever()` on it, `shutdown()` to stop)."""
    return make_server(host, port, app, threaded=True, request_handler=_QuietHandler)


def serve_gateways(
    functions: Mapping[str, WSGIApplication], port: int
) -> tuple[BaseWSGIServer, BaseWSGIServer]:
    """The API origin on `port` and the frontend's internal way in on a free port.

    Both already serve, each from its own thread; `shutdown()` stops one.
    """
    servers = (
        serve(Gateway(functions), "127.0.0.1", port),
        serve(Gateway(functions, internal=True), "127.0.0.1", 0),
    )
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    return servers
