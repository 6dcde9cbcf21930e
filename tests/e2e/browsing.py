"""Helpers for the end-to-end tests: the browser, accessibility checks, screenshots, seeding.

Chromium is Debian's (`/usr/bin/chromium`), driven by Playwright with
`executable_path`; Playwright never downloads a browser here. axe-core comes
from the npm registry into a cache folder outside the repository.
"""

from __future__ import annotations

import io
import os
import random
import secrets
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from PIL import Image, ImageDraw, ImageFilter
from playwright.sync_api import Page

from phasma.config import Settings
from phasma.moderation import grant

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
AXE_VERSION = "4.14.1"
AXE_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "phasma-e2e"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
# Impacts that fail a page; "minor" and "moderate" findings are reported, not fatal.
BLOCKING_IMPACTS = ("serious", "critical")
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def ensure_chromium() -> None:
    """Install Debian's `chromium` when it is missing (needs root and apt)."""
    if CHROMIUM.exists():
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise RuntimeError("Debian's chromium is missing: apt-get install -y chromium")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=environment)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=environment)


def axe_source() -> str:
    """`axe.min.js` of the pinned axe-core, packed from the npm registry once per machine."""
    target = AXE_CACHE / f"axe-core-{AXE_VERSION}.min.js"
    if not target.exists():
        AXE_CACHE.mkdir(parents=True, exist_ok=True)
        packed = (
            subprocess.run(
                ["npm", "pack", f"axe-core@{AXE_VERSION}", "--pack-destination", str(AXE_CACHE)],
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        with tarfile.open(AXE_CACHE / packed) as archive:
            member = archive.extractfile("package/axe.min.js")
            assert member is not None
            target.write_bytes(member.read())
        (AXE_CACHE / packed).unlink()
    return target.read_text()


def accessibility_violations(page: Page, source: str) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now.

    The script is evaluated through the DevTools protocol, which the page's CSP does
    not govern, so the site's own policy stays exactly as served.
    """
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(source)
    results = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
            }));
        }""",
        WCAG_TAGS,
    )
    return [violation for violation in results if violation["impact"] in BLOCKING_IMPACTS]


def assert_accessible(page: Page, source: str) -> None:
    violations = accessibility_violations(page, source)
    assert violations == [], f"{page.url}: {violations}"


# The page background (`--base-200`) of each theme, as the browser computes it.
PAGE_BACKGROUNDS = {"light": "rgb(241, 245, 249)", "dark": "rgb(21, 29, 48)"}


def assert_accessible_in_both_themes(page: Page, source: str) -> None:
    """axe-core on the page in light, then in dark, each checked to be really showing
    (the page background is that theme's) before the audit measures any contrast."""
    for theme in ("light", "dark"):
        set_theme(page, theme)
        background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert background == PAGE_BACKGROUNDS[theme], f"{page.url} is not {theme}: {background}"
        violations = accessibility_violations(page, source)
        assert violations == [], f"{page.url} ({theme}): {violations}"


def load_images(page: Page) -> None:
    """Load every lazy image now, so a full-page screenshot shows them all."""
    page.evaluate(
        """async () => {
            const images = Array.from(document.images);
            images.forEach((image) => { image.loading = "eager"; });
            await Promise.all(images.map((image) => image.complete ? null
                : new Promise((done) => { image.onload = image.onerror = done; })));
        }"""
    )


def screenshot(page: Page, name: str) -> None:
    """Save the page in light and dark under tests/artifacts/, then leave it in the theme
    it was in, so an audit after the shots still sees the theme it set."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    load_images(page)
    was_dark = page.evaluate("() => matchMedia('(prefers-color-scheme: dark)').matches")
    was_theme = page.evaluate("() => document.documentElement.dataset.theme")
    for theme in ("light", "dark"):
        set_theme(page, theme)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{theme}.png"), full_page=True)
    page.emulate_media(color_scheme="dark" if was_dark else "light")
    page.evaluate("(theme) => { document.documentElement.dataset.theme = theme; }", was_theme)
    page.wait_for_timeout(400)  # colour transitions end before anything measures contrast


DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def set_theme(page: Page, theme: str) -> None:
    """Show the page in `theme` for certain: the OS preference and the page's own
    `data-theme` both say it (a saved theme cookie would otherwise win)."""
    page.emulate_media(color_scheme=theme)
    page.evaluate("(theme) => { document.documentElement.dataset.theme = theme; }", theme)
    page.wait_for_timeout(250)  # colour transitions end


def docs_screenshot(page: Page, name: str) -> None:
    """The viewport in light and dark as `docs/screenshots/<name>-<theme>.png`, reduced to a
    256-colour palette so the committed files stay small."""
    DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    load_images(page)
    for theme in ("light", "dark"):
        set_theme(page, theme)
        image = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
        # The palette from an octree keeps small UI colours; dithering against it keeps
        # soft shadows soft instead of banded.
        palette = image.quantize(colors=256, method=Image.Quantize.FASTOCTREE)
        reduced = image.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG)
        reduced.save(DOCS_SCREENSHOTS / f"{name}-{theme}.png", optimize=True)
    set_theme(page, "light")


def photo(width: int = 2400, height: int = 1800, seed: int | None = None) -> bytes:
    """A landscape-like JPEG: a sky gradient, a sun, layered hills and film grain. At the
    default size it is a few MB, so the browser has real resizing to do."""
    generator = random.Random(seed)
    palettes = [
        ((255, 183, 94), (255, 94, 98), (74, 40, 99)),
        ((137, 207, 240), (64, 120, 200), (24, 52, 88)),
        ((255, 222, 173), (240, 128, 128), (60, 60, 110)),
        ((180, 236, 220), (70, 160, 150), (20, 70, 70)),
    ]
    top, middle, ground = palettes[generator.randrange(len(palettes))]
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):
        share = y / height
        colour = tuple(int(a + (b - a) * share) for a, b in zip(top, middle, strict=True))
        draw.line([(0, y), (width, y)], fill=colour)
    sun_x, sun_y = generator.uniform(0.2, 0.8) * width, generator.uniform(0.25, 0.45) * height
    radius = min(width, height) * generator.uniform(0.07, 0.12)
    draw.ellipse(
        [sun_x - radius, sun_y - radius, sun_x + radius, sun_y + radius], fill=(255, 244, 214)
    )
    for layer in range(3):
        base = height * (0.55 + 0.12 * layer)
        shade = tuple(int(c * (1 - 0.18 * (2 - layer))) for c in ground)
        points = [(0, height)]
        for step in range(9):
            points.append((width * step / 8, base - generator.uniform(0, height * 0.12)))
        points.append((width, height))
        draw.polygon(points, fill=shade)
    image = image.filter(ImageFilter.GaussianBlur(radius=max(1, width // 400)))
    grain = Image.effect_noise((width, height), 40).convert("RGB")
    image = Image.blend(image, grain, 0.08)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def small_photo(seed: int | None = None) -> bytes:
    """A JPEG well under the 1 MB limit (for the no-JavaScript path and API seeding)."""
    return photo(900, 900, seed)


@dataclass
class Member:
    """A registered account, with an API session on the gateway for quick seeding."""

    name: str
    username: str
    email: str
    password: str
    api: requests.Session
    gateway: str

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.api.request(method, self.gateway + path, timeout=30, **kwargs)

    def post_photo(self, description: str, seed: int | None = None) -> str:
        """Upload a photo and post it; the new post's public id."""
        upload = self.call(
            "POST", "/uploads", files={"image": ("photo.jpg", small_photo(seed), "image/jpeg")}
        )
        assert upload.status_code == 201, upload.text
        created = self.call(
            "POST",
            "/posts",
            json={"filename": upload.json()["filename"], "description": description},
        )
        assert created.status_code == 201, created.text
        return str(created.json()["publicId"])


def new_identity(prefix: str = "user") -> dict[str, str]:
    suffix = secrets.token_hex(4)
    return {
        "name": f"{prefix.title()} {suffix}",
        "username": f"{prefix}_{suffix}",
        "email": f"{prefix}_{suffix}@example.com",
        "password": f"correct horse {suffix}",
    }


def seed_member(gateway: str, prefix: str = "user", name: str | None = None) -> Member:
    """Register and log in an account through the API (faster than the browser)."""
    identity = new_identity(prefix)
    if name:
        identity["name"] = name
    api = requests.Session()
    assert api.post(f"{gateway}/users", json=identity, timeout=30).status_code == 201
    login = {"email": identity["email"], "password": identity["password"]}
    assert api.post(f"{gateway}/sessions", json=login, timeout=30).status_code == 201
    return Member(api=api, gateway=gateway, **identity)


def sign_in(page: Page, member: Member) -> None:
    """Log in through the login form."""
    page.goto("/login")
    page.get_by_label("Email").fill(member.email)
    page.get_by_label("Password", exact=True).fill(member.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/feed")


Pages = tuple[tuple[str, str], ...]


@dataclass
class SafetyScene:
    """The safety pages of issue 18 with something on them: the viewer's (Settings → Blocked
    and muted accounts, the report form, the block and mute confirmations, a private
    profile), then other accounts' (the moderation queue, follow requests)."""

    viewer_pages: Pages
    others: tuple[tuple[Member, Pages], ...]


def seed_safety(
    gateway: str, owner_database_url: str, viewer: Member, friend: Member, friend_post: str
) -> SafetyScene:
    """A blocked and a muted account for `viewer`, an open report in the queue of a
    moderator of its own (the viewer's navigation stays a member's), and a private account
    `viewer` asked to follow."""
    blocked = seed_member(gateway, "blocked", "Bruno Blocked")
    spam = blocked.post_photo("Cheap followers, click here", seed=91)
    assert viewer.call("PUT", f"/users/{blocked.username}/block").status_code == 204
    muted = seed_member(gateway, "muted", "Mona Muted")
    assert viewer.call("PUT", f"/users/{muted.username}/mute").status_code == 204
    reported = friend.call(
        "POST",
        "/reports",
        json={"subjectType": "post", "subjectId": spam, "reason": "spam", "note": "a bot"},
    )
    assert reported.status_code == 201, reported.text
    moderator = seed_member(gateway, "moderator", "Maya Moderator")
    assert (
        grant.main([moderator.username], Settings(_env_file=None, database_url=owner_database_url))
        == 0
    )
    private = seed_member(gateway, "quiet", "Quinn Quiet")
    private.post_photo("Only for friends", seed=92)
    made_private = private.call(
        "PUT",
        "/users/me",
        json={
            "name": private.name,
            "username": private.username,
            "email": private.email,
            "private": True,
        },
    )
    assert made_private.status_code == 204, made_private.text
    requested = viewer.call("POST", f"/users/{private.username}/follow")
    assert requested.status_code == 202, requested.text
    return SafetyScene(
        viewer_pages=(
            ("/settings/blocked", "settings-blocked"),
            (f"/reports/new?type=post&id={friend_post}&next=/posts/{friend_post}", "report"),
            (f"/@{friend.username}/block?next=/feed", "block"),
            (f"/@{friend.username}/mute?next=/feed", "mute"),
            (f"/@{private.username}", "profile-private"),
        ),
        others=(
            (
                moderator,
                (("/moderation", "moderation"), ("/moderation?status=closed", "moderation-closed")),
            ),
            (private, (("/notifications", "notifications-follow-requests"),)),
        ),
    )
