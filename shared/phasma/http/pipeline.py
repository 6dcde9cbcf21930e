"""The request pipeline every HTTP function runs (docs/api.md §1.1), behind the front door
(`phasma.http.entry`: request id, probes, headers, metrics).

exception guard → request id → access log → security headers → origin guard →
rate limit by address → session resolution → (a resolved session: rate limit by
user) → route match → auth → handler (which checks path parameters and parses its
body). The first stage that rejects decides.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from urllib.parse import urlsplit

from werkzeug import Request, Response

from phasma.auth.sessions import resolve_session
from phasma.auth.tokens import is_well_formed, token_key
from phasma.config import RATE_LIMIT_DEFAULTS, Limits, Settings
from phasma.db.pool import DatabaseUnavailable
from phasma.failures import DependencyUnavailable
from phasma.http import probes
from phasma.http.context import RequestContext
from phasma.http.cookies import COOKIE_NAME, clear_session_cookie, set_session_cookie
from phasma.http.entry import Entry, Exchange
from phasma.http.errors import (
    Forbidden,
    HttpError,
    MethodNotAllowed,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
)
from phasma.http.forwarded import client_address, is_secure
from phasma.http.responses import error_response
from phasma.http.routing import Matched, RouteTable
from phasma.http.routing import MethodNotAllowed as PathKnown
from phasma.logs import log_access
from phasma.media_urls import signing_key, signing_key_var
from phasma.registry import Access, Function, Route
from phasma.runtime import Runtime

log = logging.getLogger("phasma.http")

Handler = Callable[[RequestContext], Response]

_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def choose_request_id(supplied: str | None) -> str:
    """The caller's id when non-empty and at most 64 characters, else 32 random hex."""
    if supplied and len(supplied) <= Limits.REQUEST_ID_MAX_CHARS:
        return supplied
    return secrets.token_hex(16)


class _SessionState:
    """What session resolution found: a viewer, nothing, a bad token, or a store error."""

    def __init__(self) -> None:
        self.cookie_present = False
        self.token_invalid = False
        self.store_failed = False


