"""Editing a caption in a real browser (docs/api.md §C): the author's edit page, the notice,
the new text on the post page and in the feed, and the "edited" marker."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browsing import assert_accessible, seed_member, sign_in
from tests.e2e.conftest import Site

pytestmark = pytest.mark.e2e


def test_the_author_edits_a_caption(page: Page, site: Site, axe: str) -> None:
    member = seed_member(site.gateway, "editor")
    post_id = member.post_photo("Lakeside at dusk #calm", seed=21)
    sign_in(page, member)
    page.goto(f"/posts/{post_id}")
    card = page.locator(f"#post-{post_id}")
    expect(card.locator(".post-edited")).to_have_count(0)

    card.get_by_role("link", name="Edit post").click()
    page.wait_for_url(f"**/posts/{post_id}/edit")
    expect(page).to_have_title("Edit post - Phasma")
    caption = page.get_by_label("Caption")
    expect(caption).to_have_value("Lakeside at dusk #calm")
    assert_accessible(page, axe)

    new_caption = "Lakeside at dawn #still"
    caption.fill(new_caption)
    expect(page.get_by_text(f"{len(new_caption)}/1000")).to_be_visible()
    page.get_by_label("Alt text").fill("A calm lake under a pale sky")
    page.get_by_role("button", name="Save").click()

    page.wait_for_url(f"**/posts/{post_id}")
    expect(page.get_by_role("status").filter(has_text="Post updated.")).to_be_visible()
    card = page.locator(f"#post-{post_id}")
    expect(card.locator(".caption")).to_contain_text("Lakeside at dawn")
    expect(card.get_by_role("link", name="#still")).to_have_attribute("href", "/tags/still")
    expect(card.locator(".caption")).not_to_contain_text("dusk")
    expect(card.locator("img.post-image")).to_have_attribute("alt", "A calm lake under a pale sky")
    edited = card.locator("time.post-edited")
    expect(edited).to_have_text("edited")
    expect(edited).to_have_attribute("title", re.compile(r"^Edited .+ UTC$"))
    assert_accessible(page, axe)

    page.goto("/feed")
    card = page.locator(f"#post-{post_id}")
    expect(card.locator(".caption")).to_contain_text("Lakeside at dawn")
    expect(card.locator("time.post-edited")).to_be_visible()
