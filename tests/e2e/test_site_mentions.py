"""Mentions and the notifications page in a real browser: the caption and comment boxes
complete `@name` from the keyboard, the post notifies the person named and their
notification leads to the post, and likes of one post group into one row, live."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browsing import assert_accessible, seed_member, sign_in, small_photo
from tests.e2e.conftest import Site

pytestmark = pytest.mark.e2e
EVENTUALLY_MS = 20_000  # the notifications worker runs asynchronously


def test_a_caption_mention_picked_with_the_keyboard_notifies_and_links_to_the_post(
    browser: Browser, page: Page, site: Site, axe: str
) -> None:
    friend = seed_member(site.gateway, "mentioned", "Mia Mentioned")
    poster = seed_member(site.gateway, "poster", "Pat Poster")
    sign_in(page, poster)
    page.goto("/upload")
    page.locator("#image").set_input_files(
        {"name": "walk.jpg", "mimeType": "image/jpeg", "buffer": small_photo(seed=5)}
    )
    caption = page.get_by_label("Caption")
    caption.click()
    caption.press_sequentially("Evening walk with @" + friend.username[:-1], delay=20)

    # The list the box controls opens under it, the first suggestion active.
    listbox = page.get_by_role("listbox", name="Suggestions")
    expect(listbox).to_be_visible()
    options = listbox.get_by_role("option")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(caption).to_have_attribute("aria-controls", listbox.get_attribute("id") or "")
    assert_accessible(page, axe)
    target = options.filter(has_text=f"@{friend.username}")
    expect(target).to_have_count(1)
    texts = options.all_text_contents()
    position = next(index for index, text in enumerate(texts) if f"@{friend.username}" in text)
    # Arrow down past it and back up: the active option follows, then Enter picks it.
    for _ in range(position + 1):
        caption.press("ArrowDown")
    caption.press("ArrowUp")
    expect(target).to_have_attribute("aria-selected", "true")
    expect(caption).to_have_attribute("aria-activedescendant", target.get_attribute("id") or "")
    caption.press("Enter")
    expect(listbox).to_be_hidden()
    expect(caption).to_have_value(f"Evening walk with @{friend.username} ")
    caption.press_sequentially("by the #river", delay=20)
    expect(listbox).to_be_hidden()  # a new tag has nothing to complete
    caption.press("Escape")
    page.get_by_role("button", name="Share").click()
    page.wait_for_url("**/feed")
    card = page.locator("[data-post]").first
    expect(card.get_by_role("link", name=f"@{friend.username}")).to_be_visible()
    post_id = card.get_attribute("data-post")

    # The friend hears of it and the notification leads to the post.
    friend_context = browser.new_context(base_url=site.url)
    try:
        friend_page = friend_context.new_page()
        sign_in(friend_page, friend)
        row = friend_page.locator("[data-notification]").first
        for _ in range(40):
            friend_page.goto("/notifications")
            if row.count():
                break
            friend_page.wait_for_timeout(500)
        expect(row).to_contain_text("Pat Poster mentioned you in a post", timeout=EVENTUALLY_MS)
        expect(row).to_contain_text(f"Evening walk with @{friend.username} by the #river")
        expect(row.locator(".notification-thumb img")).to_be_visible()
        assert_accessible(friend_page, axe)
        row.get_by_role("link", name="mentioned you in a post").click()
        friend_page.wait_for_url(f"**/posts/{post_id}")
    finally:
        friend_context.close()


def test_the_comment_box_completes_a_username_with_tab_and_escape_closes(
    page: Page, site: Site
) -> None:
    author = seed_member(site.gateway, "author", "Ann Author")
    post_id = author.post_photo("A quiet lake", seed=8)
    friend = seed_member(site.gateway, "pal", "Paul Pal")
    sign_in(page, author)
    page.goto(f"/posts/{post_id}")
    box = page.get_by_role("combobox", name="Add a comment")
    box.click()
    box.press_sequentially("look @" + friend.username, delay=20)
    listbox = page.get_by_role("listbox", name="Suggestions")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(box).to_have_value("look @" + friend.username)  # Escape changes nothing
    box.press("Backspace")
    expect(listbox).to_be_visible()
    expect(listbox.get_by_role("option").first).to_contain_text(f"@{friend.username}")
    box.press("Tab")
    expect(box).to_have_value(f"look @{friend.username} ")
    expect(box).to_be_focused()
    box.press("Enter")  # the list is closed: Enter sends the comment
    expect(page.locator("[data-comment]").first).to_contain_text(f"look @{friend.username}")


def test_likes_of_one_post_group_live_and_leaving_marks_every_one_read(
    page: Page, site: Site
) -> None:
    author = seed_member(site.gateway, "liked", "Lia Liked")
    post_id = author.post_photo("Morning fog", seed=9)
    fans = [seed_member(site.gateway, "fan", f"Fan {number}") for number in range(3)]
    for fan in fans[:2]:
        assert fan.call("POST", f"/posts/{post_id}/likes").status_code == 204
    sign_in(page, author)
    rows = page.locator("[data-notification]")
    for _ in range(40):
        page.goto("/notifications")
        if "Fan 0" in (rows.first.text_content() if rows.count() else ""):
            break
        page.wait_for_timeout(500)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Fan 1 and Fan 0 liked your post")
    expect(rows.first.locator(".notification-thumb img")).to_be_visible()

    # A third like arrives while the page is open: the group grows in place.
    assert fans[2].call("POST", f"/posts/{post_id}/likes").status_code == 204
    expect(rows.first).to_contain_text("Fan 2 and 2 others liked your post", timeout=EVENTUALLY_MS)
    expect(rows).to_have_count(1)
    expect(page.locator("[data-notification].is-unread")).to_have_count(1)

    # Leaving reads every like the row stands for, not only the newest.
    page.goto("/feed")
    expect(page.locator("[data-unread-dot]")).to_be_hidden(timeout=EVENTUALLY_MS)
    page.goto("/notifications")
    expect(page.locator("[data-notification].is-unread")).to_have_count(0)
