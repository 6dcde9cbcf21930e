"""Foundation benchmarks (issue: foundation, item 8), printed as figures and ratios.

    ./taskw bench                 # everything
    ./taskw bench -- --only reads # one part: reads, startup, logins

It starts its own embedded stack in a temporary directory, runs every function
in its own functions-framework process (as `./taskw up` does) next to a
hello-world function under the same server configuration, and measures:

- reads:   requests/s, p50 and p99 of `GET /users/{username}` and signed-in
           `GET /users/me`, against hello-world in the same run (ratios);
- startup: per function, process start to first served request;
- logins:  50 concurrent logins: throughput and the sessions process's peak
           memory, which the Argon2 concurrency bound keeps flat.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psutil

from phasma.devstack.processes import (
    REPOSITORY_ROOT,
    launch,
    start_all,
    wait_until_healthy,
)
from phasma.devstack.services import Dependencies
from phasma.devstack.stack import prepare
from phasma.registry import http_functions

HELLO_SOURCE = Path(__file__).parent / "hello" / "main.py"
# The limiter stays on (its Lua script is part of every request's cost); its
# buckets are just big enough never to refuse a benchmark request.
UNLIMITED = {
    f"RATE_LIMIT_{policy}_{field}": "1000000000"
    for policy in ("STRICT", "TYPEAHEAD", "READ", "MUTATION")
    for field in ("BURST", "RATE")
}


@dataclass
class LoadResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def load(port: int, path: str, headers: dict[str, str], seconds: float, threads: int) -> LoadResult:
    """Closed-loop load: `threads` keep-alive connections issuing GETs for `seconds`."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    deadline = time.perf_counter() + seconds

    def worker(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            latencies[index].append(time.perf_counter() - started)
            if response.status != 200:
                errors[index] += 1
        connection.close()

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    started = time.perf_counter()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - started
    samples = sorted(sample for per_thread in latencies for sample in per_thread)
    return LoadResult(
        requests_per_second=len(samples) / elapsed,
        p50_ms=samples[len(samples) // 2] * 1000,
        p99_ms=samples[int(len(samples) * 0.99)] * 1000,
        errors=sum(errors),
    )


def call(
    port: int, method: str, path: str, body: dict | None = None, cookie: str = ""
) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json", "X-Forwarded-For": "198.51.100.7"}
    if cookie:
        headers["Cookie"] = cookie
    connection.request(method, path, body=json.dumps(body) if body else None, headers=headers)
    response = connection.getresponse()
    response.read()
    set_cookie = response.getheader("Set-Cookie") or ""
    connection.close()
    return response.status, set_cookie.split(";", 1)[0]


def bench_reads(ports: dict[str, int], seconds: float, threads: int, rounds: int) -> None:
    users, sessions, hello = ports["users"], ports["sessions"], ports["hello"]
    identity = {
        "name": "Bench",
        "username": "bench_reader",
        "email": "bench@example.com",
        "password": "benchmark password",
    }
    call(users, "POST", "/users", identity)
    status, cookie = call(
        sessions,
        "POST",
        "/sessions",
        {"email": identity["email"], "password": identity["password"]},
    )
    assert status == 201, status
    targets: dict[str, tuple[int, str, dict[str, str]]] = {
        "hello": (hello, "/", {}),
        "GET /users/{username}": (users, "/users/bench_reader", {}),
        "GET /users/me": (users, "/users/me", {"Cookie": cookie}),
    }
    results: dict[str, list[LoadResult]] = {name: [] for name in targets}
    load(hello, "/", {}, 1.0, threads)  # warm-up
    for round_number in range(rounds):
        for name, (port, path, headers) in targets.items():
            results[name].append(load(port, path, headers, seconds, threads))
        print(f"  round {round_number + 1}/{rounds} done", flush=True)
    median = {name: _median_result(values) for name, values in results.items()}
    print(f"\nreads ({threads} connections, {rounds} rounds x {seconds:.0f} s, medians)")
    print(f"  {'target':<24}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}{'vs hello':>10}")
    for name, result in median.items():
        ratio = result.requests_per_second / median["hello"].requests_per_second
        print(
            f"  {name:<24}{result.requests_per_second:>10.0f}{result.p50_ms:>10.2f}"
            f"{result.p99_ms:>10.2f}{result.errors:>8}{ratio:>9.0%}"
        )
    print("  targets: GET /users/{username} >= 50 % of hello, GET /users/me >= 40 %")


def _median_result(values: list[LoadResult]) -> LoadResult:
    return LoadResult(
        requests_per_second=statistics.median(v.requests_per_second for v in values),
        p50_ms=statistics.median(v.p50_ms for v in values),
        p99_ms=statistics.median(v.p99_ms for v in values),
        errors=sum(v.errors for v in values),
    )


def bench_startup(environment: dict[str, str], log_dir: Path, repeats: int) -> None:
    print(f"\nstartup: process start to first served request (median of {repeats})")
    for function in http_functions():
        timings = []
        for _ in range(repeats):
            process = launch(function.name, REPOSITORY_ROOT / function.source, environment, log_dir)
            try:
                timings.append(wait_until_healthy(process))
            finally:
                process.stop()
        print(f"  {function.name:<12}{statistics.median(timings):>8.2f} s   (target < 1.0 s)")


def tree_rss(process: psutil.Process) -> int:
    """Resident memory of a process and its children (gunicorn serves from a child)."""
    return sum(p.memory_info().rss for p in (process, *process.children(recursive=True)))


def bench_logins(
    users_port: int, environment: dict[str, str], log_dir: Path, concurrency: int
) -> None:
    """50 concurrent logins against a sessions process with the bound, then without it."""
    accounts = []
    for index in range(concurrency):
        identity = {
            "name": f"Login {index}",
            "username": f"bench_login_{index}",
            "email": f"login{index}@example.com",
            "password": "benchmark password",
        }
        call(users_port, "POST", "/users", identity)
        accounts.append({"email": identity["email"], "password": identity["password"]})
    mib = 1024 * 1024
    print(f"\nlogins: {concurrency} concurrent, 19 MiB per Argon2 hash")
    for bound in ("4", str(concurrency)):
        sessions = launch(
            "sessions",
            REPOSITORY_ROOT / "functions/sessions/main.py",
            {**environment, "ARGON_MAX_CONCURRENCY": bound, "THREADS": str(concurrency)},
            log_dir,
        )
        try:
            wait_until_healthy(sessions)
            server = psutil.Process(sessions.process.pid)
            baseline = tree_rss(server)
            peak = baseline
            done = threading.Event()

            def sample(process: psutil.Process = server, stop: threading.Event = done) -> None:
                nonlocal peak
                while not stop.is_set():
                    peak = max(peak, tree_rss(process))
                    time.sleep(0.002)

            sampler = threading.Thread(target=sample)
            sampler.start()
            started = time.perf_counter()
            with ThreadPoolExecutor(concurrency) as pool:
                statuses = list(
                    pool.map(
                        lambda body, port=sessions.port: call(port, "POST", "/sessions", body)[0],
                        accounts,
                    )
                )
            elapsed = time.perf_counter() - started
            done.set()
            sampler.join()
        finally:
            sessions.stop()
        print(
            f"  ARGON_MAX_CONCURRENCY={bound:<3} {statuses.count(201)}/{len(statuses)} ok in "
            f"{elapsed:.2f} s = {len(statuses) / elapsed:5.1f} logins/s; RSS "
            f"{baseline / mib:.0f} MiB before, {peak / mib:.0f} MiB peak "
            f"(+{(peak - baseline) / mib:.0f} MiB)"
        )
    print("  the bound keeps peak memory near baseline + 4 x 19 MiB at the same throughput")


def main() -> None:
    parser = argparse.ArgumentParser(prog="./taskw bench --")
    parser.add_argument("--only", choices=["reads", "startup", "logins"])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    arguments = parser.parse_args()
    wanted: Callable[[str], bool] = lambda part: arguments.only in (None, part)  # noqa: E731

    with tempfile.TemporaryDirectory(prefix="phasma-bench-") as directory:
        state_dir = Path(directory)
        progress = lambda line: print(f"  {line}", flush=True)  # noqa: E731
        with Dependencies(state_dir, {}, progress) as dependencies:
            environment = prepare(dependencies.start(), state_dir, {}, progress)
            environment.update(UNLIMITED)
            if wanted("startup"):
                bench_startup(environment, state_dir / "logs", repeats=3)
            if not (wanted("reads") or wanted("logins")):
                return
            running = start_all(http_functions(), environment, state_dir / "logs", progress)
            hello = launch("hello", HELLO_SOURCE, environment, state_dir / "logs")
            running.append(hello)
            wait_until_healthy(hello)
            try:
                ports = {p.name: p.port for p in running}
                if wanted("reads"):
                    bench_reads(ports, arguments.seconds, arguments.threads, arguments.rounds)
                if wanted("logins"):
                    bench_logins(ports["users"], environment, state_dir / "logs", concurrency=50)
            finally:
                for process in running:
                    process.stop()


if __name__ == "__main__":
    sys.exit(main())
