"""Prometheus metrics every HTTP function exposes on `/metrics` (docs/api.md §17)."""

from __future__ import annotations

import functools

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter(
    "phasma_http_requests_total",
    "HTTP requests by function, method, route template and status",
    ["function", "method", "route", "status"],
)
DURATION = Histogram(
    "phasma_http_request_duration_seconds",
    "HTTP request duration by function, method and route template",
    ["function", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DEPENDENCY_UP = Gauge(
    "phasma_dependency_up",
    "1 when the dependency answered the last readiness check",
    ["dependency"],
)


@functools.lru_cache(maxsize=1024)
def _series(function: str, method: str, route: str, status: int) -> tuple[Counter, Histogram]:
    # `labels()` validates and looks up under a lock on every call; the label sets are
    # few (route templates x statuses), so each pair of series is looked up once.
    return (
        REQUESTS.labels(function, method, route, str(status)),
        DURATION.labels(function, method, route),
    )


def observe(function: str, method: str, route: str, status: int, seconds: float) -> None:
    """Count one request under its route template (never the raw path)."""
    requests, duration = _series(function, method, route, status)
    requests.inc()
    duration.observe(seconds)
