"""Blocking someone from a post's "…" menu in a real browser (docs/api.md §D, issue 18): the menu,
the native confirmation dialog, the landing with its message, the block listed in
Settings → Blocked and muted accounts, following refused across it, and each of the two
gone from the other's site: post page and profile are the 404 page, the feed card is gone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browsing import Member, assert_accessible, seed_member, sign_in
from tests.e2e.conftest import Site

pytestmark = pytest.mark.e2e


def card_in_feed(page: Page, post_id: str) -> None:
    """Wait for the follow backfill (the feed-worker, asynchronous) to show the post's card."""
    card = page.locator(f"#post-{post_id}")
    for _ in range(40):
        page.goto("/feed")
        if card.count():
            return
        page.wait_for_timeout(500)
    expect(card).to_be_visible()


def hidden_from(page: Page, other: Member, post_id: str) -> None:
    """`other` and their post are nowhere on the site for `page`'s viewer."""
    for path in (f"/posts/{post_id}", f"/@{other.username}"):
        response = page.goto(path)
        assert response is not None and response.status == 404, path
        expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    page.goto("/feed")
    expect(page.locator(f"#post-{post_id}")).to_have_count(0)


def test_a_reader_blocks_an_author_from_the_post_menu(
    browser: Browser, page: Page, site: Site, axe: str
) -> None:
    author = seed_member(site.gateway, "author", "Ada Author")
    post_id = author.post_photo("Something I should not have posted", seed=41)
    reader = seed_member(site.gateway, "reader", "Rex Reader")
    reader_post_id = reader.post_photo("My own photo", seed=42)
    assert reader.api.post(f"{site.gateway}/users/{author.username}/follow").status_code == 204
    assert author.api.post(f"{site.gateway}/users/{reader.username}/follow").status_code == 204

    # Before the block each sees the other's post in the feed.
    author_context = browser.new_context(base_url=site.url)
    try:
        author_page = author_context.new_page()
        sign_in(author_page, author)
        card_in_feed(author_page, reader_post_id)
        sign_in(page, reader)
        card_in_feed(page, post_id)
        page.goto(f"/posts/{post_id}")
        card = page.locator(f"#post-{post_id}")
        card.get_by_label("More options for this post").click()
        menu = card.locator("[data-more-menu]")
        expect(menu.get_by_role("link", name=f"Mute @{author.username}")).to_be_visible()
        expect(menu.get_by_role("link", name="Report")).to_be_visible()
        menu.get_by_role("link", name=f"Block @{author.username}").click()

        # The confirmation is a native modal dialog, not a page: the URL has not changed.
        dialog = page.locator("dialog[data-safety-dialog]")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_role("heading")).to_have_text(f"Block @{author.username}?")
        expect(page).to_have_url(f"{site.url}/posts/{post_id}")
        assert_accessible(page, axe)
        # Escape cancels it; the menu's item opens it again.
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        card.get_by_label("More options for this post").click()
        menu.get_by_role("link", name=f"Block @{author.username}").click()
        dialog.get_by_role("button", name="Block").click()

        page.wait_for_url("**/feed")
        expect(page.locator("[data-flash]")).to_have_text("Account blocked.")

        page.goto("/settings")
        page.get_by_role("link", name="Blocked and muted accounts").click()
        expect(page).to_have_title("Blocked and muted accounts - Phasma")
        row = page.locator(f'[data-safety-row="{author.username}"]')
        expect(row).to_contain_text("Ada Author")
        expect(row.get_by_role("button", name=f"Unblock @{author.username}")).to_be_visible()
        assert_accessible(page, axe)

        # The follow ended with the block, and following again is refused both ways.
        assert reader.api.get(f"{site.gateway}/users/me").json()["following"] == 0
        for member, other in ((reader, author), (author, reader)):
            response = member.api.post(f"{site.gateway}/users/{other.username}/follow")
            assert response.status_code == 403, response.text

        # Each is gone from the other's site: the blocker's view...
        hidden_from(page, author, post_id)
        # ...and the blocked author's.
        hidden_from(author_page, reader, reader_post_id)
        # Their own post is still theirs to see.
        author_page.goto(f"/posts/{post_id}")
        expect(author_page.locator(f"#post-{post_id}")).to_be_visible()
    finally:
        author_context.close()
