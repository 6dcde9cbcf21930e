"""Search in a real browser: typeahead with keyboard navigation, recent searches, results."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browsing import assert_accessible, seed_member, sign_in
from tests.e2e.conftest import Site

pytestmark = pytest.mark.e2e


def test_typeahead_keyboard_pick_recent_searches_and_results(
    page: Page, site: Site, axe: str
) -> None:
    tag = f"glow{secrets.token_hex(3)}"
    star = seed_member(site.gateway, f"zq{secrets.token_hex(2)}", "Zora Quill")
    star.post_photo(f"Evening #{tag} over the bay", seed=31)
    star.post_photo(f"More #{tag}", seed=32)
    searcher = seed_member(site.gateway, "seeker")
    sign_in(page, searcher)
    page.get_by_role("link", name="Search").click()
    expect(page).to_have_title("Search - Phasma")
    assert_accessible(page, axe)

    search = page.get_by_role("combobox", name="Search users, posts, hashtags")
    search.fill(f"@{star.username[:6]}")
    options = page.get_by_role("option")
    expect(options.first).to_contain_text(f"@{star.username}")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(page.locator("[data-suggestions] .sheet-disc")).to_have_count(0)  # users only
    assert_accessible(page, axe)
    count = options.count()
    search.press("ArrowDown")
    search.press("ArrowUp")  # wraps around and back to the first row
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    if count > 1:
        search.press("ArrowDown")
        expect(options.nth(1)).to_have_attribute("aria-selected", "true")
        search.press("ArrowUp")
    search.press("Enter")  # an arrow key was used: Enter picks the highlighted row
    page.wait_for_url(f"**/@{star.username}")

    page.goto("/search")
    search.focus()
    recent = page.locator("[data-search-sheet] [data-recent-id]")
    expect(recent.first).to_contain_text(f"@{star.username}")

    search.fill(f"#{tag}")
    expect(options.first).to_contain_text(f"#{tag}")
    expect(options.first).to_contain_text("2 posts")
    search.press("Escape")
    expect(page.locator("[data-search-sheet]")).to_be_hidden()

    search.press("Enter")  # no arrow key: Enter searches for the text as typed
    page.wait_for_url(re.compile(rf"/search\?q=%23{tag}$"))
    expect(page).to_have_title(f'"#{tag}" - Search - Phasma')
    # The top results lead with the tag (its page is tested in test_site_discovery.py).
    sections = page.locator("[data-result-section]")
    expect(sections.first).to_have_attribute("data-result-section", "hashtags")
    expect(page.locator("[data-result-section=posts] .thumb")).to_have_count(2)
    assert_accessible(page, axe)

    page.get_by_role("link", name="Clear search").click()
    page.wait_for_url(re.compile(r"/search$"))
    search.focus()
    expect(recent).to_have_count(2)
    expect(recent.first).to_contain_text(f"#{tag}")  # the typed text, newest first
    expect(recent.nth(1)).to_contain_text(f"@{star.username}")
    recent.first.get_by_role("button", name="Remove from recent searches").click()
    expect(recent).to_have_count(1)
    expect(search).to_be_focused()  # the sheet stays for the next action
    # The list empties at once; the reload below must come after the server agreed.
    with page.expect_response(lambda response: response.url.endswith("/search/recent/clear")):
        page.get_by_role("button", name="Clear all").click()
    expect(recent).to_have_count(0)
    page.reload()
    search.focus()
    expect(page.locator("[data-search-sheet]")).to_be_hidden()

    search.fill("#nothingmatchesthis")
    search.press("Enter")
    expect(page.get_by_role("heading", name="No results")).to_be_visible()
