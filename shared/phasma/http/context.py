"""What a route handler receives: the request, its route, its viewer and helpers."""

from __future__ import annotations

import ipaddress
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from werkzeug import Request

from phasma.http.bodies import Body, parse_body
from phasma.http.errors import BadRequest, Unauthorized
from phasma.registry import Route
from phasma.runtime import Runtime
from phasma.sessions.queries import Viewer

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
    json: dict[str, Any] = field(default_factory=dict)

    def body(self, model: type[Body]) -> Body:
        """The JSON body validated against `model` (400 on a wrong field type)."""
        return parse_body(model, self.json)

    def uuid_param(self, name: str) -> uuid.UUID:
        """A UUID path parameter, matched case-insensitively; anything else is a 400."""
        value = self.params[name]
        if not _UUID_SHAPE.fullmatch(value):
            raise BadRequest(f"{name} must be a UUID")
        return uuid.UUID(value)

    @property
    def signed_in(self) -> Viewer:
        """The viewer of a session-required route (the pipeline guarantees one)."""
        if self.viewer is None:
            raise Unauthorized()
        return self.viewer


def client_ip(request: Request, trust_proxy: bool) -> str:
    """The first `X-Forwarded-For` entry when trusted and a valid IP, else the peer address."""
    if trust_proxy:
        forwarded = request.headers.get("X-Forwarded-For", "")
        first = forwarded.split(",", 1)[0].strip()
        if first:
            try:
                return str(ipaddress.ip_address(first))
            except ValueError:
                pass
    return request.remote_addr or "unknown"


def is_secure(request: Request, trust_proxy: bool) -> bool:
    """TLS, or (behind a trusted proxy) a first `X-Forwarded-Proto` of https."""
    if trust_proxy and "X-Forwarded-Proto" in request.headers:
        return request.headers["X-Forwarded-Proto"].split(",", 1)[0].strip().lower() == "https"
    return request.scheme == "https"
