"""What the site spends of a person's backend budget, and the pages that answer when the
budget or the body limit runs out (issue 15: no 429s from plumbing, no bare 500s)."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import functions_framework
import pytest
from werkzeug import Response

from phasma.config import get_settings
from tests.api.conftest import Database
from tests.frontend.conftest import ORIGIN, Member, SiteStack, text_of
from tests.frontend.test_frontend_content import share
from tests.frontend.test_frontend_plumbing import StandIn, site_on

TOKEN = "A" * 28
FRONTEND_MAIN = Path(__file__).parents[2] / "functions" / "frontend" / "main.py"


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    backend = StandIn()
    yield backend
    backend.server.shutdown()


class Calls:
    """The backend paths the site asks for, as they leave the frontend."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self.paths.clear()

    def record(self, path: str) -> None:
        with self._lock:
            self.paths.append(path)


@pytest.fixture
def calls(site_stack: SiteStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Calls]:
    """Every call the shared site sends to the real backend during the test."""
    recorded = Calls()
    backend = site_stack.frontend.backend
    send = backend.send

    def recording_send(method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        recorded.record(f"{method} {path}")
        return send(method, path, *args, **kwargs)

    monkeypatch.setattr(backend, "send", recording_send)
    yield recorded


def test_a_page_makes_one_viewer_call_with_the_unread_count(member: Member, calls: Calls) -> None:
    share(member, "budget")
    calls.clear()
    page = member.visitor.get("/feed")
    assert page.status_code == 200
    assert sorted(calls.paths) == ["GET /feed", "GET /users/me?include=unreadCount"]
    assert f'<meta name="phasma-viewer" content="{member.username}">' in page.get_data(True)
    # The profile form needs the email too: it comes with the same one call.
    calls.clear()
    settings = member.visitor.get("/settings/profile")
    assert f'value="{member.email}"' in settings.get_data(True)
    assert calls.paths == ["GET /users/me?include=unreadCount"]


def test_images_fragments_and_streams_make_no_viewer_call(member: Member, calls: Calls) -> None:
    share(member, "no shell")
    feed = member.visitor.get("/feed").get_data(True)
    image = re.search(r'src="(/uploads/[0-9a-f]{32})', feed)
    assert image is not None
    calls.clear()
    assert member.visitor.get(image.group(1)).status_code == 200
    assert calls.paths == [f"GET {image.group(1)}"]

    calls.clear()
    fragment = member.visitor.get(
        "/feed?cursor=x", headers={"X-Phasma-Fragment": "1", "X-Phasma-Viewer": member.username}
    )
    assert calls.paths == ["GET /feed?cursor=x"]
    assert fragment.status_code in (200, 400)

    calls.clear()
    member.visitor.get("/notifications/stream")
    assert calls.paths == ["GET /notifications/stream"]


def test_a_fragment_shows_owner_controls_from_the_pages_viewer(member: Member) -> None:
    post_id = share(member, "fragment owner")
    comment = member.visitor.fetch(f"/posts/{post_id}/comments", data={"body": "mine"})
    assert comment.status_code == 200
    path = f"/posts/{post_id}?cursor="
    headers = {"X-Phasma-Fragment": "1"}
    own = member.visitor.get(path, headers={**headers, "X-Phasma-Viewer": member.username})
    anonymous = member.visitor.get(path, headers=headers)
    assert own.status_code == anonymous.status_code == 200
    assert "/delete" in own.get_data(True)
    assert "/delete" not in anonymous.get_data(True)


def test_a_429_page_offers_the_same_page_again_and_spends_nothing_more(
    stand_in: StandIn,
) -> None:
    stand_in.reply = Response('{"message":"Too many requests"}', 429, {"Retry-After": "7"})
    visitor = site_on(stand_in)
    visitor.client.set_cookie("session", TOKEN, domain="frontend.test")
    page = visitor.get("/feed?tab=x")
    assert page.status_code == 429
    assert page.headers["Retry-After"] == "7"
    body = page.get_data(True)
    assert "Please wait 7 s and try again." in text_of(page)
    assert 'href="/feed?tab=x"' in body and "Try Again" in body
    # The page's own call and the navbar call that ran beside it; nothing after.
    assert sorted(call["path"] for call in stand_in.requests) == [
        "/feed?",
        "/users/me?include=unreadCount",
    ]

    stand_in.requests.clear()
    liked = visitor.post(f"/posts/{'0' * 8}-0000-0000-0000-{'0' * 12}/like")
    assert liked.status_code == 429
    assert [call["path"] for call in stand_in.requests] == [
        f"/posts/{'0' * 8}-0000-0000-0000-{'0' * 12}/likes?"
    ]


# -- bodies over the limit under functions-framework -----------------------------------


@pytest.fixture
def served_site(site_stack: SiteStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The site as functions-framework serves it (`functions/frontend/main.py`), with the
    framework's own hooks: its after-request hook reads every request body."""
    monkeypatch.setenv("BACKEND_URL", site_stack.api_url)
    monkeypatch.setenv("PUBLIC_ORIGIN", ORIGIN)
    get_settings.cache_clear()
    app = functions_framework.create_app("handle", str(FRONTEND_MAIN), "http")
    yield app.test_client()
    get_settings.cache_clear()


def test_a_photo_over_the_limit_without_javascript_gets_the_413_page(
    served_site: Any, member: Member, database: Database
) -> None:
    before = database.counts("uploads", "posts")
    client = served_site
    client.set_cookie("session", member.visitor.session_token or "", domain="frontend.test")
    photo = b"\xff\xd8\xff" + bytes(25 * 1024 * 1024)  # past BODY_SIZE_LIMIT (20 MiB)
    response = client.post(
        "/upload",
        base_url=ORIGIN,
        headers={"Origin": ORIGIN},
        data={"image": (io.BytesIO(photo), "phone.jpg", "image/jpeg"), "description": "hi"},
    )
    assert response.status_code == 413
    assert response.content_type == "text/html; charset=utf-8"
    page = response.get_data(as_text=True)
    assert 'class="navbar"' in page and "<main" in page  # the site's layout
    assert "Image must be smaller than 20 MB." in re.sub(r"<[^>]+>", " ", page)
    assert database.counts("uploads", "posts") == before

    signed_out = served_site.application.test_client().post(
        "/upload",
        base_url=ORIGIN,
        headers={"Origin": ORIGIN},
        data={"image": (io.BytesIO(photo), "phone.jpg", "image/jpeg")},
    )
    assert (signed_out.status_code, signed_out.headers["Location"]) == (303, "/login")
