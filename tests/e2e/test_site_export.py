"""Exporting one's data in a real browser (docs/api.md §C): the settings page requests it, the
`exporter` runs for real through the local eventing, and the ZIP downloads with the
account's files and its photo."""

from __future__ import annotations

import io
import json
import time
import zipfile

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browsing import assert_accessible, seed_member, sign_in
from tests.e2e.conftest import Site

pytestmark = pytest.mark.e2e

# The event is published at the request's commit and the exporter writes one small ZIP:
# seconds on a quiet machine, so a minute means it is not coming.
EXPORT_TIMEOUT_SECONDS = 60


def test_an_export_is_requested_in_settings_and_downloads_as_a_zip(
    page: Page, site: Site, axe: str
) -> None:
    member = seed_member(site.gateway, "exporter")
    post_id = member.post_photo("Kept for the archive #mine", seed=51)

    sign_in(page, member)
    page.goto("/settings")
    page.get_by_role("link", name="Export your data").click()
    page.wait_for_url("**/settings/export")
    assert_accessible(page, axe)
    page.get_by_role("button", name="Request an export").click()
    page.wait_for_url("**/settings/export?id=*")
    expect(page.get_by_text("Preparing your export…")).to_be_visible()

    # The page says to reload: do so until the exporter has written the ZIP.
    deadline = time.monotonic() + EXPORT_TIMEOUT_SECONDS
    download_link = page.get_by_role("link", name="Download ZIP")
    while not download_link.is_visible():
        assert time.monotonic() < deadline, "the export never became ready"
        page.wait_for_timeout(1000)
        page.reload()
    expect(page.get_by_text("Your export is ready")).to_be_visible()

    with page.expect_download() as downloading:
        download_link.click()
    path = downloading.value.path()
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
        names = set(archive.namelist())
        for name in ("profile.json", "posts.json", "comments.json", "likes.json"):
            assert name in names
        assert {"following.json", "followers.json"} <= names
        assert json.loads(archive.read("profile.json"))["username"] == member.username
        [post] = json.loads(archive.read("posts.json"))
        assert (post["id"], post["description"]) == (post_id, "Kept for the archive #mine")
        images = [name for name in names if name.startswith("images/")]
        assert images == [f"images/{post['filename']}.jpg"]
        assert archive.read(images[0])[:2] == b"\xff\xd8"  # the stored JPEG itself
