"""Following and notifications in a real browser: follow someone and see their post, the
navbar's unread dot lighting up live when they like it, new notifications appearing in an
open list, and unread ones staying unread until the page is left or marked."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browsing import assert_accessible, seed_member, sign_in
from tests.e2e.conftest import Site

pytestmark = pytest.mark.e2e
EVENTUALLY_MS = 20_000  # the feed and notification workers run asynchronously


def test_follow_then_see_their_post_and_the_author_is_notified_live(
    browser: Browser, page: Page, site: Site, axe: str
) -> None:
    author = seed_member(site.gateway, "author", "Ada Author")
    post_id = author.post_photo(f"Fresh from @{author.username}", seed=21)
    reader = seed_member(site.gateway, "reader", "Rex Reader")

    author_context = browser.new_context(base_url=site.url)
    try:
        author_page = author_context.new_page()
        sign_in(author_page, author)
        dot = author_page.locator("[data-unread-dot]")
        expect(dot).to_be_hidden()

        sign_in(page, reader)
        page.goto(f"/@{author.username}")
        expect(page).to_have_title(f"@{author.username} - Phasma")
        follow = page.locator(".profile-action-wide [data-follow-button]")
        label = follow.locator("[data-follow-label]")
        expect(label).to_have_text("Follow")
        follow.click()
        expect(label).to_have_text("Unfollow")
        expect(follow).to_be_enabled()  # the answer came back
        expect(page.locator("[data-follower-count]")).to_have_text("1")
        assert_accessible(page, axe)

        # The author hears about it without reloading: the stream lights the dot.
        expect(dot).to_be_visible(timeout=EVENTUALLY_MS)
        expect(dot).to_have_attribute("aria-label", "1 unread notification")

        # Follow backfill puts the author's earlier post in the reader's feed.
        card = page.locator(f"#post-{post_id}")
        for _ in range(40):
            page.goto("/feed")
            if card.count():
                break
            page.wait_for_timeout(500)
        expect(card).to_be_visible()
        card.locator("[data-like-button]").click()
        expect(card.locator("[data-like-button]")).to_have_attribute("aria-pressed", "true")
        expect(dot).to_have_attribute("aria-label", "2 unread notifications", timeout=EVENTUALLY_MS)

        author_page.get_by_role("link", name="Notifications").click()
        rows = author_page.locator("[data-notification]")
        expect(rows).to_have_count(2)
        expect(rows.first).to_contain_text("Rex Reader liked your post")
        expect(rows.nth(1)).to_contain_text("Rex Reader started following you")
        # Shown is not read: they stay new while the page is open.
        unread = author_page.locator("[data-notification].is-unread")
        expect(unread).to_have_count(2)
        mark_all = author_page.get_by_role("button", name="Mark all as read")
        expect(mark_all).to_be_visible()
        assert_accessible(author_page, axe)

        # A new one arrives at the top of the open list, unread, without a reload.
        page.goto(f"/posts/{post_id}")
        page.get_by_label("Add a comment").fill("Lovely light")
        page.get_by_role("button", name="Post comment").click()
        expect(rows).to_have_count(3, timeout=EVENTUALLY_MS)
        expect(rows.first).to_contain_text("Rex Reader commented on your post")
        expect(rows.first).to_have_class(re.compile(r"\bis-unread\b"))
        expect(unread).to_have_count(3)

        # Leaving the page marks what it showed read.
        author_page.goto("/feed")
        expect(author_page.locator("[data-unread-dot]")).to_be_hidden(timeout=EVENTUALLY_MS)
        author_page.goto("/notifications")
        expect(rows).to_have_count(3)
        expect(unread).to_have_count(0)
        expect(mark_all).to_be_hidden()

        # "Mark all as read" marks at once.
        page.get_by_label("Add a comment").fill("Still thinking about it")
        page.get_by_role("button", name="Post comment").click()
        expect(rows).to_have_count(4, timeout=EVENTUALLY_MS)
        expect(unread).to_have_count(1)
        mark_all.click()
        expect(unread).to_have_count(0)
        expect(mark_all).to_be_hidden()
        expect(author_page.locator("[data-unread-dot]")).to_be_hidden()
        author_page.reload()
        expect(unread).to_have_count(0)

        page.goto(f"/@{author.username}/followers")
        expect(page).to_have_title(f"Followers for @{author.username} - Phasma")
        expect(page.locator(".connection")).to_contain_text("Rex Reader")
        page.goto(f"/@{author.username}")
        page.locator(".profile-action-wide [data-follow-button]").click()
        expect(page.locator("[data-follower-count]")).to_have_text("0")
    finally:
        author_context.close()
