"""What a page handler receives: the request, the backend client, rendering and answers.

Every form endpoint answers two ways (docs/frontend.md §1): a plain submission gets a
`303` (or the page again with an error box), a `fetch` with `Accept:
application/json` gets `{"ok": true, ...}` or `{"ok": false, "error": "..."}`.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment
from werkzeug import Request, Response
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from phasma.concurrency import Slots
from phasma.config import Settings
from phasma.frontend.backend import BackendClient, BackendResponse, BackendUnavailable
from phasma.frontend.cookies import (
    FLASH_COOKIE,
    THEME_COOKIE,
    SessionCookie,
    clear_flash,
    theme_of,
)
from phasma.frontend.messages import FLASHES, status_message
from phasma.frontend.security import safe_next
from phasma.http.bodies import decode_json
from phasma.text import USERNAME_PATTERN

log = logging.getLogger(__name__)

HTML = "text/html; charset=utf-8"
JSON = "application/json; charset=utf-8"
SITE_NAME = "Phasma"
VIEWER_HEADER = "X-Phasma-Viewer"


class PageError(Exception):
    """Answer with the error page (or JSON error) for `status`; a `429` carries the
    backend's `Retry-After`."""

    def __init__(
        self, status: int, message: str | None = None, *, retry_after: str | None = None
    ) -> None:
        super().__init__(message or status_message(status))
        self.status = status
        self.message = message or status_message(status)
        self.retry_after = retry_after

    @classmethod
    def of(cls, response: BackendResponse) -> PageError:
        """The error page for a failed backend answer."""
        return cls(response.status, retry_after=response.headers.get("Retry-After"))


class SignInRequired(Exception):
    """No valid session: pages go to `/login`, fetches get `401`."""


class RequestTooLarge(Exception):
    """The request body is over `BODY_SIZE_LIMIT`."""


