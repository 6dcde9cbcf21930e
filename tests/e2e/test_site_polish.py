"""Small things a person notices: a confirmation before a comment goes, a message after a
post goes, one time format everywhere, and no header the browser complains about."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browsing import assert_accessible, seed_member, sign_in
from tests.e2e.conftest import Site

pytestmark = pytest.mark.e2e
# "now", "3 min", "2 h", "5 d", then a date such as "Jun 22" or "Jun 22, 2025".
RELATIVE = re.compile(r"now|\d+ min|\d+ h|\d d|[A-Z][a-z]{2} \d{1,2}(, \d{4})?")
ABSOLUTE = re.compile(r"[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2} [AP]M UTC")


def test_deleting_a_comment_asks_first(page: Page, site: Site, axe: str) -> None:
    me = seed_member(site.gateway, "commenter")
    post_id = me.post_photo("Comment target", seed=61)
    for body in ("First thought", "Second thought"):
        me.call("POST", f"/posts/{post_id}/comments", json={"body": body})
    sign_in(page, me)
    page.goto(f"/posts/{post_id}")
    rows = page.locator("[data-comment]")
    expect(rows).to_have_count(2)
    delete = rows.first.get_by_role("link", name="Delete comment")

    delete.click()
    dialog = page.get_by_role("dialog", name="Delete comment?")
    expect(dialog).to_be_visible()
    assert_accessible(page, axe)
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(rows).to_have_count(2)  # cancelling keeps it

    delete.click()
    dialog.get_by_role("button", name="Delete").click()
    expect(rows).to_have_count(1)
    expect(page.locator("[data-comment-total]")).to_have_text("1 comment")
    page.reload()
    expect(page.locator("[data-comment]")).to_have_count(1)  # the server deleted it


def test_deleting_a_comment_without_javascript_shows_a_confirmation_page(
    browser: Browser, site: Site
) -> None:
    me = seed_member(site.gateway, "plain")
    post_id = me.post_photo("No script here", seed=62)
    me.call("POST", f"/posts/{post_id}/comments", json={"body": "Keep or drop"})
    context = browser.new_context(base_url=site.url, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, me)
        page.goto(f"/posts/{post_id}")
        page.get_by_role("link", name="Delete comment").click()
        expect(page.get_by_role("heading", name="Delete comment?")).to_be_visible()
        page.get_by_role("link", name="Cancel").click()
        expect(page.locator("[data-comment]")).to_have_count(1)
        page.get_by_role("link", name="Delete comment").click()
        page.get_by_role("button", name="Delete").click()
        page.wait_for_url(f"**/posts/{post_id}#comments")
        expect(page.locator("[data-comment]")).to_have_count(0)
    finally:
        context.close()


def test_deleting_a_post_says_so_once(page: Page, site: Site, axe: str) -> None:
    me = seed_member(site.gateway, "deleter")
    post_id = me.post_photo("Soon gone", seed=63)
    sign_in(page, me)
    page.goto(f"/posts/{post_id}")
    page.get_by_role("link", name="Delete post").click()
    page.get_by_role("dialog", name="Delete post?").get_by_role("button", name="Delete").click()
    page.wait_for_url("**/feed")
    expect(page.get_by_role("status").filter(has_text="Post deleted.")).to_be_visible()
    assert_accessible(page, axe)
    page.reload()
    expect(page.locator("[data-flash]")).to_have_count(0)  # once only


def test_every_time_has_one_format_and_its_absolute_time(page: Page, site: Site) -> None:
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    me = seed_member(site.gateway, "clock")
    friend = seed_member(site.gateway, "friendly")
    post_id = me.post_photo("What time is it", seed=64)
    friend.call("POST", f"/posts/{post_id}/comments", json={"body": "Tea time"})
    friend.call("POST", f"/posts/{post_id}/likes")
    sign_in(page, me)
    for path in ("/feed", f"/posts/{post_id}", "/notifications"):
        page.goto(path)
        times = page.locator("main time")
        expect(times.first).to_be_visible()
        for index in range(times.count()):
            node = times.nth(index)
            assert RELATIVE.fullmatch(node.inner_text().strip()), (path, node.inner_text())
            assert ABSOLUTE.fullmatch(node.get_attribute("title") or ""), path
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z", node.get_attribute("datetime") or "")
    # The script writes the same format as the server (an hour and 8 days back).
    shown = page.evaluate(
        """() => {
            const now = new Date(Date.UTC(2026, 5, 22, 12));
            return [3600e3, 8 * 86400e3, 400 * 86400e3, 90e3].map(
                (back) => window.Phasma.relativeTime(new Date(now - back), now));
        }"""
    )
    assert shown == ["1 h", "Jun 14", "May 18, 2025", "1 min"]
    assert not [text for text in messages if "Permissions-Policy" in text], messages
