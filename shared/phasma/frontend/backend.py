"""Server-side calls from the frontend to the backend functions (docs/frontend.md §2.1).

`Backend` is per process: it knows which function owns each API route (from the
registry) and keeps one connection pool. `BackendClient` is per browser request:
it forwards only that request's session cookie (and its device cookie to the
calls that check a password), replaces `X-Forwarded-For` with the browser's
address (dropping whatever the browser sent), sends a fresh `X-Request-ID` per
call, never sends `Origin`, and remembers what the backends said about the
session cookie so the page can relay it (`cookies.py`).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import urllib3
from urllib3.exceptions import HTTPError as TransportError

from phasma.config import Settings
from phasma.frontend.cookies import SessionCookie, read_session_cookie
from phasma.http.routing import Matched, MethodNotAllowed, RouteTable
from phasma.registry import Function, http_functions

log = logging.getLogger(__name__)

Result = TypeVar("Result")
_CHUNK = 64 * 1024
# Calls of one page run side by side (navbar data, the page's lists); a few per page.
_PARALLEL_CALLS = 16


class BackendUnavailable(Exception):
    """A backend call timed out or could not connect: the page answers 503."""


@dataclass
class BackendResponse:
    """A backend answer read whole (JSON calls)."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    set_cookies: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        """The decoded JSON body (None when there is none or it is not JSON)."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass
class StreamedResponse:
    """A backend answer whose body is read in chunks (image bytes, event streams)."""

    status: int
    headers: Mapping[str, str]
    raw: urllib3.BaseHTTPResponse | None

    def chunks(self, size: int = _CHUNK) -> Iterator[bytes]:
        """The body in chunks; the connection goes back to the pool when it ends."""
        if self.raw is None:
            return
        try:
            yield from self.raw.stream(size, decode_content=False)
        except TransportError as error:
            log.warning("backend stream ended early: %s", error)
        finally:
            self.close()

    def close(self) -> None:
        if self.raw is not None:
            self.raw.release_conn()
            self.raw = None


def api_path(template: str, *segments: str) -> str:
    """`template` with each `{}` replaced by a URL-encoded path segment."""
    return template.format(*(quote(segment, safe="") for segment in segments))


class Backend:
    """Process-wide: route ownership, base URLs and the connection pool."""

    def __init__(self, settings: Settings, functions: Sequence[Function] | None = None) -> None:
        self.settings = settings
        registered = http_functions() if functions is None else tuple(functions)
        self._owners: RouteTable[str] = RouteTable(
            (route.method, route.path, function.name)
            for function in registered
            for route in function.routes
        )
        timeout = settings.backend_timeout_seconds
        self._timeout = urllib3.Timeout(connect=timeout, read=timeout)
        self._pool = urllib3.PoolManager(
            num_pools=32, maxsize=_PARALLEL_CALLS * 2, retries=False, timeout=self._timeout
        )
        self._executor = ThreadPoolExecutor(_PARALLEL_CALLS, thread_name_prefix="backend")

    def base_url(self, method: str, path: str) -> str | None:
        """Where the function owning `method path` listens; None when no function owns it."""
        if self.settings.backend_url:
            return self.settings.backend_url.rstrip("/")
        resolved = self._owners.resolve(method, path.split("?", 1)[0])
        if isinstance(resolved, Matched):
            owner = resolved.target
        elif isinstance(resolved, MethodNotAllowed):
            owner = str(resolved.targets[0])
        else:
            return None
        return self.settings.backend_url_template.format(name=owner).rstrip("/")

    def send(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes | None,
        *,
        stream: bool = False,
        read_timeout: float | None = None,
    ) -> urllib3.BaseHTTPResponse | None:
        """One HTTP exchange; None when no function owns the route (answered as a 404)."""
        base = self.base_url(method, path)
        if base is None:
            return None
        timeout = self._timeout
        if read_timeout is not None:
            timeout = urllib3.Timeout(
                connect=self.settings.backend_timeout_seconds, read=read_timeout
            )
        try:
            return self._pool.request(
                method,
                base + path,
                body=body,
                headers=headers,
                preload_content=not stream,
                redirect=False,
                timeout=timeout,
            )
        except TransportError as error:
            log.warning("backend %s %s failed: %s", method, _loggable(path), error)
            raise BackendUnavailable(str(error)) from None

    def submit(self, call: Callable[[], Result]) -> Future[Result]:
        """Run `call` on the shared pool of call threads."""
        return self._executor.submit(call)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._pool.clear()


