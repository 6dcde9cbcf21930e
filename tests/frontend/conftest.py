"""Fixtures for the frontend's HTTP tests: the real API behind the gateway, the site in-process.

Every backend function runs in this process against the session's real PostgreSQL,
Redis, Kafka and S3 (as in tests/api); the frontend calls them over HTTP through
the internal gateway (`BACKEND_URL`), exactly as `./taskw up` wires it. Tests drive the site
with werkzeug's test client, like a browser that runs no JavaScript.
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from werkzeug.test import Client, TestResponse

from phasma.config import Settings
from phasma.devstack.services import DependencyUrls
from phasma.frontend.app import Frontend
from phasma.provisioning import create_bucket, create_topics
from phasma.topics import PARTITIONS
from tests.api.conftest import Bucket, Database, build_settings, migrated_database, start_api

ORIGIN = "https://frontend.test"
BUCKET = "phasma-frontend-tests"


@dataclass
class SiteStack:
    """The site and the API it calls."""

    frontend: Frontend
    api_url: str
    api_settings: Settings
    owner_url: str


@pytest.fixture(scope="session")
def site_stack(dependencies: DependencyUrls, template_database: str) -> Iterator[SiteStack]:
    owner_url, app_url = migrated_database(dependencies, template_database, "phasma_frontend_tests")
    settings = build_settings(app_url, dependencies, s3_bucket=BUCKET)
    create_bucket(
        settings.s3_endpoint,
        BUCKET,
        settings.s3_access_key or "",
        settings.s3_secret_key or "",
        settings.s3_region,
    )
    create_topics(dependencies.kafka_brokers, PARTITIONS)
    api = start_api(settings)
    frontend = Frontend(site_settings(backend_url=api.internal_url))
    yield SiteStack(frontend, api.url, settings, owner_url)
    frontend.backend.close()
    api.stop()


def site_settings(**overrides: Any) -> Settings:
    """Frontend settings for the tests: the public origin is https, as in production."""
    values: dict[str, Any] = {"public_origin": ORIGIN, "backend_timeout_seconds": 5}
    values.update(overrides)
    return Settings(_env_file=None, **values)


class Visitor:
    """A browser without JavaScript: a cookie jar, and same-origin form posts."""

    def __init__(self, frontend: Frontend) -> None:
        self.frontend = frontend
        self.client = Client(frontend.wsgi_app)
        # Each browser has its own address, so login-throttle counters stay apart.
        self.address = f"2001:db8:f::{secrets.token_hex(2)}:{secrets.token_hex(2)}"

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        kwargs.setdefault("environ_base", self._environ())
        return self.client.get(path, base_url=ORIGIN, **kwargs)

    def post(
        self,
        path: str,
        *,
        origin: str | None = ORIGIN,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> TestResponse:
        sent = dict(headers or {})
        if origin is not None:
            sent.setdefault("Origin", origin)
        kwargs.setdefault("environ_base", self._environ())
        return self.client.post(path, base_url=ORIGIN, headers=sent, **kwargs)

    def _environ(self) -> dict[str, str]:
        return {"REMOTE_ADDR": self.address}

    def fetch(self, path: str, **kwargs: Any) -> TestResponse:
        """A script's same-origin POST that wants JSON back."""
        return self.post(path, headers={"Accept": "application/json"}, **kwargs)

    @property
    def session_token(self) -> str | None:
        cookie = self.client.get_cookie("session", domain="frontend.test")
        return cookie.value if cookie else None


def identity(prefix: str = "site") -> dict[str, str]:
    suffix = secrets.token_hex(4)
    return {
        "name": f"Site User {suffix}",
        "username": f"{prefix}_{suffix}",
        "email": f"{prefix}_{suffix}@example.com",
        "password": f"correct horse {suffix}",
    }


@dataclass
class Member:
    """A registered account and a visitor signed in as it."""

    name: str
    username: str
    email: str
    password: str
    visitor: Visitor


@pytest.fixture
def visitor(site_stack: SiteStack) -> Visitor:
    return Visitor(site_stack.frontend)


@pytest.fixture
def sign_up(site_stack: SiteStack):
    """Register through the site's form and stay signed in: `sign_up()` -> Member."""

    def make(prefix: str = "site") -> Member:
        details = identity(prefix)
        visitor = Visitor(site_stack.frontend)
        response = visitor.post("/register", data=details)
        assert response.status_code == 303, response.get_data(as_text=True)
        return Member(visitor=visitor, **details)

    return make


@pytest.fixture
def member(sign_up) -> Member:
    return sign_up()


@pytest.fixture
def database(site_stack: SiteStack) -> Database:
    return Database(site_stack.owner_url)


@pytest.fixture(scope="session")
def bucket(site_stack: SiteStack) -> Bucket:
    return Bucket(site_stack.api_settings)


def text_of(response: TestResponse) -> str:
    """The page's visible text, tags dropped and whitespace collapsed (for copy checks)."""
    page = response.get_data(as_text=True)
    page = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))


def alert_of(response: TestResponse) -> str | None:
    """The text of the page's error box, if it shows one."""
    page = response.get_data(as_text=True)
    match = re.search(r'<div class="error-box" role="alert">(.*?)</div>', page, re.S)
    if match is None:
        return None
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split()))
