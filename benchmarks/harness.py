"""Pieces every benchmark script shares: load generation, calls, and the hello-world baseline.

Benchmarks talk to functions-framework processes directly on their ports (no
gateway), with the rate limiter on but its buckets too large to refuse anything.
"""

from __future__ import annotations

import http.client
import json
import statistics
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from phasma.devstack.processes import (
    REPOSITORY_ROOT,
    FunctionProcess,
    launch,
    wait_until_healthy,
)
from phasma.devstack.services import Dependencies, DependencyUrls
from phasma.devstack.stack import prepare

HELLO_SOURCE = Path(__file__).parent / "hello" / "main.py"
# The limiter stays on (its Lua script is part of every request's cost); its
# buckets are just big enough never to refuse a benchmark request.
UNLIMITED = {
    f"RATE_LIMIT_{policy}_{field}": "1000000000"
    for policy in ("STRICT", "TYPEAHEAD", "READ", "MUTATION")
    for field in ("BURST", "RATE")
}


def report_progress(line: str) -> None:
    """One indented progress line, shown at once."""
    print(f"  {line}", flush=True)


@dataclass
class Stack:
    """A benchmark's embedded stack: its directory, its servers and the functions' environment."""

    state_dir: Path
    urls: DependencyUrls
    dependencies: Dependencies
    environment: dict[str, str]  # what `prepare` returns, with UNLIMITED buckets

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"


@contextmanager
def embedded_stack(name: str) -> Iterator[Stack]:
    """A fresh stack in a temporary directory, prepared as `./taskw up` prepares it.

    The four servers stop and the directory goes when the block ends.
    """
    with tempfile.TemporaryDirectory(prefix=f"phasma-bench-{name}-") as directory:
        state_dir = Path(directory)
        with Dependencies(state_dir, {}, report_progress, durable=False) as dependencies:
            urls = dependencies.start()
            environment = {**prepare(urls, state_dir, {}, report_progress), **UNLIMITED}
            yield Stack(state_dir, urls, dependencies, environment)


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


def median_result(values: list[LoadResult]) -> LoadResult:
    """Each figure's median over rounds; errors are summed."""
    return LoadResult(
        requests_per_second=statistics.median(v.requests_per_second for v in values),
        p50_ms=statistics.median(v.p50_ms for v in values),
        p99_ms=statistics.median(v.p99_ms for v in values),
        errors=sum(v.errors for v in values),
    )


Target = tuple[int, str, dict[str, str]]  # port, path, headers


def compare_with_hello(
    targets: dict[str, Target], seconds: float, threads: int, rounds: int
) -> dict[str, LoadResult]:
    """Load every target (the first must be "hello") round by round; print medians and ratios.

    Interleaving the targets within each round spreads the noise of a shared
    machine over all of them instead of over whichever ran last.
    """
    hello_port, hello_path, hello_headers = targets["hello"]
    results: dict[str, list[LoadResult]] = {name: [] for name in targets}
    load(hello_port, hello_path, hello_headers, 1.0, threads)  # warm-up
    for round_number in range(rounds):
        for name, (port, path, headers) in targets.items():
            results[name].append(load(port, path, headers, seconds, threads))
        print(f"  round {round_number + 1}/{rounds} done", flush=True)
    median = {name: median_result(values) for name, values in results.items()}
    print(f"\nreads ({threads} connections, {rounds} rounds x {seconds:.0f} s, medians)")
    print(f"  {'target':<24}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}{'vs hello':>10}")
    for name, result in median.items():
        ratio = result.requests_per_second / median["hello"].requests_per_second
        print(
            f"  {name:<24}{result.requests_per_second:>10.0f}{result.p50_ms:>10.2f}"
            f"{result.p99_ms:>10.2f}{result.errors:>8}{ratio:>9.0%}"
        )
    return median


def call(
    port: int, method: str, path: str, body: dict | None = None, cookie: str = ""
) -> tuple[int, str]:
    """One request; returns the status and the `name=value` of any Set-Cookie."""
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


def timed_get(connection: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> float:
    """One GET on a kept-alive connection; its latency in ms (anything but 200 is an error)."""
    started = time.perf_counter()
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise RuntimeError(f"GET {path}: {response.status}")
    return elapsed * 1000


def launch_functions(
    names: Iterable[str], environment: Mapping[str, str], log_dir: Path
) -> dict[str, FunctionProcess]:
    """Start the registered functions `names`, each in its own process, and wait for them."""
    running = {
        name: launch(name, REPOSITORY_ROOT / f"functions/{name}/main.py", environment, log_dir)
        for name in names
    }
    try:
        for process in running.values():
            wait_until_healthy(process)
    except BaseException:
        for process in running.values():
            process.stop()
        raise
    return running


def sign_in(users_port: int, sessions_port: int, identity: Mapping[str, str]) -> str:
    """Register `identity` (an existing account is fine) and log in; the session cookie."""
    call(users_port, "POST", "/users", dict(identity))
    login = {"email": identity["email"], "password": identity["password"]}
    status, cookie = call(sessions_port, "POST", "/sessions", login)
    assert status == 201, status
    return cookie
