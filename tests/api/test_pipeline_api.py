"""Cross-cutting HTTP rules every function applies (docs/api.md §1-§7, §17)."""

from __future__ import annotations

import json
import re

import pytest
from werkzeug.test import TestResponse

from tests.api.conftest import Account, Api, ApiStack, Database, direct, new_identity

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "x-xss-protection": "0",
    "content-security-policy": (
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
}


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/users/me"), ("GET", "/nowhere"), ("POST", "/users"), ("DELETE", "/sessions")],
)
def test_every_response_carries_the_security_headers(api: Api, method: str, path: str) -> None:
    response = api.request(method, path)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name
    assert "strict-transport-security" not in response.headers


def test_request_id_is_echoed_or_generated(api: Api) -> None:
    assert api.get("/users/me", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == (
        "abc-123"
    )
    generated = api.get("/users/me", headers={"X-Request-ID": "x" * 65}).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert re.fullmatch(r"[0-9a-f]{32}", api.get("/users/me").headers["x-request-id"])


def test_unknown_route_is_a_json_404(api: Api) -> None:
    response = api.get("/definitely/not/here")
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}
    assert response.headers["content-type"] == "application/json; charset=utf-8"


def test_known_path_with_wrong_method_is_405_with_allow(account: Account) -> None:
    response = account.client.request("PATCH", "/users/me")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET, HEAD, PUT"
    assert response.json()["message"]


def test_head_answers_like_get_without_a_body(account: Account, api: Api) -> None:
    get = api.get(f"/users/{account.username}")
    head = api.request("HEAD", f"/users/{account.username}")
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]


def test_json_responses_are_not_cacheable(account: Account) -> None:
    response = account.client.get("/users/me")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "not a url", "http://"])
def test_origin_guard_rejects_foreign_or_broken_origins(
    api: Api, database: Database, origin: str
) -> None:
    before = database.counts("users", "outbox")
    response = api.post("/users", json=new_identity(), headers={"Origin": origin})
    assert response.status_code == 403
    assert response.json() == {"message": "Forbidden"}
    assert database.counts("users", "outbox") == before


def test_origin_guard_accepts_the_request_origin(api: Api) -> None:
    host = api.base_url.removeprefix("http://")
    response = api.post("/users", json=new_identity(), headers={"Origin": f"http://{host}"})
    assert response.status_code == 201


def test_origin_guard_uses_the_forwarded_scheme(api_stack: ApiStack) -> None:
    # Straight to the function: the gateway, like an ingress, sets X-Forwarded-Proto itself.
    users = direct(api_stack, "users")
    headers = {"Origin": "http://phasma.example", "X-Forwarded-Proto": "https"}
    host = {"base_url": "http://phasma.example"}
    assert users.post("/users", json=new_identity(), headers=headers, **host).status_code == 403
    headers["Origin"] = "https://phasma.example"
    assert users.post("/users", json=new_identity(), headers=headers, **host).status_code == 201


