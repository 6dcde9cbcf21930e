"""Token buckets, fail-closed / fail-open behaviour and dependency outages (api.md §6, §1)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis

from phasma.config import BucketPolicy
from phasma.devstack.services import DependencyUrls, free_port
from phasma.ratelimit import RateLimiter
from tests.api.conftest import Api, Database, new_identity

DEFAULT_LIMITS = {
    f"rate_limit_{policy}_{field}": None
    for policy in ("strict", "typeahead", "read", "mutation")
    for field in ("burst", "rate")
}


def test_strict_policy_allows_a_burst_of_five_then_429_with_retry_after(
    stack_with, database: Database
) -> None:
    api = Api(stack_with(**DEFAULT_LIMITS))
    statuses = [api.post("/sessions", json={}).status_code for _ in range(5)]
    assert statuses == [400] * 5  # the limiter runs before body validation
    before = database.counts("users", "outbox")
    limited = api.post("/users", json=new_identity())  # same strict bucket, same client
    assert limited.status_code == 429
    assert limited.json() == {"message": "Too many requests"}
    assert 1 <= int(limited.headers["retry-after"]) <= 5
    assert database.counts("users", "outbox") == before
    # Another client address has its own bucket.
    assert Api(api.base_url).post("/sessions", json={}).status_code == 400


def test_overrides_change_the_bucket_and_refill_is_continuous(stack_with) -> None:
    api = Api(stack_with(rate_limit_read_burst=2, rate_limit_read_rate=10))
    assert [api.get("/users/nobody_x").status_code for _ in range(2)] == [404, 404]
    assert api.get("/users/nobody_x").status_code == 429
    time.sleep(0.15)  # 10 tokens/s: one token back after 0.1 s
    assert api.get("/users/nobody_x").status_code == 404


def test_signed_in_requests_are_limited_per_user_not_per_address(stack_with) -> None:
    base_url = stack_with(rate_limit_read_burst=3, rate_limit_read_rate=0.01)
    identity = new_identity()
    first = Api(base_url)
    first.post("/users", json=identity)
    first.post("/sessions", json={"email": identity["email"], "password": identity["password"]})
    second = Api(base_url)  # the same user from another address
    second.http.cookies.update(first.http.cookies)
    statuses = [client.get("/users/me").status_code for client in (first, second, first, second)]
    assert statuses == [200, 200, 200, 429]


def test_cache_outage_fails_closed_by_default(stack_with) -> None:
    api = Api(stack_with(cache_url=f"redis://127.0.0.1:{free_port()}/0"))
    response = api.get("/users/nobody_x")
    assert response.status_code == 503
    assert response.json() == {"message": "Service unavailable"}


def test_cache_outage_fails_open_when_configured(stack_with) -> None:
    base_url = stack_with(cache_url=f"redis://127.0.0.1:{free_port()}/0", rate_limit_fail_open=True)
    api = Api(base_url)
    assert api.get("/users/nobody_x").status_code == 404
    identity = new_identity()
    assert api.post("/users", json=identity).status_code == 201
    # The login throttle always fails open.
    login = {"email": identity["email"], "password": identity["password"]}
    assert api.post("/sessions", json=login).status_code == 201


def test_database_outage_is_a_503_not_a_logout(stack_with, database: Database) -> None:
    healthy = Api(stack_with())
    identity = new_identity()
    healthy.post("/users", json=identity)
    healthy.post("/sessions", json={"email": identity["email"], "password": identity["password"]})
    broken = Api(
        stack_with(
            database_url=f"postgresql://phasma_user@127.0.0.1:{free_port()}/phasma",
            postgres_retry_backoff_ms=1,
        )
    )
    broken.http.cookies.update(healthy.http.cookies)
    response = broken.get("/users/me")
    assert response.status_code == 503
    assert response.json() == {"message": "Service unavailable"}
    assert "set-cookie" not in response.headers  # the session is not cleared
    assert broken.post("/users", json=new_identity()).status_code == 503


@pytest.fixture
def cache(dependencies: DependencyUrls) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(dependencies.cache_url, decode_responses=True)
    yield client
    client.close()


def test_bucket_state_expires_after_burst_over_rate_plus_one_second(cache: redis.Redis) -> None:
    limiter = RateLimiter(cache, fail_open=False)
    identity = f"ip:test-{time.monotonic_ns()}"
    assert limiter.check("read", BucketPolicy(burst=4, rate=2), identity).allowed
    ttl_ms = cache.pttl(f"ratelimit:read:{identity}")
    assert 2000 < ttl_ms <= 3000
