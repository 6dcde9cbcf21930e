"""A person browsing briskly with the production rate limits on never meets a 429 or a 5xx
(issue 15): scroll a feed of 30 posts, open 30 posts and 10 profiles, search twice, all
within two minutes.

The other browser tests run with roomy limits (one client address for everything), so
this module starts its own copy of the HTTP functions, gateway and site with the
`Settings` defaults, on its own database. Seeding goes straight to the functions with a
distinct `X-Forwarded-For` per account (they trust the header, as behind the gateway),
and the feed rows are written in SQL, so no budget of the browsing person is spent on it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from playwright.sync_api import Browser, Response, expect

from phasma.db.connect import connect
from phasma.devstack.gateway import HttpUpstream, serve_gateways
from phasma.devstack.processes import start_all, start_frontend
from phasma.devstack.services import DependencyUrls, free_port
from phasma.devstack.stack import prepare
from phasma.registry import http_functions
from tests.e2e.browsing import new_identity, small_photo

pytestmark = pytest.mark.e2e

DATABASE = "phasma_e2e_realistic"
AUTHORS = 10
POSTS_PER_AUTHOR = 3  # 30 in all; three uploads each stay inside the `strict` burst of 5
SESSION_SECONDS = 120
# A person looks at each page for a moment; a script that opens 40 pages in 20 s is not a
# person, and is what the rate limit is for. One second still fits the whole walk into
# about half of the two minutes.
DWELL_MS = 1_000


@dataclass
class StrictSite:
    """The site and its functions, with the production rate limits."""

    url: str
    functions: dict[str, str]
    owner_database_url: str
    cache_url: str


@pytest.fixture(scope="module")
def strict_site(
    dependencies: DependencyUrls, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StrictSite]:
    admin = connect(dependencies.database_url)
    try:
        admin.run(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        admin.run(f"CREATE DATABASE {DATABASE}")
    finally:
        admin.close()
    owner_url = dependencies.database_url.rsplit("/", 1)[0] + f"/{DATABASE}"
    urls = DependencyUrls(
        database_url=owner_url,
        cache_url=dependencies.cache_url,
        kafka_brokers=dependencies.kafka_brokers,
        s3_endpoint=dependencies.s3_endpoint,
    )
    state_dir: Path = tmp_path_factory.mktemp("e2e-strict-stack")
    # The functions connect as the owner: creating the app login here would give the shared
    # `phasma_user` role a new password under the other browser tests' running stack.
    environment = prepare(urls, state_dir, {"DATABASE_URL": owner_url}, lambda line: None)
    logs = state_dir / "logs"
    running = start_all(http_functions(), environment, logs, lambda line: None)
    server, internal = serve_gateways({p.name: HttpUpstream(p.url) for p in running}, 0)
    frontend = start_frontend(
        f"http://127.0.0.1:{internal.server_port}", free_port(), logs, lambda line: None
    )
    try:
        yield StrictSite(
            frontend.url, {p.name: p.url for p in running}, owner_url, dependencies.cache_url
        )
    finally:
        frontend.stop()
        server.shutdown()
        internal.shutdown()
        for process in running:
            process.stop()


class Direct:
    """One account's calls straight to the owning functions, from its own address."""

    def __init__(self, site: StrictSite) -> None:
        self.site = site
        self.http = requests.Session()
        self.http.headers["X-Forwarded-For"] = f"198.51.100.{secrets.randbelow(250) + 1}"

    def call(self, function: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.http.request(method, self.site.functions[function] + path, timeout=30, **kwargs)


def seed_account(site: StrictSite, prefix: str) -> tuple[dict[str, str], Direct]:
    identity = new_identity(prefix)
    client = Direct(site)
    assert client.call("users", "POST", "/users", json=identity).status_code == 201
    login = {"email": identity["email"], "password": identity["password"]}
    assert client.call("sessions", "POST", "/sessions", json=login).status_code == 201
    return identity, client


def seed_post(author: Direct, description: str, seed: int) -> str:
    files = {"image": ("photo.jpg", small_photo(seed), "image/jpeg")}
    upload = author.call("uploads", "POST", "/uploads", files=files)
    assert upload.status_code == 201, upload.text
    body = {"filename": upload.json()["filename"], "description": description}
    created = author.call("posts", "POST", "/posts", json=body)
    assert created.status_code == 201, created.text
    return str(created.json()["publicId"])


def test_a_brisk_session_with_production_limits_never_sees_a_429_or_5xx(
    browser: Browser, strict_site: StrictSite
) -> None:
    reader, reader_api = seed_account(strict_site, "reader")
    authors: list[str] = []
    post_ids: list[str] = []
    for number in range(AUTHORS):
        author, author_api = seed_account(strict_site, f"author{number}")
        authors.append(author["username"])
        for index in range(POSTS_PER_AUTHOR):
            seed = number * POSTS_PER_AUTHOR + index
            post_ids.append(seed_post(author_api, f"walk {seed} #brisk", seed))
        followed = reader_api.call("follows", "POST", f"/users/{author['username']}/follow")
        assert followed.status_code in (200, 204), followed.text
    # The feed rows the feed worker would write (this stack runs no workers).
    database = connect(strict_site.owner_database_url)
    try:
        database.run(
            """
            INSERT INTO feed (user_id, post_id, created)
            SELECT f.follower_id, p.id, p.created
            FROM follows f JOIN posts p ON p.user_id = f.followee_id
            JOIN users r ON r.id = f.follower_id WHERE r.username = :reader
            ON CONFLICT DO NOTHING
            """,
            reader=reader["username"],
        )
        reader_id = database.run(
            "SELECT public_id::text FROM users WHERE username = :u", u=reader["username"]
        )[0][0]
    finally:
        database.close()

    context = browser.new_context(base_url=strict_site.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    refused: list[str] = []

    def watch(response: Response) -> None:
        if response.status == 429 or response.status >= 500:
            refused.append(f"{response.status} {response.request.method} {response.url}")

    context.on("response", watch)
    page = context.new_page()
    try:
        started = time.monotonic()
        page.goto("/login")
        page.get_by_label("Email").fill(reader["email"])
        page.get_by_label("Password", exact=True).fill(reader["password"])
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/feed")

        # Scroll the feed to its end: 30 cards over three pages of "Load More".
        cards = page.locator("article.post-card")
        for shown in (10, 20):
            expect(cards).to_have_count(shown)
            cards.last.scroll_into_view_if_needed()
            page.wait_for_timeout(DWELL_MS)
            page.get_by_role("link", name="Load More").click()
        expect(cards).to_have_count(30)
        page.mouse.wheel(0, 20_000)

        for post_id in post_ids:
            page.goto(f"/posts/{post_id}")
            expect(page.locator(f"#post-{post_id}")).to_be_visible()
            page.wait_for_timeout(DWELL_MS)
        for username in authors:
            page.goto(f"/@{username}")
            expect(page.locator(".thumb")).to_have_count(POSTS_PER_AUTHOR)
            page.wait_for_timeout(DWELL_MS)
        for query in ("brisk", authors[0]):
            page.goto(f"/search?q={query}")
            expect(page.locator("main")).to_be_visible()
            page.wait_for_timeout(DWELL_MS)
        page.wait_for_load_state("networkidle")
        elapsed = time.monotonic() - started
    finally:
        context.close()

    assert refused == []
    assert elapsed < SESSION_SECONDS, f"the session took {elapsed:.0f} s"
    # What it cost: the `read` bucket never ran dry (120 tokens, 2 a second).
    cache = redis.Redis.from_url(strict_site.cache_url)
    left = cache.hget(f"ratelimit:read:user:{reader_id}", "tokens")
    print(f"realistic session: {elapsed:.1f} s, read tokens left {float(left or 0):.0f}")
