"""Every route that needs a session refuses an anonymous caller before doing anything.

The routes come from the registry, so a route added later is covered without a change here.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from phasma.registry import Access, Route, http_functions
from tests.api.conftest import Api, Database

REQUIRED = [
    route
    for function in http_functions()
    for route in function.routes
    if route.access is Access.REQUIRED
]
# A plausible value for each path parameter, so the request would reach its handler.
PARAMETERS = {
    "id": str(uuid.uuid4()),
    "commentId": str(uuid.uuid4()),
    "username": "someone_else",
    "name": "sunset",
}
QUERIES = {"/search": {"q": "beach", "type": "all"}, "/users/search": {"q": "bea"}}
QUERIES["/hashtags/search"] = {"q": "bea"}
BODIES: dict[str, dict[str, Any]] = {
    "PUT /users/me": {"name": "Someone", "username": "someone", "email": "someone@example.com"},
    "POST /posts": {"filename": "0" * 32, "description": "A day at the #beach"},
    "POST /posts/{id}/comments": {"body": "Lovely light"},
    "POST /search/recent": {"type": "posts", "reference": "beach"},
    "POST /reports": {"subjectType": "user", "subjectId": "someone_else", "reason": "spam"},
    "POST /moderation/reports/{id}/decision": {"action": "dismiss"},
}
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64 + b"\xff\xd9"


def request_for(route: Route) -> tuple[str, dict[str, Any]]:
    """A valid-looking request to `route`: its path and the requests keyword arguments."""
    path = re.sub(r"\{(\w+)\}", lambda match: PARAMETERS[match[1]], route.path)
    options: dict[str, Any] = {"params": QUERIES.get(route.path, {})}
    if route.json_body:
        options["json"] = BODIES.get(f"{route.method} {route.path}", {})
    elif route.method == "POST" and route.path == "/uploads":
        options["files"] = {"image": ("beach.jpg", JPEG, "image/jpeg")}
    return path, options


def test_the_routes_are_the_registrys_session_required_ones() -> None:
    listed = {(route.method, route.path) for route in REQUIRED}
    assert {("GET", "/users/me"), ("DELETE", "/posts/{id}/comments/{commentId}")} <= listed
    assert ("POST", "/sessions") not in listed  # public


@pytest.mark.parametrize("route", REQUIRED, ids=lambda route: f"{route.method} {route.path}")
# No cookie, and a cookie of the right shape that names no session.
@pytest.mark.parametrize("cookie", [None, "Inv3ntedTokenOfTheRightShape"])
def test_an_anonymous_request_is_401_and_writes_nothing(
    api: Api, database: Database, route: Route, cookie: str | None
) -> None:
    if cookie is not None:
        api.http.cookies.set("session", cookie)
    path, options = request_for(route)
    before = database.every_count()

    response = api.request(route.method, path, **options)

    assert response.status_code == 401, response.text
    assert response.json() == {"message": "Unauthorized"}
    assert database.every_count() == before
