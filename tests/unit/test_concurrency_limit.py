"""The per-process bound on expensive work (phasma/concurrency.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from phasma.concurrency import ConcurrencyLimit
from phasma.http.errors import ServiceUnavailable


@contextmanager
def busy(limit: ConcurrencyLimit, jobs: int) -> Iterator[None]:
    """`jobs` jobs hold their slots until the block ends."""
    started = threading.Semaphore(0)
    release = threading.Event()

    def job() -> None:
        started.release()
        release.wait()

    holders = [threading.Thread(target=limit.run, args=(job,)) for _ in range(jobs)]
    for holder in holders:
        holder.start()
    for _ in holders:
        started.acquire()
    try:
        yield
    finally:
        release.set()
        for holder in holders:
            holder.join()


def test_work_runs_on_the_pool_and_returns_its_result() -> None:
    limit = ConcurrencyLimit(2, wait_timeout_seconds=1, name="test")
    assert limit.run(lambda: threading.current_thread().name).startswith("test")
    assert limit.run(lambda: 6 * 7) == 42


def test_jobs_beyond_the_limit_wait_then_get_503() -> None:
    limit = ConcurrencyLimit(2, wait_timeout_seconds=0.05, name="test")
    ran: list[bool] = []
    with busy(limit, 2):
        began = time.monotonic()
        with pytest.raises(ServiceUnavailable):
            limit.run(lambda: ran.append(True))
        assert time.monotonic() - began >= 0.05
    assert ran == []  # refused work never runs
    assert limit.run(lambda: "free again") == "free again"


def test_a_waiting_job_gets_the_slot_when_it_frees() -> None:
    limit = ConcurrencyLimit(1, wait_timeout_seconds=5, name="test")
    results: list[str] = []
    with busy(limit, 1):
        waiter = threading.Thread(target=lambda: results.append(limit.run(lambda: "ran")))
        waiter.start()
        time.sleep(0.05)
        assert results == []  # still waiting for the slot
    waiter.join()
    assert results == ["ran"]


def test_only_the_wait_counts_against_the_deadline() -> None:
    limit = ConcurrencyLimit(1, wait_timeout_seconds=0.01, name="test")
    assert limit.run(lambda: time.sleep(0.1) or "slow work finished") == "slow work finished"


def test_the_slot_is_released_when_the_work_fails() -> None:
    limit = ConcurrencyLimit(1, wait_timeout_seconds=0.01, name="test")

    def failing() -> None:
        raise ValueError("decode failed")

    with pytest.raises(ValueError, match="decode failed"):
        limit.run(failing)
    assert limit.run(lambda: "ok") == "ok"
