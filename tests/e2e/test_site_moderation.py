"""A moderator removes a reported post from the queue in a real browser (docs/api.md §D).

A member reports the post through the API (the site's report menu is its own feature);
the moderator is granted through `admin:grant`'s own entry point. The decision's
`content_removed` notification travels the real outbox → Kafka → notifications-worker
path before the author sees it.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Browser, Page, expect

from phasma.config import Settings
from phasma.moderation import grant
from tests.e2e.browsing import assert_accessible, seed_member, sign_in
from tests.e2e.conftest import Site

pytestmark = pytest.mark.e2e

# The worker gets the event through the local eventing: seconds, so a minute means never.
NOTIFICATION_TIMEOUT_SECONDS = 60


def test_a_moderator_removes_a_reported_post_and_its_author_is_told(
    page: Page, browser: Browser, site: Site, axe: str
) -> None:
    author = seed_member(site.gateway, "author")
    reporter = seed_member(site.gateway, "reporter")
    moderator = seed_member(site.gateway, "moderator")
    post_id = author.post_photo("Cheap followers, click here", seed=61)
    reported = reporter.call(
        "POST",
        "/reports",
        json={"subjectType": "post", "subjectId": post_id, "reason": "spam", "note": "a bot"},
    )
    assert reported.status_code == 201, reported.text
    report_id = reported.json()["id"]
    settings = Settings(_env_file=None, database_url=site.owner_database_url)
    assert grant.main([moderator.username], settings) == 0

    sign_in(page, moderator)
    page.get_by_role("link", name="Moderation").click()
    page.wait_for_url("**/moderation")
    assert_accessible(page, axe)
    entry = page.locator(f'[data-report="{report_id}"]')
    expect(entry.get_by_text("Cheap followers, click here")).to_be_visible()
    expect(entry.get_by_text("a bot")).to_be_visible()
    expect(entry.get_by_role("img", name="The reported post")).to_be_visible()
    entry.get_by_label("Note (optional, kept in the audit log)").fill("spam account")
    entry.get_by_role("button", name="Remove post").click()

    expect(page.get_by_role("heading", name="Remove this post?")).to_be_visible()
    assert_accessible(page, axe)
    page.get_by_role("button", name="Remove", exact=True).click()
    page.wait_for_url("**/moderation")
    expect(page.get_by_text("Decision saved. The reports are closed.")).to_be_visible()
    expect(page.locator(f'[data-report="{report_id}"]')).to_have_count(0)

    assert page.goto(f"/posts/{post_id}").status == 404
    page.goto("/moderation?status=closed")
    closed = page.locator(f'[data-report="{report_id}"]')
    expect(closed.get_by_text("Removed by @" + moderator.username)).to_be_visible()

    # The author, in their own browser, is told once the worker made the notification.
    own = browser.new_context(base_url=site.url, viewport={"width": 1280, "height": 900})
    try:
        author_page = own.new_page()
        sign_in(author_page, author)
        told = author_page.get_by_text("a moderator removed your post or comment")
        deadline = time.monotonic() + NOTIFICATION_TIMEOUT_SECONDS
        author_page.goto("/notifications")
        while not told.is_visible():
            assert time.monotonic() < deadline, "the content_removed notification never came"
            author_page.wait_for_timeout(1000)
            author_page.reload()
        expect(author_page.get_by_role("link", name="Moderation")).to_have_count(0)
    finally:
        own.close()
