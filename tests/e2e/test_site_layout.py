"""Every page fits a 360 px phone with no horizontal scroll, in light and dark; and the
screenshots in docs/screenshots/ (desktop and 390 px, light and dark) come from here."""

from __future__ import annotations

import secrets
import time

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browsing import (
    Member,
    docs_screenshot,
    seed_member,
    seed_safety,
    set_theme,
    sign_in,
)
from tests.e2e.conftest import Site

pytestmark = pytest.mark.e2e
EVENTUALLY_MS = 20_000


def _seed(site: Site) -> tuple[Member, Member, str, str]:
    """Two friends with posts, a bio, likes, comments and notifications; returns the viewer,
    the friend, the friend's post and the hashtag they share."""
    tag = f"coast{secrets.token_hex(2)}"
    me = seed_member(site.gateway, "mara", "Mara Lindqvist")
    friend = seed_member(site.gateway, "theo", "Theo Okafor")
    friend.call(
        "PUT",
        "/users/me",
        json={
            "name": friend.name,
            "username": friend.username,
            "email": friend.email,
            "bio": "Chasing light with a tiny camera. #film",
        },
    )
    me.call("POST", f"/users/{friend.username}/follow")
    friend.call("POST", f"/users/{me.username}/follow")
    friend_post = ""
    for seed, caption in enumerate(
        (
            f"Golden hour at the #{tag} with @{me.username} https://example.com/a/very/long/path/that/never/breaks",
            f"Tide pools and a very long word: {'pneumonoultramicroscopic' * 2} #{tag}",
            "Morning fog over the harbour",
        )
    ):
        friend_post = friend.post_photo(caption, seed=70 + seed)
    my_post = me.post_photo(f"Morning coffee ritual #{tag}", seed=75)
    for number, name in enumerate(("Ines Moreau", "Kenji Watanabe", "Lena Fischer")):
        # Strangers with posts: "People to follow" has someone to show.
        stranger = seed_member(site.gateway, name.split()[0].lower(), name)
        stranger.post_photo(f"Weekend light #{tag}", seed=80 + number)
    friend.call("POST", f"/posts/{my_post}/likes")
    friend.call("POST", f"/posts/{my_post}/comments", json={"body": "What a lovely light ☕"})
    me.call("POST", f"/posts/{friend_post}/likes")
    me.call("POST", f"/posts/{friend_post}/comments", json={"body": "Take me there! #wanderlust"})
    return me, friend, friend_post, tag


def _pages(me: Member, friend_post: str, tag: str) -> tuple[tuple[str, str], ...]:
    return (
        ("/feed", "feed"),
        (f"/posts/{friend_post}", "post"),
        (f"/@{me.username}", "profile"),
        ("/search", "search-discovery"),
        (f"/search?q={me.username[:4]}", "search"),
        (f"/search?q={me.username[:4]}&tab=accounts", "search-accounts"),
        ("/notifications", "notifications"),
        ("/upload", "upload"),
        ("/settings", "settings"),
        ("/settings/profile", "settings-profile"),
        ("/settings/sessions", "settings-sessions"),
        (f"/tags/{tag}", "tag"),
    )


def _overflow(page: Page) -> int:
    return int(page.evaluate("() => document.documentElement.scrollWidth"))


def _widest(page: Page) -> list[str]:
    """The elements reaching past the viewport's right edge (for the failure message)."""
    return list(
        page.evaluate(
            """() => Array.from(document.querySelectorAll("body *"))
                .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
                .filter((e) => {
                    let up = e.parentElement;
                    for (; up && up !== document.body; up = up.parentElement) {
                        if (getComputedStyle(up).overflowX !== "visible") return false;
                    }
                    return true; // not clipped by a scroll row
                })
                .slice(0, 6)
                .map((e) => e.tagName.toLowerCase() + "." + String(e.className).split(" ")[0]
                    + " " + Math.round(e.getBoundingClientRect().right))"""
        )
    )


def _spills(page: Page) -> bool:
    """Whether something in the main column is wider than the column (a scroll row that
    scrolls inside it is fine)."""
    return bool(
        page.evaluate(
            "() => { const m = document.querySelector('main');"
            " return m.scrollWidth > m.clientWidth; }"
        )
    )


def _wait_for_notifications(me: Member) -> None:
    """Until the worker stored the three (asked through the API: leaving the notifications
    page would mark them read, and the screenshots show them new)."""
    for _ in range(40):
        if me.call("GET", "/notifications/unread-count").json()["count"] >= 3:
            return
        time.sleep(0.5)


def _wide_pages(page: Page, paths: list[str]) -> list[tuple[str, str, int, list[str]]]:
    """The paths that scroll sideways or spill out of the main column, per theme."""
    wide = []
    for path in paths:
        page.goto(path)
        expect(page.locator("main")).to_be_visible()
        for theme in ("light", "dark"):
            set_theme(page, theme)
            if _overflow(page) > 360 or _spills(page):
                wide.append((path, theme, _overflow(page), _widest(page)))
    return wide


def test_every_page_fits_360_px_in_both_themes(browser: Browser, site: Site) -> None:
    me, friend, friend_post, tag = _seed(site)
    safety = seed_safety(site.gateway, site.owner_database_url, me, friend, friend_post)
    phone = {"width": 360, "height": 740}
    wide: list[tuple[str, str, int, list[str]]] = []
    context = browser.new_context(base_url=site.url, viewport=phone)
    try:
        page = context.new_page()
        wide += _wide_pages(page, ["/login", "/register"])
        sign_in(page, me)
        _wait_for_notifications(me)
        pages = (*_pages(me, friend_post, tag), *safety.viewer_pages)
        wide += _wide_pages(page, [path for path, _ in pages])
    finally:
        context.close()
    # The moderation queue and follow requests are other accounts' pages.
    for member, their_pages in safety.others:
        context = browser.new_context(base_url=site.url, viewport=phone)
        try:
            page = context.new_page()
            sign_in(page, member)
            wide += _wide_pages(page, [path for path, _ in their_pages])
        finally:
            context.close()
    assert wide == [], "\n".join(map(str, wide))


@pytest.mark.parametrize(
    ("layout", "viewport"),
    [("desktop", {"width": 1280, "height": 900}), ("mobile", {"width": 390, "height": 844})],
)
def test_screenshots_for_the_docs(
    browser: Browser, site: Site, layout: str, viewport: dict[str, int]
) -> None:
    me, _, friend_post, tag = _seed(site)
    context = browser.new_context(base_url=site.url, viewport=viewport)
    try:
        page = context.new_page()
        sign_in(page, me)
        _wait_for_notifications(me)
        shots = {"feed", "post", "profile", "search-discovery", "search", "notifications", "tag"}
        for path, name in _pages(me, friend_post, tag):
            if name not in shots:
                continue
            page.goto(path)
            expect(page.locator("main")).to_be_visible()
            assert _overflow(page) <= viewport["width"], path
            assert not _spills(page), path
            docs_screenshot(page, f"{name}-{layout}")
    finally:
        context.close()
