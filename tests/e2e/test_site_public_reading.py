"""A signed-out visitor follows a shared post link (issue 19, docs/api.md §F public reading):
photo, caption and comments without an account, prompts instead of actions, a link
preview, and logging in brings them back to the post."""

from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.e2e.browsing import assert_accessible, screenshot, seed_member
from tests.e2e.conftest import Site

pytestmark = pytest.mark.e2e


def test_a_signed_out_visitor_reads_a_post_link(page: Page, site: Site, axe: str) -> None:
    author = seed_member(site.gateway, "sharer", "Shay Sharer")
    post_id = author.post_photo('Harbour lights "after rain" #sunset', seed=41)
    fan = seed_member(site.gateway, "commenter")
    comment = fan.call("POST", f"/posts/{post_id}/comments", json={"body": "Gorgeous colours"})
    assert comment.status_code == 201
    assert fan.call("POST", f"/users/{author.username}/follow").status_code == 204
    # Any failed request (a 401 from a session-only call) is a console error too.
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", on_console)

    page.goto(f"/posts/{post_id}")
    assert page.url == f"{site.url}/posts/{post_id}"  # read, never sent to /login
    card = page.locator(f"#post-{post_id}")
    photo = card.locator("img.post-image")
    expect(photo).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=photo.element_handle()
    )
    expect(card.locator(".caption")).to_contain_text('Harbour lights "after rain"')
    expect(page.locator("#comment-list")).to_contain_text("Gorgeous colours")
    prompt = page.locator(".comments-signed-out")
    expect(prompt).to_have_text("Log in or sign up to comment.")
    expect(page.locator("form.composer")).to_have_count(0)
    expect(prompt.get_by_role("link", name="sign up")).to_have_attribute(
        "href", f"/register?next=/posts/{post_id}"
    )
    navbar = page.get_by_role("navigation", name="Main")
    expect(navbar.get_by_role("link", name="Log In")).to_be_visible()
    expect(navbar.get_by_role("link", name="Register")).to_be_visible()

    # The link preview: the photo by its absolute address, which the site serves.
    image = page.locator('meta[property="og:image"]').get_attribute("content")
    assert image is not None and image.startswith(f"{site.url}/uploads/")
    preview = page.request.get(image)
    assert preview.status == 200 and preview.headers["content-type"] == "image/jpeg"
    expect(page.locator('link[rel="canonical"]')).to_have_attribute(
        "href", f"{site.url}/posts/{post_id}"
    )
    expect(page.locator('meta[name="twitter:card"]')).to_have_attribute(
        "content", "summary_large_image"
    )
    assert_accessible(page, axe)
    screenshot(page, "wide-post-signed-out")

    # The author's profile and followers read signed out too.
    card.locator(".post-author").click()
    page.wait_for_url(f"**/@{author.username}")
    expect(page.locator('meta[property="og:type"]')).to_have_attribute("content", "profile")
    page.locator("[data-follower-stat]").click()
    page.wait_for_url(f"**/@{author.username}/followers")
    expect(page.locator("#connection-list")).to_contain_text(f"@{fan.username}")
    assert_accessible(page, axe)

    # Liking asks to log in first, and logging in comes back to the post.
    page.goto(f"/posts/{post_id}")
    card.locator(".like-button").click()
    page.wait_for_url(f"**/login?next=/posts/{post_id}")
    page.get_by_label("Email").fill(fan.email)
    page.get_by_label("Password", exact=True).fill(fan.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**/posts/{post_id}")
    expect(page.locator("form.composer")).to_be_visible()
    expect(card.locator("[data-like-button]")).to_have_attribute("aria-pressed", "false")
    assert errors == []
