"""Token buckets, fail-closed / fail-open behaviour and dependency outages (api.md §6, §1)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis

from phasma.config import BucketPolicy
from phasma.devstack.services import DependencyUrls, free_port
from phasma.ratelimit import Decision, RateLimiter
from tests.api.conftest import Api, Database, new_identity

DEFAULT_LIMITS = {
    f"rate_limit_{policy}_{field}": None
    for policy in ("strict", "typeahead", "read", "mutation", "media")
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
    limiter = RateLimiter(cache, fail_open=False, connection_lifetime_seconds=60)
    identity = f"ip:test-{time.monotonic_ns()}"
    assert limiter.check("read", BucketPolicy(burst=4, rate=2), identity).allowed
    ttl_ms = cache.pttl(f"ratelimit:read:{identity}")
    assert 2000 < ttl_ms <= 3000


def test_the_limiter_reloads_its_script_after_the_cache_forgets_it(cache: redis.Redis) -> None:
    limiter = RateLimiter(cache, fail_open=False, connection_lifetime_seconds=60)
    identity = f"ip:flush-{time.monotonic_ns()}"
    assert limiter.check("read", BucketPolicy(burst=2, rate=0.01), identity).allowed
    cache.script_flush()  # as after a cache restart: EVALSHA answers NOSCRIPT
    assert limiter.check("read", BucketPolicy(burst=2, rate=0.01), identity).allowed
    refused = limiter.check("read", BucketPolicy(burst=2, rate=0.01), identity)
    assert not refused.allowed and not refused.error  # the same bucket, not a new one
    limiter.close()


def _connection_ids(cache: redis.Redis) -> set[str]:
    return {client["id"] for client in cache.client_list()}


def test_a_connection_the_cache_dropped_is_replaced_without_failing_the_request(
    cache: redis.Redis,
) -> None:
    limiter = RateLimiter(cache, fail_open=False, connection_lifetime_seconds=60)
    identity = f"ip:kill-{time.monotonic_ns()}"
    policy = BucketPolicy(burst=100, rate=1)
    before = _connection_ids(cache)
    assert limiter.check("read", policy, identity).allowed
    own = _connection_ids(cache) - before
    assert len(own) == 1, "the limiter keeps its connection open between requests"
    cache.client_kill_filter(_id=own.pop())
    # The idle connection meets the closed socket; one retry on a new one answers.
    assert limiter.check("read", policy, identity) == Decision(allowed=True)
    assert len(_connection_ids(cache) - before) == 1
    limiter.close()


def test_an_unreachable_cache_is_an_error_decision_and_keeps_no_connection() -> None:
    client = redis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_timeout=1)
    limiter = RateLimiter(client, fail_open=False, connection_lifetime_seconds=60)
    decision = limiter.check("read", BucketPolicy(burst=1, rate=1), "ip:nowhere")
    assert decision == Decision(allowed=False, error=True)
    assert limiter.check("read", BucketPolicy(burst=1, rate=1), "ip:nowhere").error


def test_limiter_connections_are_redialled_after_their_lifetime(cache: redis.Redis) -> None:
    limiter = RateLimiter(cache, fail_open=False, connection_lifetime_seconds=0)
    identity = f"ip:lifetime-{time.monotonic_ns()}"
    policy = BucketPolicy(burst=100, rate=1)
    before = _connection_ids(cache)
    seen: list[set[str]] = []
    for _ in range(3):
        assert limiter.check("read", policy, identity).allowed
        seen.append(_connection_ids(cache) - before)
    assert all(len(open_now) == 1 for open_now in seen)  # the expired one was closed
    assert len(set.union(*seen)) == 3  # and each call dialled a new one
    limiter.close()
