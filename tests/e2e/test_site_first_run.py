"""The site as a newcomer meets it (issue 15): a first run that leads somewhere, forms
that help, the 413 page for a phone photo sent without JavaScript, sessions named by
their browser, and likes that only their owner sees."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browsing import assert_accessible, new_identity, seed_member, sign_in
from tests.e2e.conftest import Site

pytestmark = pytest.mark.e2e

FIREFOX_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0"


def test_a_stranger_lands_signs_up_and_is_offered_people_to_follow(
    page: Page, site: Site, axe: str
) -> None:
    author = seed_member(site.gateway, "lander", "Lena Lander")
    post_id = author.post_photo("Harbour at dusk", seed=31)
    fan = seed_member(site.gateway, "fan")
    assert fan.call("POST", f"/posts/{post_id}/likes").status_code == 204

    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Share photos")
    expect(page.get_by_role("heading", name="Popular this week")).to_be_visible()
    expect(page.locator(f'#popular-grid a[href="/posts/{post_id}"]')).to_be_visible()
    assert_accessible(page, axe)

    # `/username` leads to the profile.
    page.goto(f"/{author.username}")
    page.wait_for_url(f"**/@{author.username}")
    expect(page).to_have_title(f"@{author.username} - Phasma")

    page.goto("/")
    page.locator("main").get_by_role("link", name="Create account").click()
    page.wait_for_url("**/register")
    identity = new_identity("newbie")
    page.get_by_label("Full Name").fill(identity["name"])
    page.get_by_label("Username").fill(author.username)  # taken
    page.get_by_label("Email").fill(identity["email"])
    page.get_by_label("Password", exact=True).fill(identity["password"])
    page.get_by_role("button", name="Create account").click()

    # The conflict names the field, beside it; what was typed stays, the password does not.
    username = page.get_by_label("Username")
    expect(page.locator("#username-error")).to_have_text("That username is taken.")
    expect(username).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Full Name")).to_have_value(identity["name"])
    expect(page.get_by_label("Email")).to_have_value(identity["email"])
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    assert_accessible(page, axe)

    username.fill(identity["username"])
    page.get_by_label("Password", exact=True).fill(identity["password"])
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/feed")
    expect(page.get_by_role("heading", name="Your feed is empty")).to_be_visible()
    suggestions = page.locator("#suggested-list [data-follow-button]")
    expect(suggestions.first).to_be_visible()
    assert_accessible(page, axe)
    first = suggestions.first
    first.click()
    expect(first.locator("[data-follow-label]")).to_have_text("Unfollow")
    expect(first).to_have_attribute("aria-pressed", "true")
    page.goto("/")
    page.wait_for_url("**/feed")  # signed in: the root is the feed


def test_without_javascript_a_phone_sized_photo_gets_the_too_large_page(
    browser: Browser, site: Site
) -> None:
    member = seed_member(site.gateway, "phone")
    context = browser.new_context(base_url=site.url, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, member)
        page.goto("/upload")
        phone_photo = b"\xff\xd8\xff\xe0" + bytes(25 * 1024 * 1024)  # past the 20 MB limit
        page.locator("#image").set_input_files(
            {"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": phone_photo}
        )
        with page.expect_navigation() as navigation:
            page.get_by_role("button", name="Share").click()
        response = navigation.value
        assert response is not None and response.status == 413
        expect(page.get_by_role("alert")).to_have_text("Image must be smaller than 20 MB.")
        expect(page.get_by_role("navigation", name="Main")).to_be_visible()  # the site's page
    finally:
        context.close()


def test_an_over_long_caption_is_flagged_never_cut(page: Page, site: Site) -> None:
    member = seed_member(site.gateway, "captions")
    sign_in(page, member)
    page.goto("/upload")
    caption = page.get_by_label("Caption")
    caption.fill("x" * 1200)  # as a paste would: nothing is cut
    expect(caption).to_have_value("x" * 1200)
    counter = page.locator('[data-counter-for="description"]')
    expect(counter).to_have_text("1200/1000")
    expect(counter).to_have_class(re.compile(r"\bis-over\b"))
    message = caption.evaluate("(field) => field.validationMessage")
    assert message == "Caption must be 1,000 characters or fewer."
    caption.fill("x" * 1000)
    expect(counter).not_to_have_class(re.compile(r"\bis-over\b"))
    assert caption.evaluate("(field) => field.validationMessage") == ""


def test_sessions_are_named_by_the_browser_that_signed_in(
    browser: Browser, site: Site, page: Page, axe: str
) -> None:
    member = seed_member(site.gateway, "devices")
    phone = browser.new_context(base_url=site.url, user_agent=FIREFOX_ANDROID)
    try:
        sign_in(phone.new_page(), member)
        sign_in(page, member)
        page.goto("/settings/sessions")
        tiles = page.locator(".session-tile")
        current = tiles.filter(has=page.locator(".badge-current"))
        expect(current.locator(".tile-title")).to_contain_text("Chrome on Linux")
        expect(current).to_contain_text("Last used")
        expect(tiles.filter(has_text="Firefox on Android")).to_have_count(1)
        expect(
            page.get_by_role("button", name="Revoke session: Firefox on Android")
        ).to_be_visible()
        assert_accessible(page, axe)
    finally:
        phone.close()


def test_the_likes_tab_is_only_on_ones_own_profile(page: Page, site: Site, axe: str) -> None:
    owner = seed_member(site.gateway, "liker")
    author = seed_member(site.gateway, "liked")
    post_id = author.post_photo("Something to like", seed=33)
    assert owner.call("POST", f"/posts/{post_id}/likes").status_code == 204
    viewer = seed_member(site.gateway, "peeker")

    sign_in(page, owner)
    page.goto(f"/@{owner.username}")
    page.get_by_role("link", name=re.compile(r"1\s+like")).click()
    page.wait_for_url(f"**/@{owner.username}/likes")
    expect(page.locator(f'a[href="/posts/{post_id}"]')).to_be_visible()

    page.context.clear_cookies()
    sign_in(page, viewer)
    page.goto(f"/@{owner.username}")
    stats = page.get_by_role("navigation", name="Profile sections")
    expect(stats).to_contain_text("1 like")  # the count stays public
    expect(stats.get_by_role("link", name=re.compile("like"))).to_have_count(0)
    assert_accessible(page, axe)
    response = page.goto(f"/@{owner.username}/likes")
    assert response is not None and response.status == 403
    expect(page.get_by_text("Liked posts are visible to their owner only.")).to_be_visible()
    expect(page.locator(f'a[href="/posts/{post_id}"]')).to_have_count(0)
