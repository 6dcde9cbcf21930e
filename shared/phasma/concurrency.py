"""A per-process bound on expensive work whose waits end in 503 rather than piling up.

The work runs on a dedicated pool of `max_concurrency` threads, not on the request
threads: glibc gives every thread that allocates heavily its own malloc arena and keeps
the memory there after it is freed, so a semaphore alone would bound how many decodes
run at once but not the memory a burst leaves behind (one arena per request thread that
ever decoded; docs/performance.md has the figures). A semaphore still admits the work,
so that only the wait for a slot, never the work itself, counts against the deadline.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from phasma.errors import ServiceUnavailable
from phasma.registry import Function

Result = TypeVar("Result")


class ConcurrencyLimit:
    """Runs at most `max_concurrency` jobs at once; a wait past `wait_timeout_seconds` is a 503."""

    def __init__(self, max_concurrency: int, wait_timeout_seconds: float, name: str) -> None:
        self._slots = threading.BoundedSemaphore(max_concurrency)
        # Never more jobs admitted than workers, so a submitted job starts at once.
        self._workers = ThreadPoolExecutor(max_concurrency, thread_name_prefix=name)
        self._wait_timeout = wait_timeout_seconds

    def run(self, work: Callable[[], Result]) -> Result:
        """`work()` on one of the pool's threads; its exceptions propagate to the caller."""
        if not self._slots.acquire(timeout=self._wait_timeout):
            raise ServiceUnavailable()
        try:
            return self._workers.submit(work).result()
        finally:
            self._slots.release()

    def close(self) -> None:
        """Let the pool's threads exit once any running job is done (process shutdown)."""
        self._workers.shutdown(wait=False)


def request_threads(function: Function) -> int:
    """The request threads functions-framework serves this process with, read as it reads
    them: `THREADS` (the manifests and `./taskw up` set it from the registry's
    `request_threads`), else the registry's value (in-process hosting), else its own
    default of four per core."""
    configured = os.environ.get("THREADS", "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return function.request_threads or (os.cpu_count() or 1) * 4


def stream_capacity(threads: int) -> int:
    """How many long-lived streams one process may hold: three quarters of its request
    threads, so a quarter (16 of 64) always remain for ordinary requests."""
    return threads * 3 // 4


class Slots:
    """At most `capacity` holders at once; `acquire` never waits, so a full house is the
    caller's to answer (a stream that cannot start is refused, not queued)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._free = threading.BoundedSemaphore(capacity) if capacity > 0 else None

    def acquire(self) -> bool:
        return self._free is not None and self._free.acquire(blocking=False)

    def release(self) -> None:
        if self._free is not None:
            self._free.release()
