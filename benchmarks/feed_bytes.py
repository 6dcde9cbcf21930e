"""Bytes of a cold feed of 10 photos, before and after responsive renditions (issue 15).

    .venv/bin/python -m benchmarks.feed_bytes

It starts its own embedded stack, every HTTP function in its own process behind the
gateway and the `frontend` function (as `./taskw up` does), registers one member and
posts 10 photo-like JPEGs through `POST /uploads` (7 landscape 1600 x 1200 and 3
portrait 1200 x 1600, 0.4-0.9 MB each, as a phone's export is after the site's
client-side resize). Then, in headless Chromium (`/usr/bin/chromium`, driven by
Playwright), each viewport loads `/feed` with an empty cache, scrolls to the end so
every lazy photo loads, and sums the bytes of every response the page received (the
HTML document, images, styles and scripts: headers and bodies as transferred):

- phone:   390 x 844 CSS px at a device pixel ratio of 2;
- desktop: 1280 x 900 CSS px at 1.

"Before" is the feed as it was: the posts list no renditions (as if made before
migration 0013), so the site offers the originals only. "After" is the same feed once
`python -m phasma.media.backfill` (`./taskw media:backfill-renditions`) has made them,
so each photo carries `srcset` and `sizes` and Chromium picks its own candidate.
Target: at least 50 % fewer bytes.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import requests
from PIL import Image
from playwright.sync_api import Browser, Page, Response, sync_playwright

from benchmarks.harness import Stack, embedded_stack, report_progress
from benchmarks.reencode import photo_like_jpeg
from phasma.db.connect import connect
from phasma.devstack.gateway import Gateway, HttpUpstream, serve
from phasma.devstack.processes import REPOSITORY_ROOT, start_all, start_frontend
from phasma.devstack.services import free_port
from phasma.registry import http_functions

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
MEMBER = {
    "name": "Bench Photographer",
    "username": "bench_photos",
    "email": "photos@example.com",
    "password": "benchmark password",
}
POSTS = 10
PORTRAITS = {2, 5, 8}  # which of the 10 photos are upright
# (label, CSS viewport, device pixel ratio)
VIEWPORTS = (("phone 390 px @2x", (390, 844), 2), ("desktop 1280 px @1x", (1280, 900), 1))


@dataclass
class Load:
    """What one cold load of the feed transferred, by kind, and the photos it chose."""

    by_kind: dict[str, int] = field(default_factory=dict)
    photos: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())


def portrait(data: bytes) -> bytes:
    """The 1600 x 1200 photo turned upright, re-saved as a camera app would (quality 90)."""
    buffer = io.BytesIO()
    Image.open(io.BytesIO(data)).rotate(90, expand=True).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def seed(gateway: str) -> list[str]:
    """Register the member and post the 10 photos over HTTP; the uploads' filenames."""
    session = requests.Session()
    assert session.post(f"{gateway}/users", json=MEMBER, timeout=30).status_code == 201
    login = {"email": MEMBER["email"], "password": MEMBER["password"]}
    assert session.post(f"{gateway}/sessions", json=login, timeout=30).status_code == 201
    filenames = []
    for index in range(POSTS):
        data = photo_like_jpeg(seed=100 + index)
        if index in PORTRAITS:
            data = portrait(data)
        files = {"image": ("photo.jpg", data, "image/jpeg")}
        upload = session.post(f"{gateway}/uploads", files=files, timeout=60)
        assert upload.status_code == 201, upload.text
        filename = upload.json()["filename"]
        created = session.post(
            f"{gateway}/posts", json={"filename": filename, "description": f"photo {index}"}
        )
        assert created.status_code == 201, created.text
        filenames.append(filename)
        report_progress(f"posted {index + 1}/{POSTS} ({len(data):,} bytes uploaded)")
    return filenames


def forget_renditions(owner_url: str) -> None:
    """Make every post look as it did before renditions existed (the backfill's input)."""
    connection = connect(owner_url)
    try:
        connection.run("UPDATE posts SET renditions = NULL")
    finally:
        connection.close()


