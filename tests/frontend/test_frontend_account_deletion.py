"""Deleting the account through the site (docs/api.md §C): the settings page that warns and asks
for the password, its failures (nothing written), and the signed-out landing after it."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api, Database
from tests.frontend.conftest import Member, SiteStack, Visitor, alert_of, text_of


def _state(database: Database, member: Member) -> list[list[object]]:
    """What a deletion would change: the mark, the sessions, the audit and outbox rows."""
    return database.rows(
        """
        SELECT (SELECT deleted_at FROM users WHERE username = :u),
               (SELECT count(*) FROM sessions JOIN users ON users.id = sessions.user_id
                WHERE users.username = :u),
               (SELECT count(*) FROM audit_log WHERE action = 'account_deleted'),
               (SELECT count(*) FROM outbox WHERE type = 'phasma.user.deleted')
        """,
        u=member.username,
    )


def test_settings_links_to_the_page_that_warns_and_asks_for_the_password(member: Member) -> None:
    settings = member.visitor.get("/settings").get_data(as_text=True)
    assert 'href="/settings/delete-account"' in settings
    response = member.visitor.get("/settings/delete-account")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Delete Account - Phasma" in page
    text = text_of(response)
    assert "This cannot be undone." in text
    assert "your posts and their photos" in text
    assert "What we keep: the security log" in text
    # A plain form: it works without JavaScript, and the button says it is dangerous.
    assert '<form class="form" method="post" action="/settings/delete-account"' in page
    assert 'type="password" id="password" name="password"' in page
    assert 'class="pill pill-danger pill-block" type="submit"' in page


def test_the_page_is_for_signed_in_visitors(visitor: Visitor) -> None:
    response = visitor.get("/settings/delete-account")
    assert (response.status_code, response.headers["Location"]) == (303, "/login")
    assert visitor.fetch("/settings/delete-account", data={"password": "x"}).status_code == 401


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "Enter your password to delete your account."),
        ("not my password", "Current password is incorrect."),
    ],
)
def test_a_missing_or_wrong_password_deletes_nothing(
    member: Member, database: Database, password: str, message: str
) -> None:
    before = _state(database, member)
    response = member.visitor.post("/settings/delete-account", data={"password": password})
    assert response.status_code == 400
    assert alert_of(response) == message
    assert 'action="/settings/delete-account"' in response.get_data(as_text=True)
    assert password == "" or password not in response.get_data(as_text=True)  # never echoed
    assert _state(database, member) == before
    assert member.visitor.get("/feed").status_code == 200  # still signed in
    fetched = member.visitor.fetch("/settings/delete-account", data={"password": password})
    assert (fetched.status_code, fetched.json) == (400, {"ok": False, "error": message})
    assert _state(database, member) == before


def test_password_guesses_are_throttled(member: Member, database: Database) -> None:
    before = _state(database, member)
    for _ in range(5):
        response = member.visitor.post("/settings/delete-account", data={"password": "a guess"})
        assert alert_of(response) == "Current password is incorrect."
    # Blocked: even the right password deletes nothing while the throttle holds.
    blocked = member.visitor.post("/settings/delete-account", data={"password": member.password})
    assert blocked.status_code == 429
    assert alert_of(blocked) == "Too many password attempts. Please try again later."
    assert _state(database, member) == before


def test_deleting_signs_out_says_so_once_and_the_profile_is_gone(
    member: Member, site_stack: SiteStack, database: Database
) -> None:
    assert member.visitor.get(f"/@{member.username}").status_code == 200
    response = member.visitor.post("/settings/delete-account", data={"password": member.password})
    assert (response.status_code, response.headers["Location"]) == (303, "/")
    cookies = response.headers.getlist("Set-Cookie")
    session = [cookie for cookie in cookies if cookie.startswith("session=")]
    assert len(session) == 1 and "Max-Age=0" in session[0]
    assert any(cookie.startswith("flash=account-deleted;") for cookie in cookies)
    assert member.visitor.session_token is None
    landed = member.visitor.get("/")
    assert landed.status_code == 200
    assert "Your account is being deleted." in text_of(landed)
    assert "Your account is being deleted." not in text_of(member.visitor.get("/"))
    # Gone at once, for the site and the API alike; the sessions ended with it.
    assert member.visitor.get(f"/@{member.username}").status_code == 404
    assert Api(site_stack.api_url).get(f"/users/{member.username}").status_code == 404
    deleted_at, sessions, _, _ = _state(database, member)[0]
    assert deleted_at is not None and sessions == 0
    assert member.visitor.get("/settings").headers["Location"] == "/login"


def test_a_script_gets_json_and_the_same_cookies(member: Member, database: Database) -> None:
    response = member.visitor.fetch("/settings/delete-account", data={"password": member.password})
    assert (response.status_code, response.json) == (200, {"ok": True, "redirect": "/"})
    cookies = response.headers.getlist("Set-Cookie")
    assert any(cookie.startswith("session=;") and "Max-Age=0" in cookie for cookie in cookies)
    assert any(cookie.startswith("flash=account-deleted;") for cookie in cookies)
    assert _state(database, member)[0][0] is not None
