"""Posting in a real browser: upload with client-side resize, the feed, likes, comments,
deleting, and the same upload without JavaScript."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browsing import assert_accessible, photo, seed_member, sign_in, small_photo
from tests.e2e.conftest import Site

pytestmark = pytest.mark.e2e


def test_upload_resizes_in_the_browser_and_the_post_reaches_the_feed(
    page: Page, site: Site, axe: str
) -> None:
    member = seed_member(site.gateway, "poster")
    sign_in(page, member)
    page.get_by_role("link", name="Upload").click()
    expect(page).to_have_title("Create Post - Phasma")
    share = page.get_by_role("button", name="Share")
    expect(share).to_be_disabled()  # until an image is ready
    assert_accessible(page, axe)

    original = photo(2400, 1800, seed=11)
    assert len(original) > 1_000_000  # too big to send as it is
    page.locator("#image").set_input_files(
        {"name": "sunrise.jpeg", "mimeType": "image/jpeg", "buffer": original}
    )
    expect(page.get_by_text("This is how your photo will appear in the feed.")).to_be_visible()
    expect(share).to_be_enabled()
    resized = page.evaluate(
        """async () => {
            const file = document.getElementById("image").files[0];
            const bitmap = await createImageBitmap(file);
            return {name: file.name, type: file.type, size: file.size,
                    width: bitmap.width, height: bitmap.height};
        }"""
    )
    assert resized["name"] == "sunrise.jpg" and resized["type"] == "image/jpeg"
    assert resized["size"] <= 921_600
    assert (resized["width"], resized["height"]) == (1600, 1200)

    caption = f"First light over the #hills with @{member.username}"
    page.get_by_label("Caption").fill(caption)
    expect(page.get_by_text(f"{len(caption)}/1000")).to_be_visible()
    page.get_by_label("Alt text").fill("Sunrise over layered blue hills")
    share.click()

    page.wait_for_url("**/feed")
    card = page.locator("[data-post]").first
    expect(card.get_by_text("First light over the")).to_be_visible()
    expect(card.get_by_role("link", name="#hills")).to_have_attribute("href", "/tags/hills")
    image = card.locator("img.post-image")
    expect(image).to_have_attribute("alt", re.compile("Sunrise over layered blue hills|First"))
    expect(image).to_have_attribute("width", "1600")
    expect(image).to_have_attribute("height", "1200")
    page.wait_for_function(
        "(image) => image.complete && image.naturalWidth", arg=image.element_handle()
    )
    # The 574 px column shows the 640 px rendition; the original is the resized upload.
    assert (image.evaluate("(image) => image.currentSrc") or "").endswith("?w=640")
    stored_width = page.evaluate(
        "async (src) => (await createImageBitmap(await (await fetch(src)).blob())).width",
        image.get_attribute("src"),
    )
    assert stored_width == 1600  # as stored: the resized upload, re-encoded
    assert_accessible(page, axe)


def test_like_double_click_comment_and_delete(page: Page, site: Site, axe: str) -> None:
    member = seed_member(site.gateway, "liker")
    post_id = member.post_photo("Lakeside #calm", seed=12)
    sign_in(page, member)
    card = page.locator(f"#post-{post_id}")
    like = card.locator("[data-like-button]")
    expect(like).to_have_attribute("aria-pressed", "false")
    expect(like).to_contain_text("0 likes")

    like.focus()
    page.keyboard.press("Enter")  # keyboard only
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(like).to_contain_text("1 like")
    page.wait_for_timeout(300)
    page.reload()
    expect(like).to_have_attribute("aria-pressed", "true")  # stored, not only shown
    like.click()
    expect(like).to_contain_text("0 likes")
    expect(like).to_have_attribute("aria-pressed", "false")
    page.wait_for_timeout(300)

    media = card.locator("[data-double-like]")
    media.dblclick()
    expect(card.locator(".like-burst")).to_have_class(re.compile("is-playing"))
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(like).to_contain_text("1 like")
    page.wait_for_timeout(800)
    media.dblclick()  # a second double-click plays the burst but never unlikes
    expect(like).to_have_attribute("aria-pressed", "true")
    page.wait_for_timeout(300)
    page.reload()
    expect(like).to_contain_text("1 like")

    card.get_by_role("link", name="0 comments").click()
    expect(page).to_have_title("Lakeside #calm - Phasma")
    send = page.get_by_role("button", name="Post comment")
    expect(send).to_be_disabled()
    page.get_by_label("Add a comment").fill("   ")
    expect(send).to_be_disabled()  # only whitespace
    page.get_by_label("Add a comment").fill(f"So calm, @{member.username} #peace")
    send.click()
    comment = page.locator("[data-comment]").first
    expect(comment).to_contain_text("So calm,")
    expect(page.locator("[data-comment-total]")).to_have_text("1 comment")
    expect(page.get_by_label("Add a comment")).to_have_value("")
    assert_accessible(page, axe)
    page.reload()
    expect(page.locator("[data-comment]")).to_have_count(1)

    page.get_by_role("link", name="Delete comment").click()
    page.get_by_role("dialog", name="Delete comment?").get_by_role("button", name="Delete").click()
    expect(page.locator("[data-comment]")).to_have_count(0)
    expect(page.locator("[data-comment-total]")).to_have_text("0 comments")
    page.wait_for_timeout(300)
    page.reload()
    expect(page.locator("[data-comment]")).to_have_count(0)

    page.get_by_role("link", name="Delete post").click()
    dialog = page.get_by_role("dialog", name="Delete post?")
    expect(dialog).to_be_visible()
    assert_accessible(page, axe)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.get_by_role("link", name="Delete post").click()
    dialog.get_by_role("button", name="Delete").click()
    page.wait_for_url("**/feed")
    expect(page.get_by_role("heading", name="Your feed is empty")).to_be_visible()


def test_without_javascript_a_photo_can_be_posted(browser: Browser, site: Site) -> None:
    member = seed_member(site.gateway, "plain")
    context = browser.new_context(base_url=site.url, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, member)
        page.get_by_role("link", name="Upload").click()
        page.locator("#image").set_input_files(
            {"name": "plain.jpg", "mimeType": "image/jpeg", "buffer": small_photo(seed=13)}
        )
        page.get_by_label("Caption").fill("Posted with scripts off")
        page.get_by_role("button", name="Share").click()
        page.wait_for_url("**/feed")
        card = page.locator("[data-post]").first
        expect(card).to_contain_text("Posted with scripts off")

        like = card.get_by_role("button", name=re.compile("like this post"))
        like.click()  # a plain form post, answered with a redirect back
        page.wait_for_url(re.compile(r"/feed"))
        expect(page.locator("[data-post]").first.locator("[data-like-button]")).to_have_attribute(
            "aria-pressed", "true"
        )
    finally:
        context.close()


def test_load_more_appends_the_next_page(page: Page, site: Site) -> None:
    member = seed_member(site.gateway, "prolific")
    for number in range(11):
        member.post_photo(f"Frame {number}", seed=50 + number)
    sign_in(page, member)
    page.goto(f"/@{member.username}")
    thumbs = page.locator("#profile-grid .thumb")
    expect(thumbs).to_have_count(10)
    page.get_by_role("link", name="Load More").click()
    expect(thumbs).to_have_count(11)
    expect(page.get_by_role("link", name="Load More")).to_have_count(0)  # nothing left
    expect(page).to_have_url(re.compile(rf"/@{member.username}$"))  # no navigation
