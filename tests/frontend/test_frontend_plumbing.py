"""The frontend's plumbing: probes, headers and CSP, assets, guards, and what it sends
to the backend (docs/frontend.md §2, §9, §10).

Most tests use the real API; a stand-in backend (a tiny HTTP server here) records the
headers the frontend sends and answers what no real function would: a malformed
session cookie, a hang.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug import Request, Response
from werkzeug.datastructures import Headers
from werkzeug.test import TestResponse

from phasma.devstack.gateway import serve
from phasma.frontend.app import Frontend
from phasma.http.routing import Matched
from phasma.registry import get_function
from tests.api.conftest import Api, Database
from tests.api.server_sent_events import open_stream
from tests.frontend.conftest import ORIGIN, Member, SiteStack, Visitor, site_settings, text_of

TOKEN = "A" * 28


class StandIn:
    """A backend that records requests and answers with `reply` (default: empty 204)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.reply: Response | None = None
        self.delay = 0.0
        self.server = serve(self.app, "127.0.0.1", 0)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def app(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        self.requests.append(
            {
                "method": request.method,
                "path": request.full_path,
                "headers": Headers(list(request.headers.items())),  # case-insensitive
            }
        )
        time.sleep(self.delay)
        response = self.reply or Response(status=204)
        return response(environ, start_response)


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    backend = StandIn()
    yield backend
    backend.server.shutdown()


def site_on(stand_in: StandIn, **overrides: Any) -> Visitor:
    frontend = Frontend(site_settings(backend_url=stand_in.url, **overrides))
    return Visitor(frontend)


# -- probes, headers, CSP ------------------------------------------------------------


def test_probes(visitor: Visitor) -> None:
    health = visitor.get("/health")
    assert (health.status_code, health.get_data(as_text=True)) == (200, "ok")
    assert visitor.get("/ready").status_code == 204


def test_the_public_site_has_no_metrics_page(visitor: Visitor) -> None:
    # METRICS_TOKEN unset: /metrics is an unknown page like any other.
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer None"}):
        response = visitor.get("/metrics", headers=headers)
        assert response.status_code == 404
        assert b"phasma_http_requests_total" not in response.data


def test_metrics_answer_only_the_scrapers_bearer_token(stand_in: StandIn) -> None:
    token = "m" * 40
    site = site_on(stand_in, metrics_token=token)
    for headers in (
        {},
        {"Authorization": f"Bearer {token[:-1]}"},
        {"Authorization": f"Basic {token}"},
        {"Authorization": f"Bearer {token}x"},
    ):
        response = site.get("/metrics", headers=headers)
        assert response.status_code == 404, headers
        assert b"phasma_http_requests_total" not in response.data
    metrics = site.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert metrics.status_code == 200 and b"phasma_http_requests_total" in metrics.data


def test_every_page_carries_the_security_headers_and_a_fresh_nonce(visitor: Visitor) -> None:
    first = visitor.get("/login")
    second = visitor.get("/login")
    for response in (first, second, visitor.get("/no/such/page")):
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
        assert headers["Permissions-Policy"] == (
            "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
        )
        assert headers["Strict-Transport-Security"].startswith("max-age=")  # https origin
        assert headers["Cache-Control"] == "no-store"
    csp = first.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp)
    assert nonce is not None
    assert csp == (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce.group(1)}'; style-src 'self'; "
        "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'; frame-src 'none'"
    )
    assert second.headers["Content-Security-Policy"] != csp
    page = first.get_data(as_text=True)
    scripts = re.findall(r"<script[^>]*>", page)
    assert scripts and all(f'nonce="{nonce.group(1)}"' in tag and "src=" in tag for tag in scripts)


def test_no_hsts_over_plain_http(stand_in: StandIn) -> None:
    visitor = site_on(stand_in, public_origin="http://127.0.0.1:8080")
    assert "Strict-Transport-Security" not in visitor.get("/login").headers


def test_pages_have_no_inline_styles_or_handlers(member: Member) -> None:
    for path in ("/feed", "/search", "/upload", "/settings", "/settings/profile", "/login"):
        page = member.visitor.get(path).get_data(as_text=True)
        assert not re.search(r"\sstyle\s*=", page), path
        assert not re.search(r"\son[a-z]+\s*=", page), path
        assert "<style" not in page, path


