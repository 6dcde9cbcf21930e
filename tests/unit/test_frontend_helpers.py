"""Pure helpers of the frontend: rich text, times and plurals, cookies, safe redirects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from werkzeug import Response

from phasma.auth.tokens import new_token
from phasma.config import Settings
from phasma.frontend.cookies import (
    parse_set_cookie,
    read_device_cookie,
    read_session_cookie,
    set_session,
    theme_of,
    well_formed_device,
    well_formed_token,
)
from phasma.frontend.formatting import absolute_time, counted, plural, relative_time, time_tag
from phasma.frontend.messages import status_message
from phasma.frontend.pages.notifications import group_likes
from phasma.frontend.richtext import rich_text
from phasma.frontend.security import origin_of, safe_next
from phasma.http.cookies import new_device_cookie, set_device_cookie, set_session_cookie

TOKEN = "abcdefghijklmnopqrstuvwxyz_-"


def test_rich_text_links_mentions_hashtags_and_urls() -> None:
    html = str(rich_text("Hi @Alice.B and #Beach_Day see https://x.example/p?q=1 ok"))
    assert '<a class="rich-link" href="/@alice.b">@Alice.B</a>' in html
    assert '<a class="rich-link" href="/tags/beach_day">#Beach_Day</a>' in html
    assert 'href="https://x.example/p?q=1" target="_blank" rel="noopener noreferrer"' in html
    assert html.startswith("Hi ") and html.endswith(" ok")


def test_rich_text_escapes_and_keeps_line_breaks() -> None:
    html = str(rich_text('<b>"x"</b> & @ab\nnext line'))
    assert html == "&lt;b&gt;&#34;x&#34;&lt;/b&gt; &amp; @ab<br>next line"  # @ab is too short
    assert str(rich_text("http://a.example/<script>")) == (
        '<a class="rich-url" href="http://a.example/&lt;script&gt;" target="_blank"'
        ' rel="noopener noreferrer">http://a.example/&lt;script&gt;</a>'
    )
    assert str(rich_text(None)) == ""
    long_tag = "#" + "a" * 60
    assert f'href="/tags/{"a" * 50}"' in str(rich_text(long_tag))


def test_plurals_and_counts() -> None:
    assert (plural(1, "like"), plural(0, "like"), plural(2, "comment")) == (
        "like",
        "likes",
        "comments",
    )
    assert (counted(1, "follower"), counted(3, "following")) == ("1 follower", "3 following")


NOW = datetime(2026, 6, 22, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (2, "now"),
        (59, "now"),
        (60, "1 min"),
        (16 * 60, "16 min"),
        (3600, "1 h"),
        (23 * 3600 + 3599, "23 h"),
        (86400 + 5, "1 d"),
        (6 * 86400, "6 d"),
        (7 * 86400, "Jun 15"),  # from a week on, the date
        (400 * 86400, "May 18, 2025"),  # with the year when it is not this year's
    ],
)
def test_relative_time_is_one_format(seconds: int, shown: str) -> None:
    moment = (NOW - timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")
    assert relative_time(moment, NOW) == shown


def test_time_tag_carries_the_absolute_and_machine_times() -> None:
    moment = NOW - timedelta(hours=2)
    html = str(time_tag(moment, "comment-time"))
    assert html.startswith('<time class="comment-time" datetime="2026-06-22T10:00:00Z"')
    assert 'title="Jun 22, 2026, 10:00 AM UTC"' in html and "data-relative" in html
    assert str(time_tag(None)) == ""


def test_absolute_time_and_unreadable_times() -> None:
    assert absolute_time("2026-06-22T12:00:00Z") == "Jun 22, 2026, 12:00 PM UTC"
    assert absolute_time("2026-01-05T00:07:00.123456Z") == "Jan 5, 2026, 12:07 AM UTC"
    assert relative_time("not a time") == "" and absolute_time(None) == ""


def test_status_copy() -> None:
    assert status_message(404) == "Not found."
    assert status_message(502) == "Something went wrong. Please try again."
    assert status_message(418) == "The request could not be completed."


def test_session_cookie_reading() -> None:
    cookie = read_session_cookie(
        ["theme=dark; Path=/", f"session={TOKEN}; Expires=Wed, 01 Jul 2026; Max-Age=604800"]
    )
    assert cookie is not None and cookie.valid and not cookie.cleared
    cleared = read_session_cookie(["session=; Max-Age=0; Path=/"])
    assert cleared is not None and cleared.cleared and not cleared.valid
    assert read_session_cookie(["theme=dark"]) is None
    for bad in ("session=short; Max-Age=10", f"session={TOKEN}", f"session={TOKEN}; Max-Age=x"):
        found = read_session_cookie([bad])
        assert found is not None and not found.valid
    assert well_formed_token(TOKEN) == TOKEN
    assert well_formed_token(TOKEN[:-1] + "=") is None and well_formed_token(None) is None
    assert (theme_of("dark"), theme_of("neon"), theme_of(None)) == ("dark", "system", "system")


def test_the_site_relays_exactly_the_cookies_the_api_sets() -> None:
    """One cookie module: what the API's pipeline writes is what the site accepts."""
    token = new_token()
    answer = Response()
    set_session_cookie(answer, token, secure=True)
    set_device_cookie(answer, new_device_cookie(uuid4(), "a-secret"), secure=True)
    headers = answer.headers.getlist("Set-Cookie")
    session = read_session_cookie(headers)
    device = read_device_cookie(headers)
    assert session is not None and session.valid and session.value == token
    assert session.max_age == 604800  # seven days
    assert device is not None and device.valid
    assert well_formed_device(device.value) == device.value
    relayed = Response()
    set_session(relayed, session, secure=True)
    # The same cookie on the site's origin (`Expires` follows the clock, so it is left out).
    name, value, attributes = parse_set_cookie(relayed.headers["Set-Cookie"])
    original = parse_set_cookie(headers[0])
    attributes.pop("expires")
    original[2].pop("expires")
    assert (name, value, attributes) == original
    assert attributes == {
        "max-age": "604800",
        "path": "/",
        "httponly": "",
        "samesite": "Strict",
        "secure": "",
    }
    assert well_formed_device("0" * 36 + ".1.x.y") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/settings", "/settings"),
        ("/feed#post-1", "/feed#post-1"),
        ("//evil.example", "/feed"),
        ("https://evil.example/", "/feed"),
        ("/\\evil.example", "/feed"),
        ("feed", "/feed"),
        ("/x\r\nSet-Cookie: a=b", "/feed"),
        (None, "/feed"),
    ],
)
def test_safe_next(value: str | None, expected: str) -> None:
    assert safe_next(value, "/feed") == expected


