"""Accounts through the site's forms: register, log in, log out, the session cookie relay,
settings (profile, password, sessions, theme) — docs/frontend.md §2.2, §7.1, §7.9."""

from __future__ import annotations

import io
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from werkzeug.test import TestResponse

from tests.api.conftest import Api, Database
from tests.api.sample_images import photo_jpeg
from tests.frontend.conftest import (
    Member,
    SiteStack,
    Visitor,
    alert_of,
    identity,
    text_of,
)

SESSION_ATTRIBUTES = ("HttpOnly", "Secure", "SameSite=Strict", "Path=/", "Max-Age=604800")


def session_cookie(response: TestResponse) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))


def device_cookie(response: TestResponse) -> str | None:
    return next(
        (h for h in response.headers.getlist("Set-Cookie") if h.startswith("device=")), None
    )


# -- register --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, "All fields are required."),
        ({"username": "  "}, "All fields are required."),
        ({"email": ""}, "All fields are required."),
        ({"password": ""}, "All fields are required."),
        ({"name": "n" * 101}, "Name must be 100 characters or fewer."),
        ({"username": "no spaces"}, "The request could not be completed."),
        ({"password": "short"}, "The request could not be completed."),
    ],
)
def test_register_rejects_bad_input_and_writes_nothing(
    visitor: Visitor, database: Database, change: dict[str, str], message: str
) -> None:
    details = {**identity("bad"), **change}
    before = database.counts("users", "sessions", "outbox")
    response = visitor.post("/register", data=details)
    assert response.status_code == 400
    assert alert_of(response) == message
    if details["email"]:
        assert f'value="{details["email"]}"' in response.get_data(as_text=True)  # kept
    assert 'name="password" value' not in response.get_data(as_text=True)  # never echoed
    assert database.counts("users", "sessions", "outbox") == before
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize(
    ("field", "message"),
    [("username", "That username is taken."), ("email", "That email is already registered.")],
)
def test_register_a_taken_username_or_email_names_the_field_and_keeps_the_values(
    member: Member, visitor: Visitor, database: Database, field: str, message: str
) -> None:
    details = {**identity("dup"), field: getattr(member, field)}
    before = database.counts("users")
    response = visitor.post("/register", data=details)
    assert response.status_code == 409
    assert alert_of(response) == message
    page = response.get_data(as_text=True)
    assert f'<p class="field-error" id="{field}-error">{message}</p>' in page
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', page, re.S)
    for kept in ("name", "username", "email"):
        assert f'value="{details[kept]}"' in page
    assert details["password"] not in page
    assert database.counts("users") == before
    fetched = visitor.fetch("/register", data=details)
    assert fetched.json == {"ok": False, "error": message, "field": field}


def test_register_signs_in_and_relays_the_cookie(visitor: Visitor, database: Database) -> None:
    details = identity("new")
    before = database.counts("users", "sessions")
    response = visitor.post("/register", data={**details, "username": details["username"].upper()})
    assert (response.status_code, response.headers["Location"]) == (303, "/feed")
    cookie = session_cookie(response)
    assert re.match(r"session=[A-Za-z0-9_-]{28};", cookie)
    for attribute in SESSION_ATTRIBUTES:
        assert attribute in cookie
    assert database.counts("users", "sessions") == {
        "users": before["users"] + 1,
        "sessions": before["sessions"] + 1,
    }
    assert (
        database.value("SELECT count(*) FROM users WHERE username = :u", u=details["username"]) == 1
    )  # lowercased
    feed = visitor.get("/feed")
    assert feed.status_code == 200 and "Your feed is empty" in text_of(feed)
    assert "Feed - Phasma" in feed.get_data(as_text=True)


# -- log in and out --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"email": "", "password": "x"}, 400, "Email and password are required."),
        ({"email": "   ", "password": "x"}, 400, "Email and password are required."),
        ({"password": ""}, 400, "Email and password are required."),
        ({"password": "wrong password"}, 401, "Invalid email or password."),
        ({"email": "nobody@example.com"}, 401, "Invalid email or password."),
    ],
)
def test_login_failures(
    member: Member,
    visitor: Visitor,
    database: Database,
    form: dict[str, str],
    status: int,
    message: str,
) -> None:
    data = {"email": member.email, "password": member.password, **form}
    before = database.counts("sessions")
    response = visitor.post("/login", data=data)
    assert response.status_code == status
    assert alert_of(response) == message
    assert database.counts("sessions") == before
    failed = visitor.fetch("/login", data=data)
    assert failed.status_code == status and failed.json == {"ok": False, "error": message}


