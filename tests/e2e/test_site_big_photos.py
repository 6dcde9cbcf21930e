"""Real-size photos without JavaScript (issue 19, item 2): a phone's HEIC and a camera's
20 MB JPEG go through the upload form as they are, and come out as posts of at most
2048 px within the 1 MB store limit."""

from __future__ import annotations

import struct

import pytest
from playwright.sync_api import Browser, expect

from tests.api.sample_images import heic, noisy_jpeg
from tests.e2e.browsing import seed_member, sign_in
from tests.e2e.conftest import Site

pytestmark = pytest.mark.e2e

HEIC_BYTES = 12_000_000


def twelve_megabyte_heic() -> bytes:
    """A HEIC (HEVC in HEIF, as an iPhone writes it) of 12 MP, brought to 12 MB by a
    trailing `free` box, which ISO BMFF readers skip: the bytes a form carries are a
    ProRAW-sized HEIC's, without spending a minute in the HEVC encoder."""
    photo = heic((4032, 3024))
    padding = HEIC_BYTES - len(photo)
    return photo + struct.pack(">I", padding) + b"free" + bytes(padding - 8)


def test_a_12_mb_heic_and_a_20_mb_jpeg_are_posted_without_javascript(
    browser: Browser, site: Site
) -> None:
    member = seed_member(site.gateway, "camera")
    photos = (
        ("IMG_0001.HEIC", "image/heic", twelve_megabyte_heic(), "Harbour in HEIC", (2048, 1536)),
        (
            "DSC_0002.JPG",
            "image/jpeg",
            noisy_jpeg((8000, 6000), 76, 85),
            "Forty-eight megapixels",
            (2048, 1536),
        ),
    )
    context = browser.new_context(base_url=site.url, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, member)
        for name, kind, data, caption, _ in photos:
            assert len(data) > 11_000_000 and len(data) <= 20_000_000
            page.goto("/upload")
            page.locator("#image").set_input_files({"name": name, "mimeType": kind, "buffer": data})
            page.get_by_label("Caption").fill(caption)
            with page.expect_navigation(timeout=60_000) as navigation:
                page.get_by_role("button", name="Share").click()
            response = navigation.value
            assert response is not None and response.status == 200
            page.wait_for_url("**/feed")
            expect(page.get_by_text(caption)).to_be_visible()
    finally:
        context.close()

    posts = member.call("GET", f"/users/{member.username}/posts").json()["items"]
    stored = {post["description"]: (post["width"], post["height"]) for post in posts}
    assert stored == {caption: size for _, _, _, caption, size in photos}
    for post in posts:
        image = member.call("GET", f"/uploads/{post['filename']}")
        assert image.status_code == 200
        assert len(image.content) <= 1_000_000
