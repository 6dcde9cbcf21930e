"""A follow request in a real browser (issue 18, docs/api.md §E): Ada makes her account
private in settings, Ben asks to follow from her profile and sees "Requested", Ada
accepts from the notifications page, and Ben then sees her photo, which loads through
its signed URL."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browsing import assert_accessible, seed_member, sign_in
from tests.e2e.conftest import Site

pytestmark = pytest.mark.e2e

LOCKED = "This account is private — follow to see their photos"


def test_a_follow_request_is_sent_accepted_and_opens_the_photos(
    page: Page, browser: Browser, site: Site, axe: str
) -> None:
    ada = seed_member(site.gateway, "ada", "Ada Private")
    post_id = ada.post_photo("Only for friends", seed=71)
    ben = seed_member(site.gateway, "ben", "Ben Asker")

    # Ada turns the switch on in her profile settings.
    sign_in(page, ada)
    page.goto("/settings/profile")
    switch = page.get_by_label("Private account")
    expect(switch).not_to_be_checked()
    switch.check()
    page.get_by_role("button", name="Save Profile Details").click()
    page.wait_for_url("**/settings")
    page.goto("/settings/profile")
    expect(page.get_by_label("Private account")).to_be_checked()

    # Ben sees the header and the lock, not the photo, and asks to follow.
    ben_page = browser.new_page(base_url=site.url)
    try:
        sign_in(ben_page, ben)
        ben_page.goto(f"/@{ada.username}")
        expect(ben_page.get_by_role("heading", name="Ada Private", level=1)).to_be_visible()
        expect(ben_page.get_by_text(LOCKED)).to_be_visible()
        expect(ben_page.locator(f'a[href="/posts/{post_id}"]')).to_have_count(0)
        assert_accessible(ben_page, axe)
        button = ben_page.locator(".profile-action-wide [data-follow-button]")
        expect(button).to_contain_text("Follow")
        button.click()
        ben_page.wait_for_load_state()
        expect(button).to_contain_text("Requested")
        expect(button).to_have_attribute("aria-pressed", "true")
        expect(ben_page.get_by_text("Your follow request is waiting")).to_be_visible()

        # Ada finds the request at the top of her notifications and accepts it.
        page.goto("/notifications")
        requests = page.locator("#follow-requests")
        expect(requests).to_contain_text(f"@{ben.username} asked to follow you")
        assert_accessible(page, axe)
        requests.get_by_role("button", name=f"Accept @{ben.username}").click()
        page.wait_for_url("**/notifications")
        expect(page.locator("#follow-requests")).to_have_count(0)

        # Ben now follows her and sees the post, its photo loaded through the proxy.
        ben_page.goto(f"/@{ada.username}")
        expect(ben_page.get_by_text(LOCKED)).to_have_count(0)
        expect(button).to_contain_text("Unfollow")
        thumbnail = ben_page.locator(f'a[href="/posts/{post_id}"] img')
        expect(thumbnail).to_be_visible()
        expect(thumbnail).to_have_attribute("src", re.compile(r"[?&]token=[0-9]+-[0-9a-f]{32}"))
        thumbnail.scroll_into_view_if_needed()
        ben_page.wait_for_function(
            "(image) => image.complete && image.naturalWidth > 0", arg=thumbnail.element_handle()
        )
        ben_page.goto(f"/posts/{post_id}")
        expect(ben_page.get_by_text("Only for friends")).to_be_visible()
    finally:
        ben_page.close()
