"""Following a hashtag in a real browser: `#sunset`'s page counts its posts, its Follow
button flips at once, and a stranger's new sunset post then leads the follower's feed
(issue 19, docs/api.md §F); a signed-out visitor reads the page with a sign-up prompt."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browsing import assert_accessible, seed_member, sign_in
from tests.e2e.conftest import Site

pytestmark = pytest.mark.e2e


def test_following_sunset_puts_a_strangers_sunset_post_in_the_feed(
    page: Page, browser: Browser, site: Site, axe: str
) -> None:
    stranger = seed_member(site.gateway, "stranger", "Sol Stranger")
    stranger.post_photo("Golden hour #sunset", seed=61)
    reader = seed_member(site.gateway, "tagfan", "Tia Tagfan")
    sign_in(page, reader)

    page.goto("/tags/sunset")
    expect(page.get_by_role("heading", name="#sunset", level=1)).to_be_visible()
    expect(page.locator("[data-tag-post-count]")).to_contain_text("post")
    follow = page.locator("[data-tag-follow-form] [data-follow-button]")
    expect(follow).to_have_attribute("aria-pressed", "false")
    assert_accessible(page, axe)
    follow.click()
    expect(follow).to_have_attribute("aria-pressed", "true")
    expect(follow).to_contain_text("Unfollow")
    expect(follow).to_be_enabled()
    page.reload()
    expect(follow).to_have_attribute("aria-pressed", "true")

    # The stranger is not followed; the tag brings the new post to the top of the feed.
    post_id = stranger.post_photo("The sea at dusk #Sunset", seed=62)
    page.goto("/feed")
    first = page.locator("[data-post]").first
    expect(first).to_have_attribute("data-post", post_id)
    expect(first).to_contain_text("The sea at dusk")

    # Signed out, the page still reads, with a prompt instead of the button.
    visitor = browser.new_page(base_url=site.url)
    try:
        visitor.goto("/tags/sunset")
        expect(visitor.get_by_role("link", name="Sign up to follow")).to_be_visible()
        expect(visitor.locator(f'#tag-posts a[href="/posts/{post_id}"]')).to_be_visible()
        expect(visitor.locator("[data-tag-follow-form]")).to_have_count(0)
    finally:
        visitor.close()