def test_login_trims_the_email_returns_to_a_safe_next_and_answers_fetches(
    member: Member, visitor: Visitor
) -> None:
    data = {"email": f"  {member.email}  ", "password": member.password}
    plain = visitor.post("/login", data={**data, "next": "/settings"})
    assert (plain.status_code, plain.headers["Location"]) == (303, "/settings")
    for unsafe in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        response = visitor.post("/login", data={**data, "next": unsafe})
        assert response.headers["Location"] == "/feed", unsafe
    fetched = visitor.fetch("/login", data=data)
    assert fetched.json == {"ok": True, "redirect": "/feed"}
    assert session_cookie(fetched)


def test_a_signed_in_visitor_skips_the_login_page(member: Member) -> None:
    assert member.visitor.get("/login").headers["Location"] == "/feed"
    assert member.visitor.get("/register").headers["Location"] == "/feed"


def test_pages_relay_the_refreshed_cookie(member: Member) -> None:
    response = member.visitor.get("/feed")
    cookie = session_cookie(response)
    assert cookie.startswith(f"session={member.visitor.session_token};")
    for attribute in SESSION_ATTRIBUTES:
        assert attribute in cookie


def test_logout_deletes_the_session_and_the_cookie(member: Member, database: Database) -> None:
    before = database.counts("sessions")
    response = member.visitor.post("/logout")
    assert (response.status_code, response.headers["Location"]) == (303, "/login")
    assert "Max-Age=0" in session_cookie(response)
    assert database.counts("sessions")["sessions"] == before["sessions"] - 1
    assert member.visitor.get("/feed").headers["Location"] == "/login"


def _lock_the_email(site_stack: SiteStack, email: str) -> None:
    """Strangers, each from their own address, fail against the email up to its limit."""
    strangers = [Api(site_stack.api_url) for _ in range(50)]
    body = {"email": email, "password": "a guess"}
    with ThreadPoolExecutor(10) as pool:
        statuses = set(pool.map(lambda c: c.post("/sessions", json=body).status_code, strangers))
    assert statuses == {401}


def test_the_device_cookie_reaches_the_browser_and_keeps_the_owner_in(
    member: Member, visitor: Visitor, site_stack: SiteStack
) -> None:
    login = {"email": member.email, "password": member.password}
    signed_in = member.visitor.post("/login", data=login)
    assert signed_in.status_code == 303
    cookie = device_cookie(signed_in)
    assert cookie is not None and re.match(r"device=[0-9a-f-]{36}\.[0-9]+\.", cookie)
    for attribute in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/", "Max-Age=31536000"):
        assert attribute in cookie
    assert member.visitor.post("/logout").status_code == 303  # the device cookie stays
    _lock_the_email(site_stack, member.email)
    # A browser that never signed in here is refused even with the right password ...
    refused = visitor.post("/login", data=login)
    assert refused.status_code == 429
    assert alert_of(refused) == "Too many requests. Please try again later."
    # ... while the owner's browser sends its device cookie back through the form.
    again = member.visitor.post("/login", data=login)
    assert (again.status_code, again.headers["Location"]) == (303, "/feed")
    assert member.visitor.get("/settings").status_code == 200


# -- settings --------------------------------------------------------------------------


def test_theme_cookie_from_the_appearance_form(visitor: Visitor) -> None:
    response = visitor.post("/settings/theme", data={"theme": "dark", "next": "/settings"})
    assert response.headers["Location"] == "/settings"
    cookie = response.headers["Set-Cookie"]
    for part in ("theme=dark", "Max-Age=31536000", "SameSite=Lax", "Path=/", "Secure"):
        assert part in cookie
    assert 'data-theme="dark"' in visitor.get("/login").get_data(as_text=True)
    visitor.post("/settings/theme", data={"theme": "sepia"})
    assert 'data-theme="system"' in visitor.get("/login").get_data(as_text=True)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": ""}, "Name, username, and email are required."),
        ({"email": " "}, "Name, username, and email are required."),
        ({"username": "x"}, "Could not save profile. Please check your details and try again."),
        ({"bio": "b" * 301}, "Bio must be 300 characters or fewer."),
    ],
)
def test_profile_form_rejects_bad_input(
    member: Member, database: Database, form: dict[str, str], message: str
) -> None:
    data = {"name": member.name, "username": member.username, "email": member.email, **form}
    before = database.rows("SELECT name, username, email, bio, avatar FROM users")
    response = member.visitor.post("/settings/profile", data=data)
    assert response.status_code == 400
    assert alert_of(response) == message
    assert database.rows("SELECT name, username, email, bio, avatar FROM users") == before