def test_static_assets_are_hashed_and_immutable(site_stack: SiteStack, visitor: Visitor) -> None:
    url = site_stack.frontend.assets.url("css/app.css")
    assert re.fullmatch(r"/assets/css/app\.[0-9a-f]{12}\.css", url)
    asset = visitor.get(url)
    assert asset.status_code == 200
    assert asset.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert asset.headers["Content-Type"].startswith("text/css")
    again = visitor.get(url, headers={"If-None-Match": asset.headers["ETag"]})
    assert again.status_code == 304
    placeholder = visitor.get("/assets/placeholder.svg")  # the stable avatar fallback
    assert placeholder.status_code == 200
    assert placeholder.headers["Cache-Control"] == "public, max-age=300"
    assert visitor.get("/assets/css/app.000000000000.css").status_code == 404


# -- routes, guards, errors ------------------------------------------------------------


def test_unknown_pages_wrong_methods_and_malformed_parameters(visitor: Visitor) -> None:
    missing = visitor.get("/no/such/page")
    assert missing.status_code == 404
    assert "Page not found" in text_of(missing) and "Back to Feed" in text_of(missing)
    assert visitor.get("/").status_code == 200  # the landing page for a stranger
    wrong = visitor.client.put("/login", base_url=ORIGIN, headers={"Origin": ORIGIN})
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "GET, HEAD, POST"
    for path in ("/@Bad-Name", "/@ab", "/al", "/@alice/sideways", "/posts/not-a-uuid"):
        assert visitor.get(path).status_code == 404, path


def test_signed_out_pages_redirect_and_fetches_get_401(visitor: Visitor) -> None:
    for path in ("/feed", "/search", "/notifications", "/upload", "/settings"):
        response = visitor.get(path)
        assert (response.status_code, response.headers["Location"]) == (303, "/login"), path
    fragment = visitor.get("/feed?cursor=x", headers={"X-Phasma-Fragment": "1"})
    assert (fragment.status_code, fragment.data) == (401, b"")
    assert visitor.get("/suggest?type=users&q=al").status_code == 401
    like = visitor.fetch(f"/posts/{'0' * 8}-0000-4000-8000-{'0' * 12}/like")
    assert like.status_code == 401 and like.json == {"ok": False, "redirect": "/login"}
    plain = visitor.post("/upload")
    assert (plain.status_code, plain.headers["Location"]) == (303, "/login")


def test_a_malformed_or_unknown_session_cookie_is_signed_out(
    site_stack: SiteStack, visitor: Visitor
) -> None:
    for value in ("not-a-token", TOKEN):
        visitor.client.set_cookie("session", value, domain="frontend.test")
        response = visitor.get("/feed")
        assert (response.status_code, response.headers["Location"]) == (303, "/login")
        cleared = response.headers.get("Set-Cookie", "")
        assert cleared.startswith("session=;") and "Max-Age=0" in cleared


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({"Origin": "https://evil.example"}, False),
        ({"Origin": "null"}, False),
        ({"Origin": "http://frontend.test"}, False),  # the scheme is part of the origin
        ({"Sec-Fetch-Site": "cross-site"}, False),
        ({}, False),
        ({"Referer": "https://evil.example/login"}, False),
        ({"Sec-Fetch-Site": "same-origin"}, True),
        ({"Referer": f"{ORIGIN}/login"}, True),
        ({"Origin": ORIGIN}, True),
    ],
)
def test_mutations_must_come_from_the_public_origin(
    member: Member, database: Database, headers: dict[str, str], allowed: bool
) -> None:
    before = database.counts("sessions")
    response = member.visitor.post(
        "/login",
        origin=None,
        headers=headers,
        data={"email": member.email, "password": member.password},
    )
    if allowed:
        assert response.status_code == 303
        assert database.counts("sessions")["sessions"] == before["sessions"] + 1
    else:
        assert response.status_code == 403
        assert "Access denied" in text_of(response)
        assert database.counts("sessions") == before  # nothing reached the backend


def test_json_endpoints_require_a_json_body(member: Member, database: Database) -> None:
    before = database.counts("recent_searches")
    response = member.visitor.fetch("/search/recent", data={"type": "posts", "reference": "x"})
    assert response.status_code == 415
    assert response.json == {"ok": False, "error": "Content-Type must be application/json."}
    assert database.counts("recent_searches") == before


@pytest.mark.parametrize("path", ["/search/recent", "/notifications/read"])
def test_json_nested_too_deep_is_a_400_not_a_stack_trace(
    member: Member, database: Database, path: str
) -> None:
    # The parser's RecursionError used to escape as a 500 (docs/api.md §A.7).
    before = database.counts("recent_searches", "notifications")
    response = member.visitor.post(
        path,
        data=b"[" * 90_000,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    assert response.status_code == 400
    assert response.json == {"ok": False, "error": "The request could not be completed."}
    assert database.counts("recent_searches", "notifications") == before


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("/login", "application/x-www-form-urlencoded", b"email=%ff%fe\xff&password=\x00\xff"),
        ("/login", "multipart/form-data; boundary=x", b"--x\r\n\xff\xfe: \x00\r\n\r\nzz"),
        ("/register", "multipart/form-data", b"no boundary at all"),
        ("/upload", "multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: \xff\r\n"),
        ("/upload", "application/json", b"[" * 90_000),
    ],
)
def test_garbage_bodies_get_the_400_page(
    member: Member, database: Database, path: str, content_type: str, body: bytes
) -> None:
    before = database.counts("users", "sessions", "uploads", "posts")
    response = member.visitor.post(path, data=body, headers={"Content-Type": content_type})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert database.counts("users", "sessions", "uploads", "posts") == before


