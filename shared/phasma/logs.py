"""JSON log lines on stdout, each carrying the request id of the request that wrote it."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from datetime import UTC, datetime

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extra fields."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "service": self._service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["requestId"] = request_id
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(service: str, level: str) -> None:
    """Route every logger of the process to JSON lines on stdout (idempotent)."""
    root = logging.getLogger()
    if any(isinstance(handler.formatter, JsonFormatter) for handler in root.handlers):
        return
    # Our lines carry none of the caller's file and line, thread or process: skip
    # collecting them (the logging HOWTO's "Optimization"), a third of the cost of
    # the access line every request writes.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root.handlers = [handler]
    root.setLevel(level.upper())
    # urllib3 writes every request line, path included, at DEBUG: a password-reset path
    # carries its token (docs/security.md §10), so that line stays off even at debug.
    logging.getLogger("urllib3.connectionpool").setLevel(logging.INFO)


_access_log = logging.getLogger("phasma.access")


def log_access(method: str, path: str, route: str, status: int, started: float) -> None:
    """The one access-log line of a request (docs/api.md §1.1); `started` is a perf_counter()."""
    _access_log.info(
        "%s %s %s",
        method,
        path,
        status,
        extra={
            "fields": {
                "method": method,
                "route": route,
                "path": path,
                "status": status,
                "durationMs": round((time.perf_counter() - started) * 1000, 2),
            }
        },
    )
