"""Fixtures for API tests: every HTTP function hosted in this process behind the gateway.

The functions talk to the real PostgreSQL, Redis, Kafka and S3 of the session's
stack; only the hosting differs from `./taskw up` (see tests/processes for that).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pg8000.native
import pytest
import requests
from cloudevents.http import CloudEvent
from requests.adapters import HTTPAdapter
from werkzeug.serving import BaseWSGIServer
from werkzeug.test import Client, TestResponse

from phasma.config import Settings
from phasma.db.connect import connect
from phasma.db.migrations import ensure_login_user
from phasma.devstack.gateway import serve_gateways
from phasma.devstack.services import DependencyUrls
from phasma.devstack.stack import with_credentials
from phasma.events.cloudevents import to_http
from phasma.events.worker import EventFunction
from phasma.http.pipeline import HttpFunction
from phasma.provisioning import APP_DATABASE_USER, create_bucket, create_topics
from phasma.registry import get_function, http_functions
from phasma.runtime import Runtime
from phasma.topics import PARTITIONS
from tests.databases import database_from_template

# Generous buckets so ordinary tests never trip the limiter; the limiter's own
# tests build functions with the spec's defaults.
ROOMY_LIMITS = {
    f"rate_limit_{policy}_{field}": value
    for policy in ("strict", "typeahead", "read", "mutation", "media")
    for field, value in (("burst", 100_000), ("rate", 1000))
}
API_TESTS_BUCKET = "phasma-api-tests"


@dataclass
class ApiStack:
    """Where the API listens and how to reach its database as the owner."""

    base_url: str
    admin_url: str
    settings: Settings
    functions: dict[str, HttpFunction]


@dataclass
class StartedApi:
    """Every HTTP function in this process behind both gateways, as ./taskw up runs them."""

    url: str  # the API origin: X-Forwarded-For replaced with the peer
    internal_url: str  # the frontend's way in: the frontend's X-Forwarded-For kept
    functions: dict[str, HttpFunction]
    servers: tuple[BaseWSGIServer, BaseWSGIServer]

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
        for function in self.functions.values():
            function.runtime.close()


def start_api(settings: Settings) -> StartedApi:
    """Host every HTTP function behind the gateways on free ports."""
    functions = {
        function.name: HttpFunction(function, Runtime(function, settings))
        for function in http_functions()
    }
    servers = serve_gateways({name: f.wsgi_app for name, f in functions.items()}, 0)
    edge, internal = servers
    return StartedApi(
        f"http://127.0.0.1:{edge.server_port}",
        f"http://127.0.0.1:{internal.server_port}",
        functions,
        servers,
    )


def build_settings(app_url: str, dependencies: DependencyUrls, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": app_url,
        "cache_url": dependencies.cache_url,
        "kafka_brokers": dependencies.kafka_brokers,
        "s3_endpoint": dependencies.s3_endpoint,
        "s3_bucket": API_TESTS_BUCKET,
        # The local SeaweedFS accepts any key; an S3 named by the environment needs its own.
        "s3_access_key": os.environ.get("S3_ACCESS_KEY", "phasma-tests"),
        "s3_secret_key": os.environ.get("S3_SECRET_KEY", "phasma-tests"),
        "session_hash_secret": secrets.token_hex(32),
        "trusted_proxy_hops": 1,  # behind the gateway, as with ./taskw up
        "argon_max_concurrency": 4,
        **ROOMY_LIMITS,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def migrated_database(dependencies: DependencyUrls, template: str, name: str) -> tuple[str, str]:
    """A new, migrated database called `name`, copied from `template`: (owner URL, app-role URL)."""
    owner_url = database_from_template(dependencies.database_url, template, name)
    password = secrets.token_hex(16)
    ensure_login_user(owner_url, APP_DATABASE_USER, password, "phasma_app")
    return owner_url, with_credentials(owner_url, APP_DATABASE_USER, password)


@pytest.fixture(scope="session")
def api_database(dependencies: DependencyUrls, template_database: str) -> tuple[str, str]:
    """A migrated database for the API tests: (owner URL, app-role URL)."""
    return migrated_database(dependencies, template_database, "phasma_api_tests")


@pytest.fixture(scope="session")
def api_stack(api_database: tuple[str, str], dependencies: DependencyUrls) -> Iterator[ApiStack]:
    owner_url, app_url = api_database
    settings = build_settings(app_url, dependencies)
    create_bucket(
        settings.s3_endpoint,
        settings.s3_bucket,
        settings.s3_access_key or "",
        settings.s3_secret_key or "",
        settings.s3_region,
    )
    # Mutations publish their events after commit; topics are never auto-created.
    create_topics(dependencies.kafka_brokers, PARTITIONS)
    api = start_api(settings)
    yield ApiStack(api.url, owner_url, settings, api.functions)
    api.stop()


class SourceAddressAdapter(HTTPAdapter):
    """Connections from one loopback address of 127.0.0.0/8 (all of it reaches `lo`)."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def loopback_address() -> str:
    """A random address of 127.0.0.0/8 other than 127.0.0.1."""
    return f"127.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{2 + secrets.randbelow(253)}"


