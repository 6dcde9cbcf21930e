"""Background pipeline health (docs/operations.md §7): `/health/background` and `phasma_pipeline_*`.

A pipeline is one stream of background work in this process: the deliveries an event
function receives, or the relay's sweeps. Progress (a successful delivery or sweep, an
empty sweep included) resets the error streak. A pipeline is unhealthy when it is not
running, when its first unrecovered error is older than `PIPELINE_ERROR_WINDOW_SECONDS`,
or when it is stale: work pending and no progress for `BACKGROUND_PIPELINE_STALE_SECONDS`.
A single failed attempt is never unhealthy. Pipeline health never affects readiness.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from prometheus_client.core import REGISTRY, CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from phasma.models import CamelModel, Timestamp

# Every pipeline metric is exported under both prefixes (docs/operations.md §7).
METRIC_PREFIXES = ("phasma_pipeline", "app_pipeline")
METRIC_LABELS = ("app", "service", "pipeline")


class PipelineSnapshot(CamelModel):
    """One pipeline in `GET /health/background`."""

    name: str
    running: bool
    stale: bool
    unhealthy: bool
    started_at: Timestamp
    last_progress: Timestamp | None
    first_error_at: Timestamp | None
    last_error: str | None
    error_count: int
    error_streak: int
    processed: int


class Pipeline:
    """Counters and timestamps of one pipeline; safe to update from many threads."""

    def __init__(
        self, name: str, service: str, stale_seconds: float, error_window_seconds: float
    ) -> None:
        self.name = name
        self.service = service
        self.stale_seconds = stale_seconds
        self.error_window_seconds = error_window_seconds
        self._lock = threading.Lock()
        self.started_at = time.time()
        self.running = True
        self.last_progress: float | None = None
        self.first_error_at: float | None = None
        self.last_error: str | None = None
        self.error_count = 0
        self.error_streak = 0
        self.processed = 0
        self.lag_seconds = 0.0
        self._in_flight = 0
        self._backlog = False

    @contextmanager
    def attempt(self) -> Iterator[None]:
        """Mark one unit of work in flight (work is pending while it runs)."""
        with self._lock:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    def progress(self, processed: int = 1, lag_seconds: float | None = None) -> None:
        """A successful delivery or sweep: count it and clear the error streak."""
        with self._lock:
            self.last_progress = time.time()
            self.processed += processed
            self.error_streak = 0
            self.first_error_at = None
            if lag_seconds is not None:
                self.lag_seconds = max(lag_seconds, 0.0)

    def failure(self, error: str) -> None:
        """A failed attempt: extend the streak (its first failure starts the error window)."""
        with self._lock:
            now = time.time()
            if self.first_error_at is None:
                self.first_error_at = now
            self.last_error = error
            self.error_count += 1
            self.error_streak += 1

    def set_backlog(self, pending: bool) -> None:
        """Whether work is known to be waiting (the relay: unpublished rows past their grace)."""
        with self._lock:
            self._backlog = pending

    def stale(self, now: float) -> bool:
        pending = self._backlog or self._in_flight > 0 or self.error_streak > 0
        since = self.last_progress if self.last_progress is not None else self.started_at
        return pending and now - since > self.stale_seconds

    def unhealthy(self, now: float) -> bool:
        erring = (
            self.first_error_at is not None
            and now - self.first_error_at > self.error_window_seconds
        )
        return not self.running or erring or self.stale(now)

    def measure(self, now: float) -> dict[str, float]:
        """The metric values at `now`, keyed like the collector's families."""
        with self._lock:
            since = self.last_progress if self.last_progress is not None else self.started_at
            erring_since = now if self.first_error_at is None else self.first_error_at
            return {
                "running": float(self.running),
                "stale": float(self.stale(now)),
                "unhealthy": float(self.unhealthy(now)),
                "error_streak": float(self.error_streak),
                "errors": float(self.error_count),
                "processed": float(self.processed),
                "last_progress_age": now - since,
                "first_error_age": now - erring_since,
                "lag": self.lag_seconds,
            }

    def snapshot(self) -> PipelineSnapshot:
        now = time.time()
        with self._lock:
            return PipelineSnapshot(
                name=self.name,
                running=self.running,
                stale=self.stale(now),
                unhealthy=self.unhealthy(now),
                started_at=datetime.fromtimestamp(self.started_at, UTC),
                last_progress=_timestamp(self.last_progress),
                first_error_at=_timestamp(self.first_error_at),
                last_error=self.last_error,
                error_count=self.error_count,
                error_streak=self.error_streak,
                processed=self.processed,
            )


def _timestamp(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


_pipelines: dict[str, Pipeline] = {}
_pipelines_lock = threading.Lock()


def register(pipeline: Pipeline) -> Pipeline:
    """Expose `pipeline` on `/health/background` and `/metrics`; returns the registered one.

    A name registered before keeps its pipeline, so counters survive a second build of
    the same function in one process (tests host several).
    """
    with _pipelines_lock:
        return _pipelines.setdefault(pipeline.name, pipeline)


def get(name: str) -> Pipeline:
    """The registered pipeline called `name` (KeyError when none is)."""
    return _pipelines[name]


def snapshots() -> list[PipelineSnapshot]:
    """Every registered pipeline, by name."""
    with _pipelines_lock:
        pipelines = sorted(_pipelines.values(), key=lambda pipeline: pipeline.name)
    return [pipeline.snapshot() for pipeline in pipelines]


class _PipelineCollector(Collector):
    """Computes the pipeline metrics at scrape time, so ages are current."""

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        with _pipelines_lock:
            pipelines = list(_pipelines.values())
        now = time.time()
        for prefix in METRIC_PREFIXES:
            families: dict[str, GaugeMetricFamily | CounterMetricFamily] = {
                "running": GaugeMetricFamily(
                    f"{prefix}_running", "1 while the pipeline runs", labels=METRIC_LABELS
                ),
                "stale": GaugeMetricFamily(
                    f"{prefix}_stale",
                    "1 when work is pending and nothing progressed within the stale window",
                    labels=METRIC_LABELS,
                ),
                "unhealthy": GaugeMetricFamily(
                    f"{prefix}_unhealthy",
                    "1 when not running, stale, or failing for longer than the error window",
                    labels=METRIC_LABELS,
                ),
                "error_streak": GaugeMetricFamily(
                    f"{prefix}_error_streak",
                    "Failed attempts since the last progress",
                    labels=METRIC_LABELS,
                ),
                "errors": CounterMetricFamily(
                    f"{prefix}_errors", "Failed attempts", labels=METRIC_LABELS
                ),
                "processed": CounterMetricFamily(
                    f"{prefix}_processed",
                    "Deliveries handled: events applied or skipped, sweeps completed",
                    labels=METRIC_LABELS,
                ),
                "last_progress_age": GaugeMetricFamily(
                    f"{prefix}_last_progress_age_seconds",
                    "Seconds since the last progress (since start when none yet)",
                    labels=METRIC_LABELS,
                ),
                "first_error_age": GaugeMetricFamily(
                    f"{prefix}_first_error_age_seconds",
                    "Seconds since the first error of the current streak (0 without one)",
                    labels=METRIC_LABELS,
                ),
                "lag": GaugeMetricFamily(
                    f"{prefix}_lag_seconds",
                    "Age of the last processed event when it was processed",
                    labels=METRIC_LABELS,
                ),
            }
            for pipeline in pipelines:
                labels = ["phasma", pipeline.service, pipeline.name]
                values = pipeline.measure(now)
                for key, family in families.items():
                    family.add_metric(labels, values[key])
            yield from families.values()


REGISTRY.register(_PipelineCollector())
