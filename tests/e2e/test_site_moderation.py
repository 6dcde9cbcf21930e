"""A moderator removes a reported post from the queue in a real browser (docs/api.md §D).

A member reports the post from its "…" menu, in the report dialog, and the report lands
in the queue; the moderator is granted through `admin:grant`'s own entry point. The decision's
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
    settings = Settings(_env_file=None, database_url=site.owner_database_url)
    assert grant.main([moderator.username], settings) == 0

    # The reporter files it from the post's "…" menu, in the report dialog.
    theirs = browser.new_context(base_url=site.url)
    try:
        reporter_page = theirs.new_page()
        sign_in(reporter_page, reporter)
        reporter_page.goto(f"/posts/{post_id}")
        card = reporter_page.locator(f"#post-{post_id}")
        card.get_by_label("More options for this post").click()
        card.locator("[data-more-menu]").get_by_role("link", name="Report").click()
        dialog = reporter_page.locator("dialog[data-report-dialog]")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_role("heading")).to_have_text("Report this post")
        assert_accessible(reporter_page, axe)
        dialog.get_by_label("Why are you reporting this?").select_option("spam")
        dialog.get_by_label("Anything else we should know? (optional)").fill("a bot")
        dialog.get_by_role("button", name="Report").click()
        reporter_page.wait_for_load_state()
        expect(reporter_page.locator("[data-flash]")).to_have_text("Thanks, we'll review it")
        expect(reporter_page).to_have_url(f"{site.url}/posts/{post_id}")
    finally:
        theirs.close()

    sign_in(page, moderator)
    page.get_by_role("link", name="Moderation").click()
    page.wait_for_url("**/moderation")
    assert_accessible(page, axe)
    entry = page.locator(f'[data-subject="post:{post_id}"]')
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text(f"@{reporter.username}")
    report_id = entry.get_attribute("data-report")
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
