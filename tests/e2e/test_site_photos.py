"""Whole photos in a real browser (issue 15): each photo at its own aspect ratio within the
4:5 and 1.91:1 clamps, responsive renditions through `srcset`, the first photo of a page
loaded first, and the post page's photo beside its comments on a wide screen."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browsing import Member, photo, seed_member, sign_in
from tests.e2e.conftest import Site

pytestmark = pytest.mark.e2e

UPLOAD_MAX_BYTES = 1_000_000
# (name, width, height): 3:5, taller than the 4:5 clamp; 3:1, wider than 1.91:1; and an
# ordinary 4:3 photo. Each fits the 2048 px the server stores and is wider than 1080 px,
# so it is kept as it is and gets both renditions.
PHOTOS = (("ordinary", 1600, 1200), ("wide", 2040, 680), ("tall", 1200, 2000))


def jpeg_under_the_limit(width: int, height: int, seed: int) -> bytes:
    """A photo-like JPEG of that size small enough to upload as it is."""
    data = photo(width, height, seed)
    picture = Image.open(io.BytesIO(data))
    quality = 90
    while len(data) > UPLOAD_MAX_BYTES:
        buffer = io.BytesIO()
        picture.save(buffer, "JPEG", quality=quality)
        data, quality = buffer.getvalue(), quality - 10
    return data


def share(member: Member, width: int, height: int, caption: str, seed: int) -> str:
    """Upload and post a `width` x `height` photo; the post's id."""
    image = jpeg_under_the_limit(width, height, seed)
    upload = member.call("POST", "/uploads", files={"image": ("p.jpg", image, "image/jpeg")})
    assert upload.status_code == 201, upload.text
    assert upload.json()["renditions"] == [640, 1080]
    created = member.call(
        "POST", "/posts", json={"filename": upload.json()["filename"], "description": caption}
    )
    assert created.status_code == 201, created.text
    return str(created.json()["publicId"])


@pytest.fixture(scope="module")
def photographer(site: Site) -> tuple[Member, dict[str, str]]:
    """A member with the three photos posted, oldest first: the tall one tops the feed."""
    member = seed_member(site.gateway, "photographer")
    posts = {
        name: share(member, width, height, f"A {name} photo", seed)
        for seed, (name, width, height) in enumerate(PHOTOS, start=31)
    }
    return member, posts


def image_facts(page: Page, selector: str) -> dict[str, Any]:
    """The photo's box, what the browser chose from `srcset`, and how it is fitted."""
    image = page.locator(selector)
    image.scroll_into_view_if_needed()
    page.wait_for_function(
        "(image) => image.complete && image.naturalWidth > 0", arg=image.element_handle()
    )
    facts: dict[str, Any] = image.evaluate(
        """(image) => {
            const box = image.getBoundingClientRect();
            const style = getComputedStyle(image);
            return {width: box.width, height: box.height, left: box.left, right: box.right,
                    top: box.top, currentSrc: image.currentSrc, objectFit: style.objectFit,
                    srcset: image.getAttribute("srcset"), sizes: image.getAttribute("sizes"),
                    loading: image.getAttribute("loading"),
                    fetchpriority: image.getAttribute("fetchpriority")};
        }"""
    )
    return facts


def assert_whole(facts: dict[str, Any], box_ratio: float) -> None:
    """The img box has `box_ratio` (height / width) and the photo is contained in it."""
    assert facts["objectFit"] == "contain"
    assert facts["height"] / facts["width"] == pytest.approx(box_ratio, abs=0.01)


def assert_responsive(facts: dict[str, Any], original_width: int) -> None:
    srcset = facts["srcset"] or ""
    assert re.search(r"/uploads/[0-9a-f]{32}\?w=640 640w", srcset), srcset
    assert re.search(r"/uploads/[0-9a-f]{32}\?w=1080 1080w", srcset), srcset
    assert re.search(rf"/uploads/[0-9a-f]{{32}} {original_width}w$", srcset), srcset
    assert facts["sizes"]