@dataclass
class Context:
    """One browser request on its way through a page handler."""

    request: Request
    settings: Settings
    api: BackendClient
    environment: Environment
    request_id: str
    nonce: str
    secure: bool
    stream_slots: Slots
    params: dict[str, str] = field(default_factory=dict)
    _me: Future[BackendResponse] | None = None
    _unread_count: int = 0
    _viewer: dict[str, Any] | None = None
    _account: dict[str, Any] | None = None  # the viewer with its email, for settings
    _viewer_loaded: bool = False
    viewer_status: int | None = None  # status of `GET /users/me` once asked

    # -- the visitor -------------------------------------------------------

    @property
    def has_session(self) -> bool:
        """Whether the browser sent a well-formed session cookie (not yet verified)."""
        return self.api.session_token is not None

    @property
    def theme(self) -> str:
        return theme_of(self.request.cookies.get(THEME_COOKIE))

    def start_shell(self) -> None:
        """Ask for the navbar's data in the background: one `GET /users/me` that also
        carries the unread count (`?include=unreadCount`)."""
        if not self.has_session or self._me is not None:
            return
        self._me = self.api.backend.submit(lambda: self.api.get("/users/me", include="unreadCount"))

    @property
    def viewer(self) -> dict[str, Any] | None:
        """The signed-in user (email dropped), or None when signed out."""
        if self._viewer_loaded:
            return self._viewer
        self._viewer_loaded = True
        if not self.has_session:
            return None
        if self.is_fragment:
            self._viewer = self._fragment_viewer()
            return self._viewer
        self.start_shell()
        assert self._me is not None
        try:
            response = self._me.result()
        except BackendUnavailable:
            self.viewer_status = 503
            return None
        self.viewer_status = response.status
        if response.status == 401:
            # Signed out: the backend ended (or never knew) this session; drop our cookie.
            self.api.session_cookie = SessionCookie("", 0)
            return None
        user = response.json() if response.ok else None
        if isinstance(user, dict) and isinstance(user.get("username"), str):
            count = user.pop("unreadCount", 0)
            self._unread_count = count if isinstance(count, int) and count > 0 else 0
            self._account = dict(user)
            user.pop("email", None)
            self._viewer = user
        return self._viewer

    def _fragment_viewer(self) -> dict[str, Any] | None:
        """Who a "Load More" fragment is for, as the page that asked for it says
        (`X-Phasma-Viewer`). It only picks which buttons the items show: every action
        behind them is authorised by the backend, so a fragment costs no viewer call."""
        username = self.request.headers.get(VIEWER_HEADER, "")
        return {"username": username} if USERNAME_PATTERN.fullmatch(username) else None

    def account(self) -> dict[str, Any]:
        """The signed-in account with its email (the settings form), from the same one
        viewer call; errors as `require_viewer`."""
        self.require_viewer()
        if self._account is None:
            raise PageError(502)
        return self._account

    def require_viewer(self) -> dict[str, Any]:
        """The signed-in user; a missing session is `SignInRequired`, an outage an error."""
        viewer = self.viewer
        if viewer is not None:
            return viewer
        if self.viewer_status in (None, 401, 404):
            raise SignInRequired()
        raise PageError(self.viewer_status or 503)

    @property
    def unread(self) -> int:
        """Unread notifications for the navbar dot; any failure counts as none."""
        return self._unread_count if self.viewer is not None else 0

    # -- the request -------------------------------------------------------

    @property
    def wants_json(self) -> bool:
        return "application/json" in self.request.headers.get("Accept", "")

    @property
    def is_fragment(self) -> bool:
        return self.request.headers.get("X-Phasma-Fragment") == "1"

    def form(self) -> MultiDict[str, str]:
        """The submitted form fields (`RequestTooLarge` over the body limit)."""
        try:
            return self.request.form
        except RequestEntityTooLarge:
            raise RequestTooLarge() from None

    def files(self) -> MultiDict[str, FileStorage]:
        """The submitted files (`RequestTooLarge` over the body limit)."""
        try:
            return self.request.files
        except RequestEntityTooLarge:
            raise RequestTooLarge() from None

    def json_body(self) -> Any:
        """A JSON request body (415 for another type, 400 when unreadable)."""
        if self.request.mimetype != "application/json":
            raise PageError(415, "Content-Type must be application/json.")
        try:
            return decode_json(self.request.get_data(cache=False) or b"null")
        except RequestEntityTooLarge:
            raise RequestTooLarge() from None
        except ValueError:
            raise PageError(400) from None

    def field(self, name: str) -> str:
        """One form field, "" when missing."""
        return self.form().get(name, "")

    def next_path(self, default: str) -> str:
        """The hidden `next` field (or query), if it is a same-origin path."""
        return safe_next(self.form().get("next") or self.request.args.get("next"), default)

    # -- answers -----------------------------------------------------------

    def render(
        self, template: str, *, title: str, status: int = 200, shell: bool = True, **values: Any
    ) -> Response:
        """A full page inside the navigation shell, with the one-time message a form left
        (`shell=False`: only with the viewer already asked for, never a new call)."""
        viewer = self.viewer if shell or self._me is not None else None
        flash_key = self.request.cookies.get(FLASH_COOKIE)
        html = self.environment.get_template(template).render(
            title=f"{title} - {SITE_NAME}",
            nonce=self.nonce,
            theme=self.theme,
            viewer=viewer,
            unread=self.unread if viewer else 0,
            unverified_email=self._unverified_email(viewer),
            path=self.request.path,
            flash=FLASHES.get(flash_key or ""),
            **values,
        )
        response = Response(html, status=status, content_type=HTML)
        if flash_key is not None:
            clear_flash(response, secure=self.secure)
        return response

    def _unverified_email(self, viewer: dict[str, Any] | None) -> str | None:
        """The address the "verify your email" banner names: the viewer's own, read from
        the account (the viewer drops it), only while it is unverified."""
        if viewer is None or viewer.get("emailVerified") is not False or self._account is None:
            return None
        email = self._account.get("email")
        return email if isinstance(email, str) else None

    def render_fragment(self, template: str, next_cursor: str | None, **values: Any) -> Response:
        """Item partials for "Load More", with the next cursor in `X-Next-Cursor`."""
        html = self.render_partial(template, **values)
        response = Response(html, content_type=HTML)
        if next_cursor:
            response.headers["X-Next-Cursor"] = next_cursor
        return response

    def render_partial(self, template: str, **values: Any) -> str:
        """A partial's HTML, for JSON answers that carry markup (a new comment)."""
        return self.environment.get_template(template).render(
            nonce=self.nonce, viewer=self.viewer, path=self.request.path, **values
        )

    def redirect(self, location: str) -> Response:
        """`303 See Other` to a same-origin path."""
        response = Response(status=303)
        response.headers["Location"] = location
        return response

    def json(self, payload: Any, status: int = 200) -> Response:
        return Response(json.dumps(payload), status=status, content_type=JSON)

    def done(self, location: str, **extra: Any) -> Response:
        """A successful form: `{"ok": true}` for fetch, `303` for a plain submission."""
        if self.wants_json:
            return self.json({"ok": True, **extra})
        return self.redirect(location)

    def failed(self, message: str, status: int) -> Response:
        """A failed fetch submission: `{"ok": false, "error": ...}`."""
        return self.json({"ok": False, "error": message}, status)

    def expect(self, response: BackendResponse, *statuses: int) -> BackendResponse:
        """`response` when its status is one of `statuses` (any 2xx when none are named);
        a `401` is `SignInRequired`, anything else the error page for its status."""
        if (response.status in statuses) if statuses else response.ok:
            return response
        if response.status == 401:
            raise SignInRequired()
        raise PageError.of(response)