class HttpFunction(Entry[Exchange]):
    """One HTTP function: its routes, its runtime, and the pipeline around them."""

    def __init__(self, function: Function, runtime: Runtime) -> None:
        if not runtime.settings.session_hash_secret:
            raise RuntimeError("SESSION_HASH_SECRET is required for HTTP functions")
        super().__init__(function.name)
        self.function = function
        self.runtime = runtime
        self.settings: Settings = runtime.settings
        # Posts built while a request runs sign their private images with it.
        self._media_key = signing_key(runtime.settings.session_hash_secret)
        # Settings never change in a running process: build each bucket policy once.
        self.bucket_policies = {
            name: self.settings.rate_limit_policy(name) for name in RATE_LIMIT_DEFAULTS
        }
        self._secret_paths = frozenset(r.path for r in function.routes if r.secret_path)
        self.routes: RouteTable[tuple[Route, Handler]] = RouteTable(
            (route.method, route.path, (route, route.resolve_handler()))
            for route in function.routes
        )

    # -- the front door's hooks ------------------------------------------

    def begin(self, request: Request) -> Exchange:
        return Exchange(request, choose_request_id(request.headers.get("X-Request-ID")))

    def probe(self, path: str) -> Response:
        return probes.answer(path, self.runtime)

    def dispatch(self, exchange: Exchange) -> tuple[Response, str]:
        request = exchange.request
        # The key a private account's image links are signed with, for the slices that
        # build Posts deep in their queries (`phasma.media_urls`).
        media_key = signing_key_var.set(self._media_key)
        try:
            response, template = self._guarded(request, exchange.request_id)
        finally:
            signing_key_var.reset(media_key)
        # A token in the path (a password-reset link) never reaches the log.
        path = template if template in self._secret_paths else request.path
        log_access(request.method, path, template, response.status_code, exchange.started)
        return response, template

    # -- the pipeline ----------------------------------------------------

    def _guarded(self, request: Request, request_id: str) -> tuple[Response, str]:
        resolved = self.routes.resolve(request.method, request.path)
        template = resolved.template if resolved is not None else "unmatched"
        context = RequestContext(
            request=request,
            runtime=self.runtime,
            request_id=request_id,
            client_ip=client_address(request, self.settings.trusted_proxy_hops),
            secure=is_secure(request, self.settings.trusted_proxy_hops),
        )
        session = _SessionState()
        try:
            response = self._run(context, resolved, session)
        except HttpError as error:
            response = error_response(error.status, error.message, error.headers)
        except DependencyUnavailable as error:
            log.warning("dependency unavailable: %s", error)
            response = error_response(503, ServiceUnavailable.default_message)
        except Exception:
            log.exception("unhandled error in %s %s", request.method, template)
            response = error_response(500, "Internal Server Error")
        self._session_cookie(context, session, response)
        return response, template

    def _run(
        self,
        context: RequestContext,
        resolved: Matched[tuple[Route, Handler]] | PathKnown | None,
        session: _SessionState,
    ) -> Response:
        request = context.request
        if request.method in _UNSAFE_METHODS:
            self._check_origin(request)
        route = resolved.target[0] if isinstance(resolved, Matched) else None
        self._admit(context, route, session)
        if resolved is None:
            raise NotFound()
        if isinstance(resolved, PathKnown):
            raise MethodNotAllowed(headers={"Allow": ", ".join(resolved.allowed)})
        route, handler = resolved.target
        context.route = route
        context.params = resolved.params
        self._check_access(context, route, session)
        return handler(context)

    def _check_origin(self, request: Request) -> None:
        origin = request.headers.get("Origin")
        if origin is None:
            return  # server-side callers send none
        parts = urlsplit(origin)
        if not parts.scheme or not parts.netloc:
            raise Forbidden()
        scheme = "https" if is_secure(request, self.settings.trusted_proxy_hops) else "http"
        expected = f"{scheme}://{request.host}"
        if f"{parts.scheme}://{parts.netloc}".lower() != expected.lower():
            raise Forbidden()

    def _admit(self, context: RequestContext, route: Route | None, session: _SessionState) -> None:
        """The rate limit and session resolution, in the order of docs/api.md §A.

        Until a session is known the request is the client address's: its bucket
        decides first, so no cookie — absent, malformed, or well-formed but invented —
        reaches the database unless that bucket has a token. Public routes and
        unmatched paths never read the cookie at all: their answer has no viewer.
        Only a session that resolves moves the request to its user's bucket, and the
        address bucket gets back the token it lent, in the same cache call.
        """
        if route is not None:
            policy_name = route.rate_limit_policy
        else:
            policy_name = "read" if context.request.method in ("GET", "HEAD") else "mutation"
        address = f"ip:{context.client_ip}"
        self._take_token(policy_name, address)
        if route is None or route.access is Access.PUBLIC:
            return
        self._resolve_session(context, session)
        if context.viewer is not None:
            self._take_token(policy_name, f"user:{context.viewer.user_public_id}", refund=address)

    def _resolve_session(self, context: RequestContext, session: _SessionState) -> None:
        """Never rejects: it records what it found for the rate limiter and the auth stage."""
        token = context.request.cookies.get(COOKIE_NAME)
        if token is None or self.runtime.database is None:
            return
        session.cookie_present = True
        if not is_well_formed(token):
            session.token_invalid = True
            return
        key = token_key(token, self.settings.session_hash_secret or "")
        absolute = self.settings.session_absolute_ttl_seconds
        try:
            context.viewer = self.runtime.db.read(
                lambda executor: resolve_session(executor, key, token, absolute)
            )
        except DatabaseUnavailable as error:
            log.warning("session store unavailable: %s", error)
            session.store_failed = True
            return
        session.token_invalid = context.viewer is None

    def _take_token(self, policy_name: str, identity: str, *, refund: str | None = None) -> None:
        limiter = self.runtime.rate_limiter
        if limiter is None:
            return  # no cache configured: development only
        policy = self.bucket_policies[policy_name]
        decision = limiter.check(policy_name, policy, identity, refund=refund)
        if not decision.allowed:
            if decision.error:
                raise ServiceUnavailable()
            raise TooManyRequests(headers={"Retry-After": str(decision.retry_after_seconds)})

    def _check_access(self, context: RequestContext, route: Route, session: _SessionState) -> None:
        if route.access is Access.PUBLIC:
            return  # never resolved: public routes never personalise
        if session.store_failed:
            raise ServiceUnavailable()  # a database failure is never a logout
        if route.access is Access.REQUIRED and context.viewer is None:
            raise Unauthorized()

    def _session_cookie(
        self, context: RequestContext, session: _SessionState, response: Response
    ) -> None:
        """Re-issue the cookie of a resolved session; clear a bad one on required routes."""
        route = context.route
        if route is None or route.access is Access.PUBLIC:
            return
        if COOKIE_NAME in _cookie_names(response):
            return  # the handler decided (login, logout)
        if context.viewer is not None:
            set_session_cookie(response, context.viewer.token, secure=context.secure)
        elif route.access is Access.REQUIRED and session.token_invalid:
            clear_session_cookie(response, secure=context.secure)


def _cookie_names(response: Response) -> set[str]:
    return {header.split("=", 1)[0].strip() for header in response.headers.getlist("Set-Cookie")}
