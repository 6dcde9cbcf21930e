"""`/health`, `/ready` and `/metrics` on every HTTP function (docs/api.md §17).

Probes skip the pipeline: no session, no rate limit, no access log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait

from prometheus_client import generate_latest
from werkzeug import Response

from phasma.http.metrics import DEPENDENCY_UP
from phasma.http.responses import error_response, no_content
from phasma.registry import resolve
from phasma.runtime import Runtime

log = logging.getLogger(__name__)

PATHS = frozenset({"/health", "/ready", "/metrics"})
# The text format docs/api.md §17 names (generate_latest writes it); newer clients
# default to announcing 1.0.0.
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_checks_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="ready")


def answer(path: str, runtime: Runtime) -> Response:
    if path == "/health":
        return no_content()
    if path == "/metrics":
        return Response(generate_latest(), content_type=METRICS_CONTENT_TYPE)
    return _ready(runtime)


def readiness_checks(runtime: Runtime) -> dict[str, Callable[[], object]]:
    """The dependencies this function needs to serve requests, by name."""
    checks: dict[str, Callable[[], object]] = {}
    if runtime.database is not None:
        checks["postgres"] = runtime.database.ping
    # The cache matters only while the limiter fails closed (docs/api.md §17).
    if runtime.cache is not None and not runtime.settings.rate_limit_fail_open:
        checks["cache"] = runtime.cache.ping
    if runtime.function.blob_store_readiness:
        # A lambda, so that building the client on first use also counts against the budget.
        checks["blob_store"] = lambda: runtime.blob_store.check()
    # The function's own dependencies, as its registry entry declares them: only a
    # function that names a check imports the module (and the client) behind it.
    for readiness in runtime.function.readiness:
        check = resolve(readiness.check)(runtime)
        if check is not None:
            checks[readiness.name] = check
    return checks


def _ready(runtime: Runtime) -> Response:
    checks = readiness_checks(runtime)
    futures = {name: _checks_pool.submit(check) for name, check in checks.items()}
    wait(futures.values(), timeout=runtime.settings.ready_timeout_ms / 1000)
    healthy = True
    for name, future in futures.items():
        up = future.done() and future.exception() is None
        DEPENDENCY_UP.labels(name).set(1 if up else 0)
        if not up:
            healthy = False
            reason = future.exception() if future.done() else "timed out"
            log.warning("readiness: %s failed: %s", name, reason)
    return no_content() if healthy else error_response(503, "Service unavailable")
