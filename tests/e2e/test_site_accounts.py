"""Accounts in a real browser: register, log in and out, sessions, and the no-JS login."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browsing import assert_accessible, new_identity, seed_member, sign_in
from tests.e2e.conftest import Site

pytestmark = pytest.mark.e2e


def test_register_lands_on_the_empty_feed_then_log_out_and_back_in(page: Page, axe: str) -> None:
    identity = new_identity("reg")
    page.goto("/register")
    expect(page).to_have_title("Register - Phasma")
    assert_accessible(page, axe)
    page.get_by_label("Full Name").fill(identity["name"])
    page.get_by_label("Username").fill(identity["username"].upper())  # lowercased as typed
    expect(page.get_by_label("Username")).to_have_value(identity["username"])
    page.get_by_label("Email").fill(identity["email"])
    page.get_by_label("Password", exact=True).fill(identity["password"])
    page.get_by_role("button", name="Create account").click()

    page.wait_for_url("**/feed")
    expect(page).to_have_title("Feed - Phasma")
    expect(page.get_by_role("heading", name="Your feed is empty")).to_be_visible()
    expect(page.get_by_role("link", name="Find People to Follow")).to_have_attribute(
        "href", "/search"
    )
    assert_accessible(page, axe)

    page.get_by_role("link", name="Profile").click()
    expect(page).to_have_title(f"@{identity['username']} - Phasma")
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("button", name="Logout Account").click()
    page.wait_for_url("**/login")
    page.goto("/feed")
    page.wait_for_url("**/login")  # signed out: pages send you to log in

    page.get_by_label("Email").fill(identity["email"])
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Invalid email or password.")
    expect(page.get_by_label("Email")).to_have_value(identity["email"])  # kept
    assert_accessible(page, axe)

    page.get_by_label("Password", exact=True).fill(identity["password"])
    page.get_by_role("button", name="Show password").click()
    expect(page.get_by_label("Password", exact=True)).to_have_attribute("type", "text")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/feed")


def test_revoke_another_session_signs_that_browser_out(
    browser: Browser, site: Site, page: Page, axe: str
) -> None:
    member = seed_member(site.gateway, "rev")
    other = browser.new_context(base_url=site.url)
    try:
        other_page = other.new_page()
        sign_in(other_page, member)
        sign_in(page, member)
        page.goto("/settings/sessions")
        expect(page).to_have_title("Active Sessions - Phasma")
        assert_accessible(page, axe)
        tiles = page.locator("[data-session]")
        # The API client's own session, the other browser's and this one.
        expect(tiles).to_have_count(3)
        expect(tiles.first.get_by_text("Current")).to_be_visible()
        expect(tiles.first.get_by_role("button", name="Revoke session")).to_have_count(0)

        revoke = tiles.nth(1).get_by_role("button", name="Revoke session")
        revoke.click()
        expect(tiles).to_have_count(2)
        tiles.nth(1).get_by_role("button", name="Revoke session").click()
        expect(tiles).to_have_count(1)

        other_page.goto("/feed")
        other_page.wait_for_url("**/login")
        assert not [c for c in other.cookies() if c["name"] == "session"]
        page.goto("/feed")
        expect(page).to_have_url(re.compile(r"/feed$"))  # the current session stays
    finally:
        other.close()


def test_without_javascript_login_and_its_errors_work(browser: Browser, site: Site) -> None:
    member = seed_member(site.gateway, "nojs")
    context = browser.new_context(base_url=site.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/login")
        page.get_by_role("button", name="Log in").click()  # the browser's own `required` check
        expect(page).to_have_url(re.compile(r"/login$"))
        page.get_by_label("Email").fill(f"  {member.email}  ")
        page.get_by_label("Password", exact=True).fill(member.password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/feed")
        session = next(c for c in context.cookies() if c["name"] == "session")
        assert session["httpOnly"] and session["sameSite"] == "Strict"
        expect(page.get_by_role("link", name="Profile")).to_be_visible()
    finally:
        context.close()
