"""What one round trip of a read costs, and what each way of closing the read targets saves.

    .venv/bin/python -m benchmarks.round_trips [--calls 3000] [--rounds 5]

The read-throughput targets of docs/performance.md are missed by the fixed cost of
each round trip a read makes. This prices the round trips of `GET /users/{username}`
and the options the team has to choose between, as CPU per call: the client (this
thread, `RUSAGE_THREAD`) and the server (the PostgreSQL backend of the connection, or
redis-server), medians over rounds that interleave the targets:

- the profile query through the pool, on pg8000 (what the function runs today);
- the same prepared statement on psycopg 3's binary protocol, when installed
  (`pip install 'psycopg[binary]'`; not a dependency, this measures the option);
- the token bucket through `RateLimiter` (every request pays it);
- the token bucket and a cached profile read in one script (the Redis-cache option:
  one round trip for the whole anonymous read).

It starts its own embedded stack in a temporary directory.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
from collections.abc import Callable
from decimal import Decimal

import psutil

from benchmarks.harness import embedded_stack
from phasma.accounts import USER_COLUMNS, User
from phasma.cache import ScriptRunner, connect_cache
from phasma.config import BucketPolicy, Settings
from phasma.db.pool import Database
from phasma.ratelimit import TOKEN_BUCKET_LUA, RateLimiter
from phasma.users.queries import user_by_username

USERNAME = "round_trip_bench"
PROFILE_SQL = f"SELECT {USER_COLUMNS} FROM users u WHERE u.username = :username"
PROFILE_KEY = f"profile:{USERNAME}"
# The limiter's script, returning the cached profile as well: both in one round trip.
BUCKET_AND_PROFILE_LUA = TOKEN_BUCKET_LUA.replace(
    "return {allowed, wait_ms}", "return {allowed, wait_ms, redis.call('GET', KEYS[2])}"
)
# Never refuses, so both scripts take the path a served request takes.
UNLIMITED_BUCKET = BucketPolicy(burst=1_000_000_000, rate=Decimal(1_000_000_000))

Call = Callable[[], object]


def thread_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_THREAD)
    return usage.ru_utime + usage.ru_stime


def process_cpu(process: psutil.Process | None) -> float:
    if process is None:
        return 0.0
    times = process.cpu_times()
    return times.user + times.system


def measure(call: Call, server: psutil.Process | None, calls: int) -> tuple[float, float]:
    """Client and server CPU per call, in µs, over `calls` calls."""
    client_before, server_before = thread_cpu(), process_cpu(server)
    for _ in range(calls):
        call()
    client = (thread_cpu() - client_before) / calls * 1e6
    return client, (process_cpu(server) - server_before) / calls * 1e6


def psycopg_target(database_url: str) -> tuple[Call, psutil.Process] | None:
    """The profile query on psycopg 3, prepared, binary results; None when not installed."""
    try:
        import psycopg
        from psycopg.rows import dict_row
    except ImportError:
        return None
    connection = psycopg.connect(database_url, autocommit=True, prepare_threshold=0)
    cursor = connection.cursor(row_factory=dict_row, binary=True)
    sql = PROFILE_SQL.replace(":username", "%(username)s").replace(":viewer_id", "%(viewer_id)s")
    backend = connection.execute("SELECT pg_backend_pid()").fetchone()
    assert backend is not None

    def call() -> object:
        cursor.execute(sql, {"username": USERNAME, "viewer_id": None}, prepare=True)
        return cursor.fetchone()

    return call, psutil.Process(backend[0])


def targets(
    settings: Settings, database: Database, redis_server: psutil.Process | None
) -> dict[str, tuple[Call, psutil.Process | None]]:
    backend_pid = database.read(lambda executor: executor.fetch_value("SELECT pg_backend_pid()"))
    cache = connect_cache(settings)
    assert cache is not None
    lifetime_seconds = settings.cache_conn_lifetime_minutes * 60
    limiter = RateLimiter(cache, fail_open=False, connection_lifetime_seconds=lifetime_seconds)

    def read_profile() -> User | None:
        return database.read(lambda executor: user_by_username(executor, USERNAME, None))

    profile = read_profile()
    assert profile is not None
    cache.set(PROFILE_KEY, profile.model_dump_json(by_alias=True))
    combined = ScriptRunner(cache, BUCKET_AND_PROFILE_LUA, lifetime_seconds)
    found: dict[str, tuple[Call, psutil.Process | None]] = {
        "profile query, pg8000 pool": (read_profile, psutil.Process(backend_pid)),
        "token bucket": (
            lambda: limiter.check("read", UNLIMITED_BUCKET, "ip:198.51.100.7"),
            redis_server,
        ),
        "token bucket + cached profile": (
            lambda: combined(
                ["ratelimit:read:ip:198.51.100.8", PROFILE_KEY],
                [UNLIMITED_BUCKET.burst, str(UNLIMITED_BUCKET.rate)],
            ),
            redis_server,
        ),
    }
    on_psycopg = psycopg_target(settings.database_url or "")
    if on_psycopg is None:
        print("  psycopg 3 not installed: pip install 'psycopg[binary]' to price that option")
    else:
        found["profile query, psycopg 3"] = on_psycopg
    return found


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.round_trips")
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()

    with embedded_stack("round-trips") as stack:
        settings = Settings(database_url=stack.urls.database_url, cache_url=stack.urls.cache_url)
        # One connection (the pool opens lazily, one at a time here): its backend is the
        # PostgreSQL process whose CPU the pg8000 figures count.
        database = Database(settings, application_name="round-trips")
        with database.transaction() as executor:
            executor.execute(
                "INSERT INTO users (name, username, email, password_hash)"
                " VALUES ('Round Trip', :username, 'round-trip@example.com', 'x')",
                username=USERNAME,
            )
        redis_server = next(
            (
                psutil.Process(service.process.pid)
                for service in stack.dependencies.services
                if service.name == "redis" and service.process is not None
            ),
            None,
        )
        try:
            report(targets(settings, database, redis_server), arguments.calls, arguments.rounds)
        finally:
            database.close()


def report(found: dict[str, tuple[Call, psutil.Process | None]], calls: int, rounds: int) -> None:
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in found}
    for call, _ in found.values():
        for _ in range(300):  # warm-up: prepared statements, connections, scripts
            call()
    for round_number in range(rounds):
        for name, (call, server) in found.items():
            samples[name].append(measure(call, server, calls))
        print(f"  round {round_number + 1}/{rounds} done", flush=True)
    print(f"\nCPU per call, µs ({rounds} rounds x {calls} calls, medians)")
    print(f"  {'round trip':<32}{'client':>8}{'server':>8}{'total':>8}")
    for name, values in samples.items():
        client = statistics.median(value[0] for value in values)
        server = statistics.median(value[1] for value in values)
        print(f"  {name:<32}{client:>8.0f}{server:>8.0f}{client + server:>8.0f}")


if __name__ == "__main__":
    sys.exit(main())
