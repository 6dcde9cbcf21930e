"""Page and form handlers, one module per area of docs/frontend.md §7."""

from __future__ import annotations

import re
from typing import Any

from werkzeug import Response

from phasma.frontend.backend import BackendResponse
from phasma.frontend.context import Context, PageError, SignInRequired
from phasma.frontend.messages import status_message
from phasma.text import USERNAME_PATTERN

USERNAME_SEGMENT = re.compile(f"@({USERNAME_PATTERN.pattern})")
UUID_SHAPE = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE
)


def username_param(context: Context) -> str:
    """The `@username` path segment without its `@`; any other shape is a 404."""
    match = USERNAME_SEGMENT.fullmatch(context.params["handle"])
    if match is None:
        raise PageError(404)
    return match.group(1)


def uuid_param(context: Context, name: str) -> str:
    """A UUID path segment (lowercased); anything else is a 404."""
    value = context.params[name]
    if not UUID_SHAPE.fullmatch(value):
        raise PageError(404)
    return value.lower()


def cursor_param(context: Context) -> str | None:
    """The `cursor` query parameter of a "Load More" request, if any."""
    return context.request.args.get("cursor") or None


def page_of(response: BackendResponse) -> tuple[list[dict[str, Any]], str | None]:
    """`(items, nextCursor)` of a cursor page; anything unexpected is an empty page."""
    body = response.json()
    if not isinstance(body, dict):
        return [], None
    items = [item for item in body.get("items") or [] if isinstance(item, dict)]
    cursor = body.get("nextCursor")
    return items, cursor if isinstance(cursor, str) and cursor else None


def items_of(response: BackendResponse) -> list[dict[str, Any]]:
    """The items of a list answer that is either a bare array or `{"items": [...]}`."""
    body = response.json()
    if isinstance(body, dict):
        body = body.get("items")
    return [item for item in body or [] if isinstance(item, dict)] if isinstance(body, list) else []


def submit(
    context: Context,
    method: str,
    path: str,
    location: str,
    *,
    json_body: Any = None,
    **extra: Any,
) -> Response:
    """A form whose only work is one backend mutation: `done` on success, else the error
    (JSON for fetch, the error page for a plain submission); `401` means sign in."""
    response = context.api.call(method, path, json_body=json_body)
    return respond(context, response, location, **extra)


def respond(context: Context, response: BackendResponse, location: str, **extra: Any) -> Response:
    """What `submit` answers once its backend call came back."""
    if response.ok:
        return context.done(location, **extra)
    if response.status == 401:
        raise SignInRequired()
    if context.wants_json:
        return context.failed(status_message(response.status), response.status)
    raise PageError.of(response)
