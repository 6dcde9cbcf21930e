"""Every page, light and dark, wide and 360 px: screenshots for a person to look at
(tests/artifacts/) and axe-core with no serious or critical violation in either theme."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.browsing import (
    assert_accessible,
    assert_accessible_in_both_themes,
    screenshot,
    seed_member,
    seed_safety,
    sign_in,
)
from tests.e2e.conftest import Site

pytestmark = pytest.mark.e2e

VIEWPORTS = {"wide": {"width": 1280, "height": 900}, "phone": {"width": 360, "height": 780}}


@pytest.mark.parametrize("layout", VIEWPORTS)
def test_every_page_is_accessible_in_both_themes(
    browser: Browser, site: Site, axe: str, layout: str
) -> None:
    me = seed_member(site.gateway, "shown", "Mara Lindqvist")
    friend = seed_member(site.gateway, "friend", "Theo Okafor")
    friend_post = friend.post_photo(
        f"Golden hour at the #coast with @{me.username} https://example.com/trip", seed=41
    )
    my_post = me.post_photo("Morning coffee ritual #slowliving", seed=42)
    friend.call(
        "PUT",
        "/users/me",
        json={
            "name": friend.name,
            "username": friend.username,
            "email": friend.email,
            "bio": "Chasing light with a tiny camera. #film",
        },
    )
    me.call("POST", f"/users/{friend.username}/follow")
    friend.call("POST", f"/users/{me.username}/follow")
    friend.call("POST", f"/posts/{my_post}/likes")
    friend.call("POST", f"/posts/{my_post}/comments", json={"body": "What a lovely light ☕"})
    me.call("POST", f"/posts/{friend_post}/likes")
    me.call("POST", f"/posts/{friend_post}/comments", json={"body": "Take me there! #wanderlust"})
    safety = seed_safety(site.gateway, site.owner_database_url, me, friend, friend_post)

    context = browser.new_context(base_url=site.url, viewport=VIEWPORTS[layout])
    try:
        page = context.new_page()
        for path, name in (("/login", "login"), ("/register", "register")):
            page.goto(path)
            assert_accessible_in_both_themes(page, axe)
            screenshot(page, f"{layout}-{name}")
        sign_in(page, me)
        page.wait_for_timeout(1500)  # let the feed worker fan the friend's post out
        pages = (
            ("/feed", "feed"),
            (f"/posts/{friend_post}", "post"),
            (f"/@{me.username}", "profile"),
            (f"/@{friend.username}", "profile-other"),
            (f"/@{me.username}/likes", "likes"),
            (f"/@{me.username}/followers", "followers"),
            ("/search", "search"),
            ("/search?q=%23coast", "search-results"),
            ("/notifications", "notifications"),
            ("/upload", "upload"),
            ("/settings", "settings"),
            ("/settings/profile", "settings-profile"),
            ("/settings/password", "settings-password"),
            ("/settings/sessions", "settings-sessions"),
            (f"/posts/{friend_post}/delete", "error-403"),
            ("/no/such/page", "error-404"),
            *safety.viewer_pages,
        )
        for path, name in pages:
            page.goto(path)
            expect(page.locator("main")).to_be_visible()
            assert_accessible_in_both_themes(page, axe)
            screenshot(page, f"{layout}-{name}")
    finally:
        context.close()
    # The moderation queue and follow requests are other accounts' pages.
    for member, their_pages in safety.others:
        context = browser.new_context(base_url=site.url, viewport=VIEWPORTS[layout])
        try:
            page = context.new_page()
            sign_in(page, member)
            for path, name in their_pages:
                page.goto(path)
                expect(page.locator("main")).to_be_visible()
                assert_accessible_in_both_themes(page, axe)
                screenshot(page, f"{layout}-{name}")
        finally:
            context.close()


def test_appearance_applies_at_once_and_other_tabs_follow(
    browser: Browser, site: Site, axe: str
) -> None:
    me = seed_member(site.gateway, "themer")
    context = browser.new_context(base_url=site.url, color_scheme="light")
    try:
        page = context.new_page()
        sign_in(page, me)
        other_tab = context.new_page()
        other_tab.goto("/feed")
        page.goto("/settings")
        expect(page.locator("html")).to_have_attribute("data-theme", "system")
        page.get_by_role("button", name="Dark").click()
        expect(page.locator("html")).to_have_attribute("data-theme", "dark")
        expect(page.get_by_role("button", name="Dark")).to_have_attribute("aria-pressed", "true")
        expect(other_tab.locator("html")).to_have_attribute("data-theme", "dark")
        assert page.evaluate("() => localStorage.getItem('theme')") == "dark"
        theme = next(c for c in context.cookies() if c["name"] == "theme")
        assert theme["value"] == "dark" and theme["sameSite"] == "Lax"
        assert_accessible(page, axe)
        page.goto("/feed")  # the server renders the chosen theme: no flash on load
        expect(page.locator("html")).to_have_attribute("data-theme", "dark")
        page.goto("/settings")
        page.get_by_role("button", name="System").click()
        expect(page.locator("html")).to_have_attribute("data-theme", "system")
        assert page.evaluate("() => localStorage.getItem('theme')") is None
    finally:
        context.close()
