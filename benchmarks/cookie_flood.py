"""What a flood of invented session cookies costs PostgreSQL (docs/api.md §A.3).

    .venv/bin/python -m benchmarks.cookie_flood [--seconds 10] [--threads 8] [--rounds 3]

One client address sends `GET /feed` with a fresh random 28-character cookie on
every request (well-formed, never a session) to the `feed` function in its own
functions-framework process, with the production rate limits (the `read` bucket:
120 burst, 2 per second). Each round takes a new address: it first empties the
bucket, then at once floods for `--seconds`. What PostgreSQL did is read from its
own counters (`pg_stat_database`: transactions, rows returned) before and after
the round; backends publish those when idle at most every 10 s, so each reading
waits that long first. The figures are medians over rounds.

It starts its own embedded stack in a temporary directory.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass

from benchmarks.harness import embedded_stack, launch_functions
from phasma.auth.tokens import new_token
from phasma.config import RATE_LIMIT_DEFAULTS
from phasma.db.connect import connect
from phasma.devstack.services import DATABASE as DATABASE_NAME

POLICY = RATE_LIMIT_DEFAULTS["read"]  # GET /feed's bucket, as in production
# PGSTAT_IDLE_INTERVAL: an idle backend reports its pending counters within 10 s.
STATS_SETTLE_SECONDS = 11.0


@dataclass(frozen=True)
class ServerCounters:
    transactions: int
    rows_returned: int

    def __sub__(self, other: ServerCounters) -> ServerCounters:
        return ServerCounters(
            self.transactions - other.transactions, self.rows_returned - other.rows_returned
        )


@dataclass(frozen=True)
class Round:
    drained: Counter[int]  # until the first 429
    flooded: Counter[int]  # then for `--seconds`
    flood_seconds: float
    server: ServerCounters  # the whole round

    @property
    def drain_admitted(self) -> int:
        return admitted(self.drained)

    @property
    def flood_admitted(self) -> int:
        return admitted(self.flooded)


def admitted(statuses: Counter[int]) -> int:
    return sum(count for status, count in statuses.items() if status != 429)


def server_counters(monitor_url: str) -> ServerCounters:
    """The functions' database's counters, read from another database so the reading
    itself is not counted."""
    time.sleep(STATS_SETTLE_SECONDS)
    connection = connect(monitor_url)
    try:
        rows = connection.run(
            "SELECT xact_commit + xact_rollback, tup_returned FROM pg_stat_database"
            " WHERE datname = :name",
            name=DATABASE_NAME,
        )
    finally:
        connection.close()
    transactions, returned = rows[0]
    return ServerCounters(int(transactions), int(returned))


def flood(
    port: int, address: str, threads: int, seconds: float | None
) -> tuple[Counter[int], float]:
    """Random cookies from `address` on `threads` connections: for `seconds`, or (None)
    until the first 429. Returns the statuses seen and the elapsed time."""
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    refused = threading.Event()
    started = time.perf_counter()
    deadline = started + (seconds if seconds is not None else 600.0)

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.perf_counter() < deadline and not (seconds is None and refused.is_set()):
            headers = {"Cookie": f"session={new_token()}", "X-Forwarded-For": address}
            connection.request("GET", "/feed", headers=headers)
            response = connection.getresponse()
            response.read()
            with lock:
                statuses[response.status] += 1
            if response.status == 429:
                refused.set()
        connection.close()

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return statuses, time.perf_counter() - started


def run_round(port: int, monitor_url: str, address: str, threads: int, seconds: float) -> Round:
    start = server_counters(monitor_url)
    drained, _ = flood(port, address, threads, None)
    flooded, flood_seconds = flood(port, address, threads, seconds)
    return Round(drained, flooded, flood_seconds, server_counters(monitor_url) - start)


def median(values: list[float]) -> float:
    return statistics.median(values)


def report(rounds: list[Round], seconds: float, threads: int) -> None:
    print(
        f"\ncookie flood on GET /feed ({len(rounds)} rounds, {threads} connections,"
        f" read bucket {POLICY.burst} burst / {POLICY.rate} per s; medians)"
    )
    print(
        "  emptying the bucket (until the first 429):"
        f" {median([r.drain_admitted for r in rounds]):.0f} admitted"
    )
    requests = [sum(r.flooded.values()) for r in rounds]
    refused = [r.flooded[429] for r in rounds]
    rate = median([n / r.flood_seconds for n, r in zip(requests, rounds, strict=True)])
    all_refused = [r.drained[429] + r.flooded[429] for r in rounds]
    print(
        f"  then flooding the empty bucket for {seconds:.0f} s:"
        f" {median(requests):.0f} requests ({rate:.0f}/s),"
        f" {median(refused):.0f} answered 429"
    )
    print(
        f"    admitted {median([r.flood_admitted / r.flood_seconds for r in rounds]):.2f}/s"
        f" against the limiter's {POLICY.rate}/s"
    )
    transactions = [r.server.transactions for r in rounds]
    lookups = [r.drain_admitted + r.flood_admitted for r in rounds]
    beyond = [t - n for t, n in zip(transactions, lookups, strict=True)]
    print(
        f"  PostgreSQL over the round: {median(transactions):.0f} transactions"
        f" ({median([r.server.rows_returned for r in rounds]):.0f} rows returned)"
        f" for {median(lookups):.0f} admitted requests;"
        f" beyond one per admitted request: {median(beyond):.0f}"
        f" for {median(all_refused):.0f} refused"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cookie_flood")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()

    with embedded_stack("cookie-flood") as stack:
        # The production buckets: drop the harness's never-refusing overrides.
        environment = {
            name: value
            for name, value in stack.environment.items()
            if not name.startswith("RATE_LIMIT_")
        }
        monitor_url = stack.urls.database_url.rsplit("/", 1)[0] + "/postgres"
        running = launch_functions(["feed"], environment, stack.log_dir)
        try:
            port = running["feed"].port
            rounds = []
            for number in range(arguments.rounds):
                # A fresh address per round: its bucket starts full.
                address = f"198.51.100.{number + 10}"
                rounds.append(
                    run_round(port, monitor_url, address, arguments.threads, arguments.seconds)
                )
                print(f"  round {number + 1}/{arguments.rounds} done", flush=True)
        finally:
            for process in running.values():
                process.stop()
        report(rounds, arguments.seconds, arguments.threads)


if __name__ == "__main__":
    main()
