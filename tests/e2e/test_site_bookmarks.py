"""Bookmarks in a real browser: save a stranger's post, find it under one's own "Saved"
tab, and unsave it again (issue 19, docs/api.md §F)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browsing import assert_accessible, screenshot, seed_member, sign_in
from tests.e2e.conftest import Site

pytestmark = pytest.mark.e2e


def test_save_a_post_see_it_in_saved_then_unsave_it(page: Page, site: Site, axe: str) -> None:
    author = seed_member(site.gateway, "author", "Sam Shooter")
    post_id = author.post_photo("Worth keeping #sunset", seed=33)
    reader = seed_member(site.gateway, "saver", "Sue Saver")
    sign_in(page, reader)

    # Save from the post page: the button turns pressed at once and stays so after a reload.
    page.goto(f"/posts/{post_id}")
    save = page.locator(f"#post-{post_id} [data-bookmark-button]")
    expect(save).to_have_attribute("aria-pressed", "false")
    save.click()
    expect(save).to_have_attribute("aria-pressed", "true")
    expect(page.locator(f"#post-{post_id} [data-bookmark-form]")).not_to_have_attribute(
        "data-pending", ""
    )
    page.reload()
    expect(save).to_have_attribute("aria-pressed", "true")
    assert_accessible(page, axe)

    # Only the reader's own profile has the Saved tab; it lists the saved post.
    page.goto(f"/@{author.username}")
    expect(page.get_by_role("link", name="saved", exact=True)).to_have_count(0)
    page.goto(f"/@{reader.username}")
    page.get_by_role("link", name="saved", exact=True).click()
    page.wait_for_url(f"**/@{reader.username}/saved")
    expect(page).to_have_title("Saved posts - Phasma")
    thumbnail = page.locator(f'#profile-grid a[href="/posts/{post_id}"]')
    expect(thumbnail).to_be_visible()
    assert_accessible(page, axe)
    screenshot(page, "wide-saved")
    # At phone width the five profile sections wrap; the saved post card still fits.
    page.set_viewport_size({"width": 360, "height": 780})
    page.reload()
    assert_accessible(page, axe)
    screenshot(page, "phone-saved")
    page.goto(f"/posts/{post_id}")
    assert_accessible(page, axe)
    screenshot(page, "phone-post-saved")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/@{reader.username}/saved")

    # Unsave from the post card; the Saved tab is empty again.
    thumbnail.click()
    page.wait_for_url(f"**/posts/{post_id}")
    save.click()
    expect(save).to_have_attribute("aria-pressed", "false")
    expect(page.locator(f"#post-{post_id} [data-bookmark-form]")).not_to_have_attribute(
        "data-pending", ""
    )
    page.goto(f"/@{reader.username}/saved")
    expect(page.locator("#profile-grid")).to_have_count(0)
    expect(page.get_by_text("No saved posts yet")).to_be_visible()
    assert_accessible(page, axe)

    # Someone else's saved posts are not a page at all.
    page.goto(f"/@{author.username}/saved")
    expect(page.get_by_text("Page not found")).to_be_visible()