def test_feed_photos_are_whole_responsive_and_the_first_loads_first(
    page: Page, site: Site, photographer: tuple[Member, dict[str, str]]
) -> None:
    member, posts = photographer
    sign_in(page, member)
    page.goto("/feed")
    shift = page.evaluate(
        """() => new Promise((done) => {
            let total = 0;
            new PerformanceObserver((list) => {
                for (const entry of list.getEntries()) total += entry.value;
            }).observe({type: "layout-shift", buffered: true});
            setTimeout(() => done(total), 500);
        })"""
    )
    assert shift == 0  # every box was reserved before its bytes arrived

    images = page.locator("[data-post] img.post-image")
    expect(images.first).to_have_attribute("loading", "eager")
    expect(images.first).to_have_attribute("fetchpriority", "high")
    for index in range(1, images.count()):
        expect(images.nth(index)).to_have_attribute("loading", "lazy")
        assert images.nth(index).get_attribute("fetchpriority") is None

    tall = image_facts(page, f"#post-{posts['tall']} img.post-image")
    assert (tall["loading"], tall["fetchpriority"]) == ("eager", "high")
    assert_whole(tall, 5 / 4)  # clamped at 4:5, the 3:5 photo letterboxed inside
    assert_responsive(tall, 1200)
    wide = image_facts(page, f"#post-{posts['wide']} img.post-image")
    assert_whole(wide, 1 / 1.91)  # clamped at 1.91:1
    assert_responsive(wide, 2040)
    ordinary = image_facts(page, f"#post-{posts['ordinary']} img.post-image")
    assert_whole(ordinary, 3 / 4)  # within the clamps: its own ratio
    assert_responsive(ordinary, 1600)
    # A 574 px column at 1x: the 640 px rendition, not the 1600 px original.
    assert ordinary["width"] == pytest.approx(574, abs=1)
    assert ordinary["currentSrc"].endswith("?w=640")
    # The tall photo is drawn 4:5-narrow, and `sizes` says so: 640 px is plenty too.
    assert tall["currentSrc"].endswith("?w=640")


def test_a_phone_gets_a_rendition_at_twice_the_density(
    browser: Browser, site: Site, photographer: tuple[Member, dict[str, str]]
) -> None:
    member, posts = photographer
    context = browser.new_context(
        base_url=site.url, viewport={"width": 390, "height": 844}, device_scale_factor=2
    )
    try:
        page = context.new_page()
        sign_in(page, member)
        ordinary = image_facts(page, f"#post-{posts['ordinary']} img.post-image")
        assert ordinary["width"] == pytest.approx(390 - 34, abs=1)
        assert_whole(ordinary, 3 / 4)
        assert re.search(r"\?w=(640|1080)$", ordinary["currentSrc"]), ordinary["currentSrc"]
        tall = image_facts(page, f"#post-{posts['tall']} img.post-image")
        assert_whole(tall, 5 / 4)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()


def test_the_post_page_shows_the_photo_beside_its_comments(
    page: Page, site: Site, photographer: tuple[Member, dict[str, str]]
) -> None:
    member, posts = photographer
    sign_in(page, member)
    for name, ratio in (("tall", 5 / 4), ("wide", 1 / 1.91)):
        page.goto(f"/posts/{posts[name]}")
        facts = image_facts(page, "img.post-image")
        assert facts["width"] == pytest.approx(629, abs=1)  # the slot `sizes` states
        assert (facts["loading"], facts["fetchpriority"]) == ("eager", "high")
        assert_whole(facts, ratio)
        assert_responsive(facts, dict((n, w) for n, w, _ in PHOTOS)[name])
        comments = page.locator("#comments").bounding_box()
        assert comments is not None
        # Two columns: the comments start right of the photo, level with its top.
        assert comments["x"] >= facts["right"] - 1
        assert comments["y"] < facts["top"] + facts["height"]
        assert page.get_by_label("Add a comment").is_visible()

    page.set_viewport_size({"width": 600, "height": 900})
    page.goto(f"/posts/{posts['ordinary']}")
    facts = image_facts(page, "img.post-image")
    comments = page.locator("#comments").bounding_box()
    assert comments is not None and comments["y"] >= facts["top"] + facts["height"] - 1
    assert_whole(facts, 3 / 4)


def test_the_profile_grid_stays_square_and_its_first_thumbnail_loads_first(
    page: Page, site: Site, photographer: tuple[Member, dict[str, str]]
) -> None:
    member, _ = photographer
    page.goto(f"/@{member.username}")
    thumbnails = page.locator("#profile-grid img")
    expect(thumbnails.first).to_have_attribute("fetchpriority", "high")
    expect(thumbnails.nth(1)).to_have_attribute("loading", "lazy")
    box = thumbnails.first.bounding_box()
    assert box is not None and box["width"] == pytest.approx(box["height"], abs=1)


def test_the_upload_preview_shows_the_photo_as_the_feed_will(page: Page, site: Site) -> None:
    sign_in(page, seed_member(site.gateway, "previewer"))
    page.goto("/upload")
    preview = page.locator("[data-preview-image]")
    for (width, height), ratio in (((3300, 1100), 1 / 1.91), ((1600, 1200), 3 / 4)):
        shown_before = preview.get_attribute("src") or ""
        chosen = jpeg_under_the_limit(width, height, seed=41)
        page.locator("#image").set_input_files(
            {"name": "p.jpg", "mimeType": "image/jpeg", "buffer": chosen}
        )
        expect(page.get_by_text("This is how your photo will appear in the feed.")).to_be_visible()
        page.wait_for_function(
            """([image, before]) => image.src.startsWith("blob:") && image.src !== before
                && image.complete && image.naturalWidth > 0""",
            arg=[preview.element_handle(), shown_before],
        )
        box = preview.bounding_box()
        assert box is not None
        assert box["height"] / box["width"] == pytest.approx(ratio, abs=0.01)
        assert preview.evaluate("(image) => getComputedStyle(image).objectFit") == "contain"
