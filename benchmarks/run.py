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
import statistics
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

from benchmarks.harness import (
    HELLO_SOURCE,
    Target,
    call,
    compare_with_hello,
    embedded_stack,
    report_progress,
)
from phasma.devstack.processes import (
    REPOSITORY_ROOT,
    launch,
    start_all,
    wait_until_healthy,
)
from phasma.registry import http_functions


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
    targets: dict[str, Target] = {
        "hello": (hello, "/", {}),
        "GET /users/{username}": (users, "/users/bench_reader", {}),
        "GET /users/me": (users, "/users/me", {"Cookie": cookie}),
    }
    compare_with_hello(targets, seconds, threads, rounds)
    print("  targets: GET /users/{username} >= 50 % of hello, GET /users/me >= 40 %")


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

    with embedded_stack("foundation") as stack:
        if wanted("startup"):
            bench_startup(stack.environment, stack.log_dir, repeats=3)
        if not (wanted("reads") or wanted("logins")):
            return
        running = start_all(http_functions(), stack.environment, stack.log_dir, report_progress)
        hello = launch("hello", HELLO_SOURCE, stack.environment, stack.log_dir)
        running.append(hello)
        wait_until_healthy(hello)
        try:
            ports = {p.name: p.port for p in running}
            if wanted("reads"):
                bench_reads(ports, arguments.seconds, arguments.threads, arguments.rounds)
            if wanted("logins"):
                bench_logins(ports["users"], stack.environment, stack.log_dir, concurrency=50)
        finally:
            for process in running:
                process.stop()


if __name__ == "__main__":
    sys.exit(main())
