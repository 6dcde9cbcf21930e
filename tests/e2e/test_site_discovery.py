"""Search results in a real browser: accounts, tags and posts as tabs, people first for a
name, and a hashtag leading to its own page; the tabs also work without JavaScript."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browsing import assert_accessible, seed_member, sign_in
from tests.e2e.conftest import Site

pytestmark = pytest.mark.e2e


def test_people_come_first_for_a_name_and_tabs_list_each_kind(
    page: Page, site: Site, axe: str
) -> None:
    handle = f"alice{secrets.token_hex(3)}"
    alice = seed_member(site.gateway, handle, "Alice Example")
    writer = seed_member(site.gateway, "writer")
    writer.post_photo(f"Lunch with {alice.username} by the river", seed=51)
    sign_in(page, writer)

    for query in (f"@{alice.username}", alice.username):
        page.goto(f"/search?q={query.replace('@', '%40')}")
        sections = page.locator("[data-result-section]")
        expect(sections.first).to_have_attribute("data-result-section", "users")
        expect(sections.first).to_contain_text("Alice Example")
        expect(sections.first).to_contain_text(f"@{alice.username}")
        expect(page.get_by_role("link", name="Top")).to_have_attribute("aria-current", "page")
    assert_accessible(page, axe)

    page.get_by_role("link", name="Accounts", exact=True).click()
    page.wait_for_url(re.compile(r"tab=accounts"))
    expect(page.get_by_role("link", name="Accounts", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.locator("#search-results .result-row").first).to_contain_text("Alice Example")
    page.get_by_role("link", name="Posts", exact=True).click()
    expect(page.locator("#search-results .thumb")).to_have_count(1)
    page.locator("#search-results .result-row, #search-results .thumb").first.click()
    expect(page.locator("main")).to_contain_text(f"Lunch with {alice.username}")

    # A sentence is not a name: the posts come first.
    page.goto(f"/search?q=Lunch+with+{alice.username}")
    expect(page.locator("[data-result-section]").first).to_have_attribute(
        "data-result-section", "posts"
    )


def test_a_hashtag_leads_to_its_page_with_the_newest_posts(
    page: Page, site: Site, axe: str
) -> None:
    tag = f"tide{secrets.token_hex(3)}"
    author = seed_member(site.gateway, "tagger", "Tess Tagger")
    older = author.post_photo(f"Low #{tag} at dawn", seed=52)
    newer = author.post_photo(f"High #{tag.upper()} at noon", seed=53)
    sign_in(page, author)

    page.goto(f"/search?q=%23{tag}")
    sections = page.locator("[data-result-section]")
    expect(sections.first).to_have_attribute("data-result-section", "hashtags")
    sections.first.get_by_role("link", name=re.compile(f"#{tag}")).click()
    page.wait_for_url(f"**/tags/{tag}")
    expect(page).to_have_title(f"#{tag} - Phasma")
    expect(page.get_by_role("heading", name=f"#{tag}", level=1)).to_be_visible()
    thumbs = page.locator("#tag-posts .thumb")
    expect(thumbs).to_have_count(2)
    expect(thumbs.first).to_have_attribute("href", f"/posts/{newer}")  # newest first
    expect(thumbs.nth(1)).to_have_attribute("href", f"/posts/{older}")
    assert_accessible(page, axe)

    page.goto(f"/tags/{tag.upper()}")  # one address per tag
    page.wait_for_url(f"**/tags/{tag}")
    page.goto(f"/posts/{older}")
    page.locator(".caption").get_by_role("link", name=f"#{tag}").click()  # a caption's tag too
    page.wait_for_url(f"**/tags/{tag}")

    page.goto("/search")
    page.get_by_role("combobox").fill(f"#{tag}")
    page.get_by_role("option").first.click()  # a typeahead pick goes there as well
    page.wait_for_url(f"**/tags/{tag}")
    assert page.goto("/tags/not-a-tag!") is not None
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()


def test_tabs_are_links_without_javascript(browser: Browser, site: Site) -> None:
    handle = f"nojs{secrets.token_hex(3)}"
    person = seed_member(site.gateway, handle, "Nia Nojs")
    context = browser.new_context(base_url=site.url, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, person)
        page.goto(f"/search?q={person.username}")
        page.get_by_role("link", name="Accounts", exact=True).click()
        page.wait_for_url(re.compile(rf"/search\?q={person.username}&tab=accounts$"))
        expect(page.locator("#search-results")).to_contain_text(f"@{person.username}")
        page.get_by_role("link", name="Tags", exact=True).click()
        expect(page.get_by_role("heading", name="No results")).to_be_visible()
    finally:
        context.close()
