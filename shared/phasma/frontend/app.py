"""The frontend's request pipeline and its functions-framework entry point.

Behind the front door every function shares (`phasma.http.entry`: request id,
probes, headers, metrics): static assets → route match (404/405) → origin guard
(403) → sign-in guard (303 /login or 401) → handler → error pages → session cookie
relay; every answer then gets the browser's security headers with a fresh CSP nonce.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import generate_latest
from werkzeug import Request, Response

from phasma.concurrency import Slots, request_threads, stream_capacity
from phasma.config import Settings, get_settings
from phasma.frontend.assets import AssetCatalogue, frontend_directory
from phasma.frontend.backend import Backend, BackendClient, BackendUnavailable
from phasma.frontend.context import Context, PageError, RequestTooLarge, SignInRequired
from phasma.frontend.cookies import (
    delete_session,
    set_session,
    well_formed_device,
    well_formed_token,
)
from phasma.frontend.messages import SERVER_ERROR, status_message
from phasma.frontend.rendering import build_environment
from phasma.frontend.security import (
    UNSAFE_METHODS,
    new_nonce,
    safe_next,
    same_origin_request,
    security_headers,
)
from phasma.http.cookies import COOKIE_NAME, DEVICE_COOKIE_NAME
from phasma.http.entry import Entry, Exchange
from phasma.http.forwarded import client_address, is_secure
from phasma.http.function import Target, as_target
from phasma.http.probes import METRICS_CONTENT_TYPE
from phasma.http.routing import Matched, MethodNotAllowed, RouteTable
from phasma.logs import configure_logging, log_access
from phasma.registry import PageAccess, PageRoute, get_function

log = logging.getLogger("phasma.frontend")

FUNCTION_NAME = "frontend"
_CHUNK = 64 * 1024
# Past BODY_SIZE_LIMIT (a 20 MB photo and its form): read up to this much away so its
# sender sees the 413 page rather than a reset connection.
_DISCARD_LIMIT = 64 * 1024 * 1024
TOO_LARGE = "That is too much to send at once. Image must be smaller than 20 MB."
PageHandler = Callable[[Context], Response]
_ERROR_HEADINGS = {
    404: "Page not found",
    403: "Access denied",
    413: "Too large",
    429: "Slow down a little",
}


@dataclass
class Visit(Exchange):
    """One browser request at the front door: its CSP nonce goes in the page and the header."""

    nonce: str = ""


class Frontend(Entry[Visit]):
    """The site: one instance per process, shared by every request."""

    def __init__(
        self, settings: Settings, backend: Backend | None = None, directory: Path | None = None
    ) -> None:
        super().__init__(FUNCTION_NAME)
        folder = directory or frontend_directory()
        self.settings = settings
        self.assets = AssetCatalogue(folder / "static")
        self.environment = build_environment(folder / "templates", self.assets)
        self.backend = backend or Backend(settings)
        function = get_function(FUNCTION_NAME)
        # The pages are the registry's, as every API route is (docs/frontend.md §4).
        self.routes: RouteTable[tuple[PageRoute, PageHandler]] = RouteTable(
            (route.method, route.path, (route, route.resolve_handler())) for route in function.pages
        )
        # Relayed notification streams: below the request threads, so pages always find
        # one (docs/operations.md).
        self.stream_slots = Slots(stream_capacity(request_threads(function)))

    # -- the front door's hooks ------------------------------------------

    def begin(self, request: Request) -> Visit:
        # Never the browser's own `X-Request-ID`: the site is the public edge.
        return Visit(request, secrets.token_hex(16), nonce=new_nonce())

    def dispatch(self, exchange: Visit) -> tuple[Response, str]:
        request = exchange.request
        if request.path.startswith("/assets/") and request.method in ("GET", "HEAD"):
            response = self.assets.serve(request) or _plain(404, "Not found.")
            template = "/assets/{name}"
        else:
            response, template = self._page(request, exchange.request_id, exchange.nonce)
            log_access(
                request.method, request.path, template, response.status_code, exchange.started
            )
        response.headers.setdefault("Cache-Control", "no-store")
        return response, template

    def common_headers(self, exchange: Visit) -> Mapping[str, str]:
        return security_headers(exchange.nonce, self.settings)

    # -- the pipeline ----------------------------------------------------

    def _page(self, request: Request, request_id: str, nonce: str) -> tuple[Response, str]:
        request.max_content_length = self.settings.body_size_limit_bytes
        resolved = self.routes.resolve(request.method, request.path)
        template = resolved.template if resolved is not None else "unmatched"
        context = Context(
            request=request,
            settings=self.settings,
            api=BackendClient(
                self.backend,
                request_id=request_id,
                client_ip=client_address(request, self.settings.trusted_proxy_hops),
                session_token=well_formed_token(request.cookies.get(COOKIE_NAME)),
                device_token=well_formed_device(request.cookies.get(DEVICE_COOKIE_NAME)),
            ),
            environment=self.environment,
            request_id=request_id,
            nonce=nonce,
            secure=is_secure(request, self.settings.trusted_proxy_hops),
            stream_slots=self.stream_slots,
        )
        try:
            response = self._run(context, resolved)
        except SignInRequired:
            response = self._sign_in(context)
        except RequestTooLarge:
            response = self._error(context, 413, TOO_LARGE)
        except PageError as error:
            response = self._error(context, error.status, error.message, error.retry_after)
        except BackendUnavailable:
            response = self._error(context, 503, status_message(503))
        except Exception:
            log.exception("unhandled error in %s %s", request.method, request.path)
            response = self._error(context, 500, "Internal error")
        self._relay_session(context, response)
        declared = request.content_length
        # Over a declared length nothing was read (werkzeug refuses up front); a chunked
        # body was cut off mid-read. A body within its declared length was read whole.
        if (declared or 0) > self.settings.body_size_limit_bytes or (
            declared is None and response.status_code == 413
        ):
            _discard_body(request, response)
        return response, template

    def _run(
        self,
        context: Context,
        resolved: Matched[tuple[PageRoute, PageHandler]] | MethodNotAllowed | None,
    ) -> Response:
        request = context.request
        if resolved is None:
            raise PageError(404)
        if isinstance(resolved, MethodNotAllowed):
            response = self._error(context, 405, "That method is not allowed here.")
            response.headers["Allow"] = ", ".join(resolved.allowed)
            return response
        route, handler = resolved.target
        context.params = resolved.params
        if request.method in UNSAFE_METHODS and not same_origin_request(
            request, self.settings.public_origin
        ):
            raise PageError(403)
        if route.access is not PageAccess.PUBLIC and not context.has_session:
            raise SignInRequired()
        if (
            request.method in ("GET", "HEAD")
            and route.shell
            and not context.is_fragment
            and not context.wants_json
        ):
            # A full page's navbar data loads while the handler makes its own calls;
            # images, fragments, streams and fetches never spend the budget on it.
            context.start_shell()
        return handler(context)

    def _sign_in(self, context: Context) -> Response:
        """No valid session: a fetch gets `401`, a page or form goes to `/login`."""
        if context.is_fragment or context.request.path in ("/suggest", "/notifications/stream"):
            return Response(status=401)
        if context.wants_json:
            return context.json({"ok": False, "redirect": "/login"}, 401)
        return context.redirect("/login")

    def _error(
        self, context: Context, status: int, message: str, retry_after: str | None = None
    ) -> Response:
        """The error page (docs/frontend.md §2.4), or its JSON / bare form for fetches.

        A `429` page makes no call of its own (the budget is spent): it shows the viewer
        only when the page had already asked, and offers the same page again once
        `Retry-After` has passed."""
        limited = status == 429
        if limited and not (retry_after or "").isdigit():
            retry_after = None
        if context.is_fragment or context.wants_json:
            response = (
                Response(status=status)
                if context.is_fragment
                else context.json({"ok": False, "error": message}, status)
            )
        else:
            response = self._error_page(context, status, message, retry_after)
        if limited and retry_after:
            response.headers["Retry-After"] = retry_after
        return response

    def _error_page(
        self, context: Context, status: int, message: str, retry_after: str | None
    ) -> Response:
        request = context.request
        retry_url = None
        if status == 429:
            if retry_after:
                message = f"Too many requests. Please wait {retry_after} s and try again."
            if request.method == "GET":
                retry_url = safe_next(request.full_path.rstrip("?"), "/feed")
        heading = _ERROR_HEADINGS.get(status, "Something went wrong")
        try:
            return context.render(
                "error.html",
                title=str(status),
                status=status,
                shell=status != 429,
                code=status,
                heading=heading,
                message=message,
                retry_url=retry_url,
            )
        except Exception:
            log.exception("the error page failed to render")
            return Response(SERVER_ERROR, status=status, content_type="text/plain; charset=utf-8")

    def _relay_session(self, context: Context, response: Response) -> None:
        """Re-emit a refreshed session cookie, or delete ours when a backend cleared it
        (a handler that set the cookie itself, login or logout, has the last word)."""
        if any(
            header.startswith(f"{COOKIE_NAME}=")
            for header in response.headers.getlist("Set-Cookie")
        ):
            return
        cookie = context.api.session_cookie
        secure = self.settings.cookie_secure
        if cookie is None:
            if context.request.cookies.get(COOKIE_NAME) and not context.has_session:
                delete_session(response, secure=secure)  # a malformed cookie is no session
            return
        if cookie.cleared:
            if context.request.cookies.get(COOKIE_NAME) is not None:
                delete_session(response, secure=secure)
        elif cookie.valid and cookie.value == context.api.session_token:
            set_session(response, cookie, secure=secure)

    def may_probe(self, request: Request) -> bool:
        """Health and readiness are anyone's; metrics only the scraper's (docs/api.md §4).

        Without `METRICS_TOKEN`, or with another token, `/metrics` is an unknown page:
        the site is the one public entry point, and its counters are no one's business.
        """
        if request.path != "/metrics":
            return True
        expected = self.settings.metrics_token
        given = request.headers.get("Authorization", "")
        return expected is not None and hmac.compare_digest(
            given.encode(), f"Bearer {expected}".encode()
        )

    def probe(self, path: str) -> Response:
        if path == "/health":
            response = _plain(200, "ok")
        elif path == "/metrics":
            response = Response(generate_latest(), content_type=METRICS_CONTENT_TYPE)
        else:
            # Ready whenever it serves: the frontend holds no dependency of its own.
            response = Response(status=204)
            del response.headers["Content-Type"]
        response.headers["Cache-Control"] = "no-store"
        return response


def _discard_body(request: Request, response: Response) -> None:
    """Read away an oversized body in chunks, and answer with a streamed response.

    functions-framework reads the whole body after every non-streamed response (its
    `read_request` hook); over `max_content_length` that read raises outside the site's
    error pages and becomes a bare 500. A streamed answer skips the hook, and the body
    read here, at most `_DISCARD_LIMIT`, lets the browser finish sending and show the
    page rather than a reset connection; beyond it the connection is closed."""
    remaining = request.content_length
    discarded = 0
    stream = request.input_stream
    while discarded < _DISCARD_LIMIT and (remaining is None or remaining > 0):
        size = _CHUNK if remaining is None else min(_CHUNK, remaining)
        chunk = stream.read(size)
        if not chunk:
            break
        discarded += len(chunk)
        if remaining is not None:
            remaining -= len(chunk)
    if discarded >= _DISCARD_LIMIT:
        response.headers["Connection"] = "close"
    body = response.get_data()
    response.response = iter((body,))


def _plain(status: int, text: str) -> Response:
    return Response(text, status=status, content_type="text/plain; charset=utf-8")


def frontend_function() -> Target:
    """The frontend for this process, as functions-framework's `handle` target."""
    settings = get_settings()
    configure_logging(FUNCTION_NAME, settings.log_level)
    return as_target(FUNCTION_NAME, "the server-rendered site", Frontend(settings))
