"""Token buckets, fail-closed / fail-open behaviour and dependency outages (docs/api.md §6, §1)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from phasma.auth.throttle import LoginThrottle
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


# -- the login throttle's script (docs/api.md §A.4) ---------------------------


@pytest.fixture
def throttle(cache: redis.Redis) -> Iterator[LoginThrottle]:
    built = LoginThrottle(cache, connection_lifetime_seconds=60)
    yield built
    built.close()


def test_concurrent_reservations_never_overrun_the_email_limit(
    throttle: LoginThrottle, cache: redis.Redis
) -> None:
    email = f"target-{time.monotonic_ns()}@example.com"
    attempts = 100
    start = threading.Barrier(attempts)

    def reserve(index: int) -> bool:
        start.wait()
        return throttle.reserve(f"198.51.100.{index}", email).taken

    with ThreadPoolExecutor(attempts) as pool:
        taken = list(pool.map(reserve, range(attempts)))
    assert taken.count(True) == 50
    assert cache.get(f"login:email:{email}") == "50"
    refused = throttle.reserve("198.51.100.250", email)
    assert (refused.taken, refused.blocked) == (False, "email")
    assert 0 < refused.retry_after_seconds <= 900
    # A refused attempt took nothing from the address either.
    assert cache.get("login:ip:198.51.100.250") is None


def test_settling_a_reservation(throttle: LoginThrottle, cache: redis.Redis) -> None:
    address, email = f"test-{time.monotonic_ns()}", f"settle-{time.monotonic_ns()}@example.com"
    first = throttle.reserve(address, email)
    second = throttle.reserve(address, email)
    assert first.taken and second.taken
    throttle.cancel(first)  # no verdict: both counters given back
    assert cache.mget(f"login:ip:{address}", f"login:email:{email}") == ["1", "1"]
    throttle.succeeded(second)  # the address gives back this attempt, the email is forgotten
    assert cache.mget(f"login:ip:{address}", f"login:email:{email}") == [None, None]


def test_a_trusted_device_counts_on_its_own_counter(
    throttle: LoginThrottle, cache: redis.Redis
) -> None:
    email, device = f"owner-{time.monotonic_ns()}@example.com", f"dev{time.monotonic_ns()}"
    cache.set(f"login:email:{email}", 50, ex=60)
    assert throttle.reserve("203.0.113.1", email).blocked == "email"
    for index in range(5):
        assert throttle.reserve(f"203.0.113.{index + 2}", email, device=device).taken
    assert throttle.reserve("203.0.113.99", email, device=device).blocked == "device"
    assert cache.get(f"login:email:{email}") == "50"


def test_a_counter_without_an_expiry_gets_a_window(
    throttle: LoginThrottle, cache: redis.Redis
) -> None:
    address = f"stuck-{time.monotonic_ns()}"
    cache.set(f"login:ip:{address}", 5)  # no TTL
    assert throttle.reserve(address, "someone@example.com").blocked == "ip"
    assert 0 < cache.ttl(f"login:ip:{address}") <= 900


def test_the_login_throttle_fails_open_when_the_cache_is_down() -> None:
    down = redis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_timeout=1)
    throttle = LoginThrottle(down, connection_lifetime_seconds=60)
    reservation = throttle.reserve("192.0.2.1", "anyone@example.com")
    assert (reservation.taken, reservation.blocked) == (False, None)
    throttle.succeeded(reservation)  # logged, never raised
    throttle.cancel(reservation)
    throttle.close()