def test_bodies_over_the_limit_are_refused(member: Member, database: Database) -> None:
    before = database.counts("uploads", "posts")
    response = member.visitor.post(
        "/upload", data={"image": (io.BytesIO(bytes(21 * 1024 * 1024)), "big.jpg", "image/jpeg")}
    )
    assert response.status_code == 413
    assert "Image must be smaller than 20 MB." in text_of(response)
    assert database.counts("uploads", "posts") == before


# -- what the backend receives ---------------------------------------------------------


def test_backend_calls_forward_only_the_session_and_the_client_address(
    stand_in: StandIn,
) -> None:
    stand_in.reply = Response(json.dumps({"items": [], "nextCursor": None}), status=200)
    visitor = site_on(stand_in)
    visitor.client.set_cookie("session", TOKEN, domain="frontend.test")
    visitor.client.set_cookie("theme", "dark", domain="frontend.test")
    visitor.get(
        "/feed",
        headers={"X-Forwarded-For": "203.0.113.9, 198.51.100.7", "X-Request-ID": "mine"},
        environ_base={"REMOTE_ADDR": "10.0.0.1"},
    )
    feed = next(call for call in stand_in.requests if call["path"].startswith("/feed"))
    headers = feed["headers"]
    assert headers["Cookie"] == f"session={TOKEN}"  # never the theme or anything else
    # No trusted proxy in front (TRUSTED_PROXY_HOPS=0): the browser's claims are
    # dropped and the header names only the peer (docs/api.md §A.1).
    assert headers.getlist("X-Forwarded-For") == ["10.0.0.1"]
    assert "Origin" not in headers
    assert re.fullmatch(r"[0-9a-f]{32}-\d+", headers["X-Request-ID"])
    ids = {call["headers"]["X-Request-ID"] for call in stand_in.requests}
    assert len(ids) == len(stand_in.requests)  # one id per call