def run_backfill(stack: Stack) -> None:
    """`./taskw media:backfill-renditions`, as an operator runs it, against this stack."""
    completed = subprocess.run(
        [sys.executable, "-m", "phasma.media.backfill"],
        env={**os.environ, **stack.environment},
        cwd=REPOSITORY_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    report_progress(f"backfill: {completed.stdout.strip()}")


def signed_in_state(browser: Browser, site: str) -> dict:
    """The member's cookies after the login form, to start cold contexts signed in."""
    context = browser.new_context(base_url=site)
    try:
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Email").fill(MEMBER["email"])
        page.get_by_label("Password", exact=True).fill(MEMBER["password"])
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/feed")
        state = context.storage_state()
    finally:
        context.close()
    return {"cookies": state["cookies"], "origins": []}


def load_feed(
    browser: Browser, site: str, state: dict, viewport: tuple[int, int], dpr: int
) -> Load:
    """One cold load of `/feed`, scrolled to the end; every response's transferred bytes."""
    width, height = viewport
    context = browser.new_context(
        base_url=site,
        storage_state=state,
        viewport={"width": width, "height": height},
        device_scale_factor=dpr,
    )
    load = Load()
    responses: list[Response] = []
    try:
        page = context.new_page()
        page.on("response", lambda response: responses.append(response))
        page.goto("/feed", wait_until="load")
        scroll_to_the_end(page)
        load.photos = page.eval_on_selector_all(
            "img.post-image", "(images) => images.map((image) => image.currentSrc)"
        )
        for response in responses:
            sizes = response.request.sizes()
            kind = response.request.resource_type
            transferred = sizes["responseHeadersSize"] + sizes["responseBodySize"]
            load.by_kind[kind] = load.by_kind.get(kind, 0) + transferred
    finally:
        context.close()
    assert len(load.photos) == POSTS, load.photos
    return load


def scroll_to_the_end(page: Page) -> None:
    """Scroll a screen at a time, as a reader would, until every photo has loaded."""
    page.evaluate(
        """async () => {
            const pause = (ms) => new Promise((done) => setTimeout(done, ms));
            while (window.scrollY + window.innerHeight < document.body.scrollHeight) {
                window.scrollBy(0, window.innerHeight);
                await pause(150);
            }
            const photos = Array.from(document.querySelectorAll("img.post-image"));
            await Promise.all(photos.map((image) => image.complete ? null
                : new Promise((done) => { image.onload = image.onerror = done; })));
        }"""
    )


@contextmanager
def running_site(stack: Stack) -> Iterator[tuple[str, str]]:
    """Every HTTP function, the gateway and the frontend: (site URL, gateway URL)."""
    running = start_all(http_functions(), stack.environment, stack.log_dir, report_progress)
    server = serve(Gateway({p.name: HttpUpstream(p.url) for p in running}), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    gateway = f"http://127.0.0.1:{server.server_port}"
    frontend = start_frontend(gateway, free_port(), stack.log_dir, report_progress)
    try:
        yield frontend.url, gateway
    finally:
        frontend.stop()
        server.shutdown()
        for process in running:
            process.stop()


def describe(load: Load) -> str:
    kinds = ", ".join(f"{kind} {size / 1000:,.0f}" for kind, size in sorted(load.by_kind.items()))
    chosen: dict[str, int] = {}
    for source in load.photos:
        candidate = source.rsplit("?", 1)[1] if "?" in source else "original"
        chosen[candidate] = chosen.get(candidate, 0) + 1
    picks = ", ".join(f"{count} x {candidate}" for candidate, count in sorted(chosen.items()))
    return f"{load.total / 1000:>9,.0f} kB  ({kinds} kB; photos: {picks})"


def main() -> None:
    with embedded_stack("feed-bytes") as stack, running_site(stack) as (site, gateway):
        seed(gateway)
        forget_renditions(stack.urls.database_url)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                state = signed_in_state(browser, site)
                before = {
                    label: load_feed(browser, site, state, viewport, dpr)
                    for label, viewport, dpr in VIEWPORTS
                }
                run_backfill(stack)
                after = {
                    label: load_feed(browser, site, state, viewport, dpr)
                    for label, viewport, dpr in VIEWPORTS
                }
            finally:
                browser.close()
    print(f"\ncold /feed of {POSTS} photos, bytes transferred (headers + bodies)")
    for label, _, _ in VIEWPORTS:
        saved = 1 - after[label].total / before[label].total
        print(f"  {label}")
        print(f"    before {describe(before[label])}")
        print(f"    after  {describe(after[label])}")
        print(f"    {saved:.0%} fewer bytes (target >= 50 %)")


if __name__ == "__main__":
    sys.exit(main())