@dataclass
class BackendClient:
    """The backend as seen by one browser request."""

    backend: Backend
    request_id: str
    client_ip: str
    session_token: str | None
    device_token: str | None = None  # the browser's well-formed `device` cookie
    session_cookie: SessionCookie | None = None  # the latest cookie instruction from a backend
    _calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _headers(
        self, extra: Mapping[str, str] | None, *, anonymous: bool = False, device: bool = False
    ) -> dict[str, str]:
        with self._lock:
            self._calls += 1
            call = self._calls
        headers = {"X-Request-ID": f"{self.request_id}-{call}", "Accept": "application/json"}
        cookies = []
        if self.session_token and not anonymous:
            cookies.append(f"session={self.session_token}")
        if self.device_token and device:
            cookies.append(f"device={self.device_token}")
        if cookies:
            headers["Cookie"] = "; ".join(cookies)
        headers.update(extra or {})
        # Replaced, never appended (docs/api.md §A.1): the backends trust this one entry.
        headers["X-Forwarded-For"] = self.client_ip
        return headers

    def _note_cookie(self, set_cookies: Sequence[str]) -> None:
        cookie = read_session_cookie(set_cookies)
        if cookie is not None:
            with self._lock:
                self.session_cookie = cookie

    def call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str | None] | None = None,
        json_body: Any = None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        device: bool = False,
    ) -> BackendResponse:
        """One backend call answered whole; a timeout or refused connection raises.

        `device`: send the browser's device cookie too (calls that check a password).
        """
        extra = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            extra["Content-Type"] = "application/json"
        target = _with_query(path, query)
        raw = self.backend.send(method, target, self._headers(extra, device=device), body)
        if raw is None:
            return BackendResponse(404, {}, b"")
        set_cookies = tuple(raw.headers.getlist("Set-Cookie"))
        self._note_cookie(set_cookies)
        return BackendResponse(raw.status, dict(raw.headers), raw.data, set_cookies)

    def stream(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str | None] | None = None,
        headers: Mapping[str, str] | None = None,
        read_timeout: float | None = None,
        anonymous: bool = False,
    ) -> StreamedResponse:
        """A call whose body is relayed in chunks rather than read whole (`anonymous`:
        without the session cookie, for public routes that never look at it)."""
        target = _with_query(path, query)
        raw = self.backend.send(
            method,
            target,
            self._headers(headers, anonymous=anonymous),
            None,
            stream=True,
            read_timeout=read_timeout,
        )
        if raw is None:
            return StreamedResponse(404, {}, None)
        self._note_cookie(raw.headers.getlist("Set-Cookie"))
        return StreamedResponse(raw.status, raw.headers, raw)

    def get(self, path: str, **query: str | None) -> BackendResponse:
        return self.call("GET", path, query=query)

    def gather(self, *calls: Callable[[], Result]) -> list[Result]:
        """Run independent calls side by side and return their results in order."""
        futures = [self.backend.submit(call) for call in calls]
        return [future.result() for future in futures]


def _with_query(path: str, query: Mapping[str, str | None] | None) -> str:
    pairs = {name: value for name, value in (query or {}).items() if value is not None}
    return f"{path}?{urlencode(pairs)}" if pairs else path


def _loggable(path: str) -> str:
    """`path` without its query, and without a mail token (docs/security.md §10)."""
    path = path.split("?", 1)[0]
    if path.startswith("/password-resets/"):
        return "/password-resets/{token}"
    return path
