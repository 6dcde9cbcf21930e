"""Albums in a real browser: three photos chosen at once, reordered with a button and
by dragging, each given its alt text, then viewed in the carousel with the keyboard
(issue 19, docs/api.md §F)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.browsing import assert_accessible, photo, screenshot, seed_member, sign_in
from tests.e2e.conftest import Site

pytestmark = pytest.mark.e2e

# Distinct shapes, so the stored order shows in each slide's width and height.
PHOTOS = {"wide.jpg": (1200, 900), "tall.jpg": (900, 1200), "square.jpg": (1000, 1000)}


def chosen_names(page: Page) -> list[str]:
    names: list[str] = page.evaluate(
        "() => Array.from(document.getElementById('image').files, (file) => file.name)"
    )
    return names


def sizes(slides: Locator) -> list[tuple[str | None, str | None]]:
    images = slides.locator("img.post-image")
    return [
        (images.nth(index).get_attribute("width"), images.nth(index).get_attribute("height"))
        for index in range(images.count())
    ]


def test_an_album_is_uploaded_reordered_captioned_and_browsed(
    page: Page, site: Site, axe: str
) -> None:
    member = seed_member(site.gateway, "albumist")
    sign_in(page, member)
    page.goto("/upload")
    page.locator("#image").set_input_files(
        [
            {"name": name, "mimeType": "image/jpeg", "buffer": photo(*size, seed=index)}
            for index, (name, size) in enumerate(PHOTOS.items())
        ]
    )
    rows = page.locator("[data-upload-list] > li")
    expect(rows).to_have_count(3)
    # An album gives every photo its own alt text field instead of the single one.
    expect(page.locator("[data-single-alt]")).to_be_hidden()
    assert [name.replace(".jpg", "") for name in chosen_names(page)] == ["wide", "tall", "square"]

    # The square one moves up by its button; the focus follows it.
    page.get_by_role("button", name="Move photo 3 up").click()
    assert chosen_names(page) == ["wide.jpg", "square.jpg", "tall.jpg"]
    expect(page.get_by_role("button", name="Move photo 2 up")).to_be_focused()
    page.keyboard.press("Enter")
    assert chosen_names(page) == ["square.jpg", "wide.jpg", "tall.jpg"]
    # The tall one is dragged onto the first place.
    rows.nth(2).drag_to(rows.nth(0))
    assert chosen_names(page) == ["tall.jpg", "square.jpg", "wide.jpg"]
    expect(page.get_by_role("button", name="Move photo 1 up")).to_be_disabled()
    expect(page.get_by_role("button", name="Move photo 3 down")).to_be_disabled()

    alt_texts = ["A tall lighthouse", "A square of sea", "A wide beach"]
    for index, alt_text in enumerate(alt_texts):
        page.get_by_label(f"Alt text for photo {index + 1} of 3").fill(alt_text)
    page.get_by_label("Caption").fill("Three from the coast #album")
    assert_accessible(page, axe)
    screenshot(page, "wide-upload-album")
    page.get_by_role("button", name="Share").click()
    page.wait_for_url("**/feed")

    # The feed shows the album as a carousel in the arranged order, the first photo
    # (tall: clamped to 4:5) sizing the box, the others waiting to be scrolled to.
    card = page.locator("[data-post]").first
    carousel = card.locator("[data-carousel]")
    expect(carousel).to_have_attribute("aria-label", "Album of 3 photos")
    slides = carousel.locator("[data-carousel-slide]")
    expect(slides).to_have_count(3)
    assert sizes(slides) == [("900", "1200"), ("1000", "1000"), ("1200", "900")]
    images = slides.locator("img.post-image")
    for index, alt_text in enumerate(alt_texts):
        expect(images.nth(index)).to_have_attribute("alt", alt_text)
    expect(images.nth(1)).to_have_attribute("loading", "lazy")
    expect(images.nth(2)).to_have_attribute("loading", "lazy")
    box = carousel.bounding_box()
    assert box is not None
    assert abs(box["height"] - box["width"] * 1.25) <= 2  # the tall photo's 4:5 clamp

    # On the post page: the keyboard moves one photo at a time, the dots follow.
    post_id = card.get_attribute("data-post")
    page.goto(f"/posts/{post_id}")
    carousel = page.locator("[data-carousel]")
    status = carousel.locator("[data-carousel-status]")
    dots = carousel.locator("[data-carousel-dot]")
    previous = carousel.get_by_role("button", name="Previous photo")
    following = carousel.get_by_role("button", name="Next photo")
    expect(status).to_have_text("Photo 1 of 3")
    expect(previous).to_be_disabled()
    screenshot(page, "wide-post-album")  # before any scrolling: full-page shots reset it
    track = carousel.locator("[data-carousel-track]")
    track.focus()
    page.keyboard.press("ArrowRight")
    expect(status).to_have_text("Photo 2 of 3")
    at_second = "(track) => Math.abs(track.scrollLeft - track.clientWidth) < 2"
    page.wait_for_function(at_second, arg=track.element_handle())
    expect(dots.nth(1)).to_have_class("carousel-dot is-current")
    page.keyboard.press("ArrowRight")
    expect(status).to_have_text("Photo 3 of 3")
    expect(following).to_be_disabled()
    third = carousel.locator("img.post-image").nth(2)
    loaded = "(image) => image.complete && image.naturalWidth"
    page.wait_for_function(loaded, arg=third.element_handle())  # lazy, loaded once in view
    page.keyboard.press("ArrowLeft")
    expect(status).to_have_text("Photo 2 of 3")
    previous.click()
    expect(status).to_have_text("Photo 1 of 3")
    expect(dots.nth(0)).to_have_class("carousel-dot is-current")
    # The buttons take Enter too, and a double click on them turns pages, not likes.
    following.focus()
    page.keyboard.press("Enter")
    expect(status).to_have_text("Photo 2 of 3")
    following.dblclick()
    expect(status).to_have_text("Photo 3 of 3")
    expect(page.locator("[data-like-button]")).to_have_attribute("aria-pressed", "false")
    assert_accessible(page, axe)

    # The profile grid marks the album with its stack.
    page.goto(f"/@{member.username}")
    thumb = page.locator(f'a.thumb[href="/posts/{post_id}"]')
    expect(thumb.locator(".thumb-album")).to_have_count(1)
    assert_accessible(page, axe)
