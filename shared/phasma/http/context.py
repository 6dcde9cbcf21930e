"""What a route handler receives: the request, its route, its viewer and helpers."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from werkzeug import Request

from phasma.auth.sessions import Viewer
from phasma.http.bodies import Body, parse_body, read_json_object
from phasma.http.errors import BadRequest, HttpError, Unauthorized
from phasma.registry import Route
from phasma.runtime import Runtime
from phasma.text import USERNAME_PATTERN

_UUID_SHAPE = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE
)


@dataclass
class RequestContext:
    """One request on its way through the pipeline."""

    request: Request
    runtime: Runtime
    request_id: str
    client_ip: str
    secure: bool
    route: Route | None = None
    params: dict[str, str] = field(default_factory=dict)
    viewer: Viewer | None = None
    _json: dict[str, Any] | None = field(default=None, repr=False)

    def body(self, model: type[Body]) -> Body:
        """The JSON body validated against `model` (415/413/400 per docs/api.md §7).

        Read on first use, so a handler checks its path parameters first, as the
        processing order of docs/api.md §1.1 requires.
        """
        if self.route is None or not self.route.json_body:
            raise RuntimeError("only routes registered with json_body=True read a JSON body")
        if self._json is None:
            self._json = read_json_object(self.request)
        return parse_body(model, self._json)

    def uuid_param(self, name: str) -> uuid.UUID:
        """A UUID path parameter, matched case-insensitively; anything else is a 400."""
        value = self.params[name]
        if not _UUID_SHAPE.fullmatch(value):
            raise BadRequest(f"{name} must be a UUID")
        return uuid.UUID(value)

    def username_param(self, *, invalid: type[HttpError]) -> str:
        """The lowercased `{username}`; a value that cannot be a username raises `invalid`.

        Routes differ by the contract: a profile rejects it (400), a list treats it as a
        user that does not exist (404).
        """
        username = self.params["username"].lower()
        if not USERNAME_PATTERN.fullmatch(username):
            raise invalid("username is not valid" if invalid is BadRequest else None)
        return username

    @property
    def viewer_id(self) -> int | None:
        """The signed-in user's internal id, or None for an anonymous request."""
        return self.viewer.user_id if self.viewer else None

    @property
    def signed_in(self) -> Viewer:
        """The viewer of a session-required route (the pipeline guarantees one)."""
        if self.viewer is None:
            raise Unauthorized()
        return self.viewer
