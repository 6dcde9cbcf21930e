"""Who a request is charged to (docs/api.md §A.1, §A.2, §A.3).

The gateway replaces X-Forwarded-For, public routes never read a cookie, and a
cookie that is not a known session is charged to its address before any database
read.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from phasma.auth.tokens import new_token
from phasma.devstack.services import DependencyUrls
from tests.api.conftest import Account, Api, Database, migrated_database, new_identity

DEFAULT_LIMITS = {
    f"rate_limit_{policy}_{field}": None
    for policy in ("strict", "typeahead", "read", "mutation")
    for field in ("burst", "rate")
}


def invented_address() -> str:
    return f"198.51.100.{secrets.randbelow(254) + 1}"


def test_rotating_x_forwarded_for_does_not_escape_the_login_throttle(account: Account) -> None:
    attacker = Api(account.client.base_url)
    login = {"email": account.email, "password": "not the password"}
    statuses = [
        attacker.post(
            "/sessions", json=login, headers={"X-Forwarded-For": invented_address()}
        ).status_code
        for _ in range(12)
    ]
    assert statuses[:5] == [401] * 5
    assert 429 in statuses  # one address, whatever the header claims


def signed_in(base_url: str) -> Api:
    client = Api(base_url)
    identity = new_identity()
    assert client.post("/users", json=identity).status_code == 201
    login = {"email": identity["email"], "password": identity["password"]}
    assert client.post("/sessions", json=login).status_code == 201
    return client


@pytest.mark.parametrize("path", ["/sessions", "/users"])
def test_a_valid_cookie_on_a_public_route_gives_no_fresh_bucket(
    stack_with, database: Database, path: str
) -> None:
    base_url = stack_with(**DEFAULT_LIMITS)
    cookie = signed_in(base_url).session_token
    client = Api(base_url)
    assert [client.post(path, json={}).status_code for _ in range(5)] == [400] * 5
    before = database.counts("users", "sessions")
    client.http.cookies.set("session", cookie)
    refused = client.post(path, json=new_identity())
    assert refused.status_code == 429  # the address's strict bucket, not the account's
    assert refused.json() == {"message": "Too many requests"}
    assert database.counts("users", "sessions") == before


def test_a_resolved_session_gives_the_address_its_token_back(stack_with) -> None:
    base_url = stack_with(rate_limit_read_burst=3, rate_limit_read_rate=0.01)
    client = signed_in(base_url)
    assert [client.get("/users/me").status_code for _ in range(3)] == [200] * 3
    assert client.get("/users/me").status_code == 429  # the user's bucket
    # Each signed-in read lent and got back the address's token: it is still full.
    client.http.cookies.clear()
    assert [client.get("/users/nobody_x").status_code for _ in range(3)] == [404] * 3
    assert client.get("/users/nobody_x").status_code == 429


class QueryWatch:
    """Whether the app login ran any statement on one database, from PostgreSQL's side.

    `pg_stat_activity.query_start` of a backend moves with every statement it starts,
    in shared memory and at once; a new backend has a new pid.
    """

    def __init__(self, database: Database, name: str) -> None:
        self._database = database
        self._name = name

    def snapshot(self) -> dict[tuple[int, str], str]:
        rows = self._database.rows(
            "SELECT pid, backend_start::text, query_start::text FROM pg_stat_activity"
            " WHERE datname = :name AND usename = 'phasma_user'",
            name=self._name,
        )
        return {(pid, started): query_start for pid, started, query_start in rows}


@pytest.fixture(scope="module")
def flood_database(
    dependencies: DependencyUrls, template_database: str
) -> Iterator[tuple[str, str, str]]:
    """A database only the flood's stack uses: (name, owner URL, app URL)."""
    name = "phasma_flood_tests"
    owner_url, app_url = migrated_database(dependencies, template_database, name)
    yield name, owner_url, app_url


def test_a_flood_of_invented_cookies_costs_postgresql_nothing_once_refused(
    stack_with, flood_database: tuple[str, str, str]
) -> None:
    name, owner_url, app_url = flood_database
    base_url = stack_with(database_url=app_url, rate_limit_read_burst=5, rate_limit_read_rate=0.01)
    watch = QueryWatch(Database(owner_url), name)
    attacker = Api(base_url)

    def flood(count: int) -> list[int]:
        return [
            attacker.get("/feed", headers={"Cookie": f"session={new_token()}"}).status_code
            for _ in range(count)
        ]

    before = watch.snapshot()
    assert flood(5) == [401] * 5  # the bucket's tokens: each cookie is looked up
    emptied = watch.snapshot()
    assert emptied != before, "the admitted lookups are visible to the watch"
    refused = flood(40)
    assert refused == [429] * 40
    assert watch.snapshot() == emptied  # not one statement for forty refused cookies