def test_origins_and_body_limit() -> None:
    assert origin_of("HTTPS://Site.Example:8443/path") == "https://site.example:8443"
    assert origin_of("null") == ""
    assert Settings(_env_file=None).body_size_limit_bytes == 20 * 1024**2
    assert Settings(_env_file=None, body_size_limit="2M").body_size_limit_bytes == 2 * 1024**2
    assert Settings(_env_file=None, body_size_limit="5000").body_size_limit_bytes == 5000
    with pytest.raises(ValueError):
        Settings(_env_file=None, body_size_limit="lots")


def test_likes_of_one_post_on_a_page_group_under_the_newest() -> None:
    items = [
        {"id": "3", "type": "like", "postId": "p", "actorUsername": "cy", "read": True},
        {"id": "2", "type": "follow", "postId": None, "actorUsername": "cy", "read": False},
        {"id": "1", "type": "like", "postId": "p", "actorUsername": "bo", "read": False},
        {"id": "0", "type": "like", "postId": "q", "actorUsername": "al", "read": True},
    ]
    rows = group_likes(items)
    assert [(row["id"], row["ids"], row["others"], row["read"]) for row in rows] == [
        ("3", ["3", "1"], 1, False),
        ("2", ["2"], 0, False),
        ("0", ["0"], 0, True),
    ]
    assert rows[0]["second"]["actorUsername"] == "bo"
    assert rows[0]["group"] == "like:p" and "group" not in rows[1]