class Api:
    """A browser-like client of the API: its own cookie jar and client IP."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()
        # A distinct client address per client keeps rate-limit and throttle buckets apart.
        # The gateway replaces X-Forwarded-For with the peer it saw, so the address is
        # the connection's own source, as for a real client.
        self.ip = loopback_address()
        self.http.mount("http://", SourceAddressAdapter(self.ip))

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.http.request(method, self.base_url + path, timeout=30, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    @property
    def session_token(self) -> str | None:
        return self.http.cookies.get("session")


@dataclass
class Account:
    """A registered user and a client signed in as them."""

    name: str
    username: str
    email: str
    password: str
    client: Api


def new_identity() -> dict[str, str]:
    suffix = secrets.token_hex(5)
    return {
        "name": f"Test User {suffix}",
        "username": f"user_{suffix}",
        "email": f"user_{suffix}@example.com",
        "password": f"correct horse {suffix}",
    }


@pytest.fixture
def api(api_stack: ApiStack) -> Api:
    """An anonymous client."""
    return Api(api_stack.base_url)


@pytest.fixture
def make_account(api_stack: ApiStack):
    """Register and log in a fresh user: `make_account()` -> Account."""

    def make() -> Account:
        identity = new_identity()
        client = Api(api_stack.base_url)
        assert client.post("/users", json=identity).status_code == 201
        login = {"email": identity["email"], "password": identity["password"]}
        assert client.post("/sessions", json=login).status_code == 201
        return Account(client=client, **identity)

    return make


@pytest.fixture
def account(make_account) -> Account:
    return make_account()


class Database:
    """Owner access to the API tests' database, for asserting what was (not) written."""

    def __init__(self, url: str) -> None:
        self._url = url

    def rows(self, sql: str, **params: Any) -> list[list[Any]]:
        connection: pg8000.native.Connection = connect(self._url)
        try:
            return connection.run(sql, **params) or []
        finally:
            connection.close()

    def value(self, sql: str, **params: Any) -> Any:
        rows = self.rows(sql, **params)
        return rows[0][0] if rows else None

    def counts(self, *tables: str) -> dict[str, int]:
        """Row counts of `tables` (the names are fixed in tests, never user input)."""
        return {table: self.value(f"SELECT count(*) FROM {table}") for table in tables}

    def every_count(self) -> dict[str, int]:
        """Row counts of every table of the schema, read in one statement."""
        connection: pg8000.native.Connection = connect(self._url)
        try:
            tables = [
                name
                for [name] in connection.run(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
                )
            ]
            # The names come from the catalogue, quoted as identifiers.
            counts = ", ".join(f'(SELECT count(*) FROM "{table}")' for table in tables)
            [row] = connection.run(f"SELECT {counts}")
        finally:
            connection.close()
        return dict(zip(tables, row, strict=True))


def direct(api_stack: ApiStack, function: str) -> Client:
    """Call one function without the gateway, as the frontend does inside the cluster."""
    return Client(api_stack.functions[function].wsgi_app)


@pytest.fixture
def database(api_stack: ApiStack) -> Database:
    return Database(api_stack.admin_url)


@pytest.fixture(scope="session")
def event_function(api_database: tuple[str, str], dependencies: DependencyUrls):
    """Host a registered event function on the API tests' database: `event_function(name)`.

    Keyword arguments override settings (e.g. `kafka_brokers`); each distinct call
    builds its own runtime, closed when the session ends.
    """
    built: dict[tuple[str, tuple[tuple[str, Any], ...]], EventFunction] = {}

    def build(name: str, **overrides: Any) -> EventFunction:
        key = (name, tuple(sorted(overrides.items())))
        if key not in built:
            settings = build_settings(api_database[1], dependencies, **overrides)
            function = get_function(name)
            built[key] = EventFunction(function, Runtime(function, settings))
        return built[key]

    yield build
    for function in built.values():
        function.runtime.close()


def deliver(function: EventFunction, event: CloudEvent) -> TestResponse:
    """POST `event` to `function` in HTTP binary mode, exactly as a KafkaSource delivers it."""
    headers, body = to_http(event)
    return Client(function.wsgi_app).post("/", headers=headers, data=body)


@pytest.fixture
def stack_with(api_database: tuple[str, str], dependencies: DependencyUrls):
    """Start a separate API with specific settings: `stack_with(**settings)` -> base URL."""
    started: list[StartedApi] = []

    def start(**overrides: Any) -> str:
        _, app_url = api_database
        started.append(start_api(build_settings(app_url, dependencies, **overrides)))
        return started[-1].url

    yield start
    for api in started:
        api.stop()


class Bucket:
    """Direct access to the API tests' bucket, for asserting which blobs exist."""

    def __init__(self, settings: Settings) -> None:
        self.name = settings.s3_bucket
        self._client = boto3.session.Session().client(
            "s3",
            endpoint_url=settings.s3_endpoint,
            region_name=settings.s3_region,
            aws_access_key_id=settings.s3_access_key,
            aws_secret_access_key=settings.s3_secret_key,
        )

    def keys(self) -> set[str]:
        """Every key in the bucket (originals and `thumbnails/...`)."""
        keys: set[str] = set()
        for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self.name):
            keys.update(item["Key"] for item in page.get("Contents", []))
        return keys

    def get(self, key: str) -> bytes | None:
        """The stored bytes under `key`, or None when there is no such object."""
        try:
            response = self._client.get_object(Bucket=self.name, Key=key)
        except self._client.exceptions.NoSuchKey:
            return None
        return response["Body"].read()

    def put(self, key: str, data: bytes, content_type: str = "image/jpeg") -> None:
        self._client.put_object(Bucket=self.name, Key=key, Body=data, ContentType=content_type)


@pytest.fixture(scope="session")
def bucket(api_stack: ApiStack) -> Bucket:
    return Bucket(api_stack.settings)