def test_profile_conflicts_name_the_field_and_keep_what_was_typed(
    member: Member, sign_up, database: Database
) -> None:
    other = sign_up()
    before = database.rows("SELECT name, username, email, bio FROM users")
    for field, message in (
        ("username", "That username is taken."),
        ("email", "That email is already registered."),
    ):
        data = {
            "name": "A New Name",
            "username": member.username,
            "email": member.email,
            "bio": "a bio that survives",
            "current_password": member.password,  # an email change asks for it
            field: getattr(other, field),
        }
        response = member.visitor.post("/settings/profile", data=data)
        assert response.status_code == 409
        assert alert_of(response) == message
        page = response.get_data(as_text=True)
        assert f'<p class="field-error" id="{field}-error">{message}</p>' in page
        assert 'value="A New Name"' in page and "a bio that survives</textarea>" in page
    assert database.rows("SELECT name, username, email, bio FROM users") == before


def test_the_bio_has_a_counter_and_no_silent_cut(member: Member) -> None:
    page = member.visitor.get("/settings/profile").get_data(as_text=True)
    bio = re.search(r"<textarea[^>]*id=\"bio\"[^>]*>", page, re.S)
    assert bio is not None
    assert "maxlength" not in bio.group(0) and 'data-max-chars="300"' in bio.group(0)
    assert 'data-counter-for="bio"' in page


def test_profile_with_a_new_avatar_then_without(member: Member, database: Database) -> None:
    data = {
        "name": "Renamed Person",
        "username": member.username.upper(),
        "email": member.email,
        "bio": "Hello #there",
    }
    upload = {"avatar": (io.BytesIO(photo_jpeg((80, 80))), "me.png", "image/jpeg")}
    response = member.visitor.post("/settings/profile", data={**data, **upload})
    assert (response.status_code, response.headers["Location"]) == (303, "/settings")
    name, bio, avatar = database.rows(
        "SELECT name, bio, avatar FROM users WHERE username = :u", u=member.username
    )[0]
    assert (name, bio) == ("Renamed Person", "Hello #there") and re.fullmatch(
        r"[0-9a-f]{32}", avatar
    )
    page = member.visitor.get(f"/@{member.username}")
    assert f'src="/uploads/{avatar}?variant=thumbnail"' in page.get_data(as_text=True)
    assert 'href="/tags/there"' in page.get_data(as_text=True)

    removed = member.visitor.post("/settings/profile", data={**data, "remove_avatar": "1"})
    assert removed.status_code == 303
    assert database.value("SELECT avatar FROM users WHERE username = :u", u=member.username) is None


@pytest.mark.parametrize(
    ("password", "status", "message"),
    [
        ("", 400, "Enter your current password to change your email."),
        ("not my password", 400, "Current password is incorrect."),
    ],
)
def test_changing_the_email_asks_for_the_current_password(
    member: Member, database: Database, password: str, status: int, message: str
) -> None:
    data = {
        "name": member.name,
        "username": member.username,
        "email": f"elsewhere.{member.username}@example.com",
        "current_password": password,
    }
    before = database.rows("SELECT name, username, email, bio, avatar FROM users")
    response = member.visitor.post("/settings/profile", data=data)
    assert response.status_code == status
    assert alert_of(response) == message
    assert 'name="current_password"' in response.get_data(as_text=True)
    assert database.rows("SELECT name, username, email, bio, avatar FROM users") == before