def test_origin_guard_ignores_safe_methods(api: Api) -> None:
    response = api.get("/users/me", headers={"Origin": "http://evil.example"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("text/plain", b'{"name": "x"}', 415),
        (None, b'{"name": "x"}', 415),
        ("application/x-www-form-urlencoded", b"name=x", 415),
        ("application/json", b"", 400),
        ("application/json", b"{not json", 400),
        ("application/json", b"[1, 2]", 400),
        ("application/json", b'"text"', 400),
        ("application/json", b'{"name": "a"} {"name": "b"}', 400),
        ("application/json", b'{"name": NaN}', 400),
        ("application/json", b"\xff\xfe", 400),
        ("application/json", b'{"name": "' + b"x" * 102_400 + b'"}', 413),
        # docs/api.md §A.7: nesting past 64 levels is a 400, never the parser's RecursionError.
        ("application/json", b"[" * 90_000, 400),
        ("application/json", b'{"a":' * 20_000, 400),
        ("application/json", b'{"name": "[[[", "x": ' + b"[" * 64 + b"]" * 64 + b"}", 400),
    ],
)
def test_malformed_bodies_are_rejected_and_write_nothing(
    api: Api, database: Database, content_type: str | None, body: bytes, status: int
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    before = database.counts("users", "outbox")
    response = api.post("/users", data=body, headers=headers)
    assert response.status_code == status
    assert response.json()["message"]
    assert database.counts("users", "outbox") == before


def nested(levels: int) -> str:
    """An array nested `levels` deep (an object around it adds one more)."""
    return "[" * levels + "]" * levels


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        (nested(64), "nested deeper than 64 levels"),  # 65 with the body's own object
        ("1e999", "number out of range"),
        ("-1e400", "number out of range"),
        ("92233720368547758070", "number out of range"),
        ('"\\ud800"', "unpaired surrogate"),
        ('"\\udfff\\ud800"', "unpaired surrogate"),
    ],
)
def test_bodies_json_cannot_represent_faithfully_are_400(
    api: Api, database: Database, extra: str, reason: str
) -> None:
    """A valid registration carrying one unparseable value: the whole body is refused."""
    identity = json.dumps(new_identity())
    body = identity[:-1] + f', "extra": {extra}}}'
    before = database.counts("users", "outbox")
    response = api.post("/users", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert reason in response.json()["message"]
    assert database.counts("users", "outbox") == before


def test_a_lone_surrogate_in_a_stored_field_is_400_not_500(api: Api, database: Database) -> None:
    # PostgreSQL cannot encode it: before the parser refused it, the insert failed with a 500.
    body = json.dumps({**new_identity(), "name": "\ud800"})
    before = database.counts("users", "outbox")
    response = api.post("/users", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {"message": "Request body must be valid JSON (unpaired surrogate)"}
    assert database.counts("users", "outbox") == before


def test_nesting_up_to_64_levels_and_paired_surrogates_are_accepted(
    api: Api, database: Database
) -> None:
    identity = new_identity()
    body = json.dumps({**identity, "name": "Smile \U0001f600"})[:-1]
    body += f', "extra": {nested(63)}, "big": 9223372036854775807, "small": -1e300'
    body += ', "brackets": "' + "[" * 50_000 + '\\"{"}'  # inside a string: not nesting
    response = api.post("/users", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    stored = database.value("SELECT name FROM users WHERE username = :u", u=identity["username"])
    assert stored == "Smile \U0001f600"


def test_json_content_type_parameters_are_allowed_and_unknown_fields_ignored(api: Api) -> None:
    body = (
        b'{"name": "N", "username": "u_%s", "email": "u_%s@example.com", '
        % ((new_identity()["username"][5:].encode(),) * 2)
        + b'"password": "long enough", "extra": [1, {"x": null}]}'
    )
    response = api.post(
        "/users", data=body, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert response.status_code == 201


def probe(api_stack: ApiStack, function: str, path: str) -> TestResponse:
    """Probes are per function (Knative probes each pod), so call the function directly."""
    return direct(api_stack, function).get(path)


@pytest.mark.parametrize("function", ["users", "sessions"])
def test_probes_answer_without_session_or_limits(api_stack: ApiStack, function: str) -> None:
    health = probe(api_stack, function, "/health")
    assert health.status_code == 204 and health.data == b""
    assert health.headers["X-Content-Type-Options"] == "nosniff"
    assert probe(api_stack, function, "/ready").status_code == 204
    metrics = probe(api_stack, function, "/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["Content-Type"].startswith("text/plain; version=0.0.4")


def test_metrics_label_requests_by_route_template(account: Account, api_stack: ApiStack) -> None:
    account.client.get(f"/users/{account.username}")
    text = probe(api_stack, "users", "/metrics").get_data(as_text=True)
    assert re.search(
        r'phasma_http_requests_total\{function="users",method="GET",'
        r'route="/users/\{username\}",status="200"\} \d',
        text,
    )
    assert account.username not in text  # never the raw path
    assert "phasma_http_request_duration_seconds_bucket" in text
    assert 'phasma_rate_limit_decisions_total{outcome="allowed",policy="read"}' in text
    assert 'phasma_dependency_up{dependency="postgres"} 1.0' in text