def test_backend_calls_replace_the_forwarded_chain_with_the_one_trusted_client(
    stand_in: StandIn,
) -> None:
    stand_in.reply = Response(json.dumps({"items": [], "nextCursor": None}), status=200)
    # Behind Knative: "<what the browser sent>, browser, envoy, activator".
    visitor = site_on(stand_in, trusted_proxy_hops=3)
    visitor.client.set_cookie("session", TOKEN, domain="frontend.test")
    visitor.get(
        "/feed",
        headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.9, 10.0.0.7, 10.0.0.8"},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    assert stand_in.requests
    for call in stand_in.requests:
        assert call["headers"].getlist("X-Forwarded-For") == ["203.0.113.9"], call["path"]


def test_path_segments_are_encoded_and_the_at_sign_dropped(stand_in: StandIn) -> None:
    stand_in.reply = Response(json.dumps({"items": [], "nextCursor": None}), status=200)
    visitor = site_on(stand_in)
    visitor.get("/@alice.b")
    paths = sorted(call["path"] for call in stand_in.requests)
    assert paths == ["/users/alice.b/posts?", "/users/alice.b?"]


def test_a_malformed_session_cookie_from_login_is_a_502(stand_in: StandIn) -> None:
    visitor = site_on(stand_in)
    for cookie in (
        "session=short; Max-Age=604800; Path=/",
        f"session={TOKEN}; Path=/",  # no Max-Age
        f"session={TOKEN}; Max-Age=0; Path=/",
    ):
        reply = Response(json.dumps({"username": "alice"}), status=201)
        reply.headers["Set-Cookie"] = cookie
        stand_in.reply = reply
        response = visitor.post("/login", data={"email": "a@example.com", "password": "x" * 8})
        assert response.status_code == 502
        assert "Could not establish a session. Please try again." in text_of(response)
        assert "session=" not in response.headers.get("Set-Cookie", "")


def test_a_valid_login_cookie_is_re_emitted_on_the_site(stand_in: StandIn) -> None:
    reply = Response(json.dumps({"username": "alice"}), status=201)
    reply.headers["Set-Cookie"] = f"session={TOKEN}; Max-Age=604800; Path=/; HttpOnly"
    stand_in.reply = reply
    response = site_on(stand_in).post(
        "/login", data={"email": "a@example.com", "password": "x" * 8}
    )
    assert (response.status_code, response.headers["Location"]) == (303, "/feed")
    cookie = response.headers["Set-Cookie"]
    for part in (f"session={TOKEN}", "Max-Age=604800", "Secure", "HttpOnly", "Path=/"):
        assert part in cookie
    assert "SameSite=Strict" in cookie


def test_a_slow_backend_is_a_503(stand_in: StandIn) -> None:
    stand_in.delay = 2.0
    visitor = site_on(stand_in, backend_timeout_seconds=0.5)
    response = visitor.post("/login", data={"email": "a@example.com", "password": "x" * 8})
    assert response.status_code == 503
    assert "The service is temporarily unavailable. Please try again later." in text_of(response)


def test_an_unreachable_backend_is_a_503_but_logout_still_signs_out() -> None:
    visitor = Visitor(Frontend(site_settings(backend_url="http://127.0.0.1:9")))
    assert visitor.get("/login").status_code == 200  # needs no backend
    visitor.client.set_cookie("session", TOKEN, domain="frontend.test")
    response = visitor.get("/feed")
    assert response.status_code == 503
    out = visitor.post("/logout")
    assert (out.status_code, out.headers["Location"]) == (303, "/login")
    assert "Max-Age=0" in out.headers["Set-Cookie"]


def test_each_route_goes_to_the_function_that_owns_it() -> None:
    frontend = Frontend(site_settings(backend_url_template="http://{name}.example:81"))
    assert frontend.backend.base_url("GET", "/feed") == "http://feed.example:81"
    assert frontend.backend.base_url("GET", "/users/me") == "http://users.example:81"
    assert frontend.backend.base_url("GET", "/users/alice") == "http://users.example:81"
    assert frontend.backend.base_url("POST", "/users/alice/follow") == "http://follows.example:81"
    assert frontend.backend.base_url("GET", "/uploads/" + "a" * 32) == "http://media.example:81"
    assert frontend.backend.base_url("GET", "/not/an/api/route") is None


def test_the_site_routes_exactly_the_registrys_pages() -> None:
    frontend = Frontend(site_settings(backend_url_template="http://{name}.example:81"))
    pages = get_function("frontend").pages
    for page in pages:
        resolved = frontend.routes.resolve(page.method, page.path)
        assert isinstance(resolved, Matched) and resolved.template == page.path
        assert resolved.target == (page, page.resolve_handler())
    # A page the registry does not list is no page: `/{handle}/{mode}` is the widest.
    assert frontend.routes.resolve("GET", "/a/b/c/d/e") is None


# -- the notification stream relay: its slots (docs/operations.md) ---------------------


def relay(visitor: Visitor) -> TestResponse:
    """Open the site's stream relay; the caller closes it."""
    return visitor.client.get(
        "/notifications/stream",
        base_url=ORIGIN,
        headers={"Accept": "text/event-stream"},
        buffered=False,
    )


def test_relays_take_at_most_three_quarters_of_the_threads_and_pages_still_answer(
    site_stack: SiteStack, sign_up, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 4 request threads (functions-framework reads THREADS): 3 relay slots, so a page
    # always finds the 4th thread.
    monkeypatch.setenv("THREADS", "4")
    frontend = Frontend(site_settings(backend_url=site_stack.api_url))
    members = [sign_up() for _ in range(4)]
    visitors = [Visitor(frontend) for _ in members]
    for visitor, member in zip(visitors, members, strict=True):
        visitor.client.set_cookie(
            "session", member.visitor.session_token or "", domain="frontend.test"
        )
    open_relays = [relay(visitor) for visitor in visitors[:3]]
    try:
        assert [response.status_code for response in open_relays] == [200, 200, 200]
        full = relay(visitors[3])
        assert (full.status_code, full.headers["Retry-After"]) == (503, "5")
        assert visitors[3].get("/notifications").status_code == 200
        open_relays.pop().close()
        freed = relay(visitors[3])
        assert freed.status_code == 200
        open_relays.append(freed)
    finally:
        for response in open_relays:
            response.close()


def test_the_backends_per_user_cap_is_relayed_with_its_retry_after(
    site_stack: SiteStack, member: Member
) -> None:
    backend = Api(site_stack.api_url)
    backend.http.cookies.set("session", member.visitor.session_token or "")
    streams = [open_stream(backend) for _ in range(5)]
    try:
        refused = relay(member.visitor)
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) > 0
        refused.close()
    finally:
        for reader in streams:
            reader.response.close()