def test_changing_the_email_with_the_current_password(member: Member, database: Database) -> None:
    new_email = f"moved.{member.username}@example.com"
    page = member.visitor.get("/settings/profile")
    assert "Needed only to change your email." in text_of(page)
    data = {
        "name": member.name,
        "username": member.username,
        "email": new_email,
        "current_password": member.password,
    }
    response = member.visitor.post("/settings/profile", data=data)
    assert (response.status_code, response.headers["Location"]) == (303, "/settings")
    stored = database.value("SELECT email FROM users WHERE username = :u", u=member.username)
    assert stored == new_email
    # Without an email change no password is asked for.
    data = {**data, "current_password": "", "bio": "unchanged email"}
    assert member.visitor.post("/settings/profile", data=data).status_code == 303


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"current_password": ""}, "Both passwords are required."),
        ({"new_password": ""}, "Both passwords are required."),
        ({"new_password": "short"}, "New password must be at least 8 characters."),
        ({"current_password": "not my password"}, "Current password is incorrect."),
    ],
)
def test_password_form_rejects_bad_input(
    member: Member, database: Database, form: dict[str, str], message: str
) -> None:
    data = {"current_password": member.password, "new_password": "a brand new secret", **form}
    before = database.rows("SELECT password_hash FROM users")
    response = member.visitor.post("/settings/password", data=data)
    assert response.status_code == 400
    assert alert_of(response) == message
    assert database.rows("SELECT password_hash FROM users") == before


def test_password_change_keeps_this_session(member: Member, visitor: Visitor) -> None:
    data = {"current_password": member.password, "new_password": "a brand new secret"}
    response = member.visitor.post("/settings/password", data=data)
    assert (response.status_code, response.headers["Location"]) == (303, "/settings")
    assert member.visitor.get("/settings").status_code == 200
    login = visitor.post("/login", data={"email": member.email, "password": "a brand new secret"})
    assert login.status_code == 303


def test_sessions_page_and_revoking(member: Member, visitor: Visitor, database: Database) -> None:
    other = visitor
    assert (
        other.post("/login", data={"email": member.email, "password": member.password}).status_code
        == 303
    )
    page = member.visitor.get("/settings/sessions")
    assert page.status_code == 200 and "Active Sessions - Phasma" in page.get_data(as_text=True)
    ids = re.findall(r'data-session="([0-9a-f-]{36})"', page.get_data(as_text=True))
    assert len(ids) == 2
    current, remote = ids
    assert re.search(
        r"Created [A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2} [AP]M UTC", text_of(page)
    )

    cases = [
        ("not-a-uuid", 400, "Invalid session."),
        ("00000000-0000-4000-8000-000000000000", 404, "That session is no longer active."),
        (current, 409, "Your current session cannot be revoked here. Use Logout instead."),
    ]
    for session_id, status, message in cases:
        before = database.counts("sessions")
        response = member.visitor.post(f"/settings/sessions/{session_id}/revoke")
        assert response.status_code == status
        assert alert_of(response) == message
        fetched = member.visitor.fetch(f"/settings/sessions/{session_id}/revoke")
        assert fetched.json == {"ok": False, "error": message}
        assert database.counts("sessions") == before

    revoked = member.visitor.post(f"/settings/sessions/{remote}/revoke")
    assert (revoked.status_code, revoked.headers["Location"]) == (303, "/settings/sessions")
    assert other.get("/feed").headers["Location"] == "/login"


def test_password_guesses_on_the_settings_form_are_throttled(
    member: Member, database: Database
) -> None:
    before = database.rows("SELECT password_hash FROM users")
    wrong = {"current_password": "a guess", "new_password": "a brand new secret"}
    for _ in range(5):
        response = member.visitor.post("/settings/password", data=wrong)
        assert alert_of(response) == "Current password is incorrect."
    right = {**wrong, "current_password": member.password}
    blocked = member.visitor.post("/settings/password", data=right)
    assert blocked.status_code == 429
    assert alert_of(blocked) == "Too many password attempts. Please try again later."
    assert database.rows("SELECT password_hash FROM users") == before


def test_sessions_are_told_apart_by_the_browser_that_logged_in(
    member: Member, visitor: Visitor
) -> None:
    firefox = "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0"
    login = {"email": member.email, "password": member.password}
    assert visitor.post("/login", data=login, headers={"User-Agent": firefox}).status_code == 303
    page = member.visitor.get("/settings/sessions")
    tiles = re.findall(r'<li class="tile session-tile".*?</li>', page.get_data(as_text=True), re.S)
    assert len(tiles) == 2
    titles = [" ".join(re.sub(r"<[^>]+>", " ", tile).split()) for tile in tiles]
    # Registering went through werkzeug's test client, whose User-Agent names no browser.
    assert titles[0].startswith("Unknown browser Current Last used ")
    assert titles[1].startswith("Firefox on Android Last used ")
    assert "Revoke session: Firefox on Android" in tiles[1]
