"""A small thread-safe pg8000 connection pool with transactions, read retries and a breaker.

Connections open lazily (min 0, max `POSTGRES_MAX_CONNS`), close when idle or old,
and are discarded when broken. Reads and idempotent statements retry transient
failures with exponential backoff; transactions that write are never retried.
After `CIRCUIT_FAILURE_THRESHOLD` consecutive transient failures the breaker
opens and every call fails fast with `DatabaseUnavailable` for the cooldown.
Only transaction-scoped state is used, so a pooler in transaction mode is safe.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, cast

import pg8000.exceptions
import pg8000.native
from pg8000.converters import timestamptz_in

from phasma.config import Settings
from phasma.db.connect import connect
from phasma.failures import DependencyUnavailable

log = logging.getLogger(__name__)

Result = TypeVar("Result")
# The typed shape of a statement's rows: a TypedDict naming its columns (see `fetch_all_as`).
Row = TypeVar("Row", bound=Mapping[str, object])
CommitCallback = Callable[[], object]

# SQLSTATE classes and codes worth retrying or counting against the breaker:
# serialization failure, deadlock, admin/crash shutdown, cannot connect now,
# and every connection exception (class 08).
TIMESTAMPTZ_OID = 1184
_TRANSIENT_CODES = frozenset({"40001", "40P01", "57P01", "57P02", "57P03", "53300"})


class DatabaseUnavailable(DependencyUnavailable):
    """PostgreSQL is unreachable, failing transiently, or its breaker is open (→ 503)."""


def sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a pg8000 server error, if it is one."""
    if isinstance(error, pg8000.exceptions.DatabaseError) and error.args:
        details = error.args[0]
        if isinstance(details, dict):
            return details.get("C")
    return None


def violated_constraint(error: BaseException) -> str | None:
    """The constraint name of a unique violation (SQLSTATE 23505), else None."""
    if sqlstate(error) == "23505":
        details = error.args[0]
        return details.get("n") or ""
    return None


def _is_transient(error: BaseException) -> bool:
    if isinstance(error, (pg8000.exceptions.InterfaceError, OSError, DatabaseUnavailable)):
        return True
    code = sqlstate(error)
    return code is not None and (code in _TRANSIENT_CODES or code.startswith("08"))


# The SQL in this code base is a fixed set of constants; the cap only guards
# against a future caller building statements dynamically.
_PREPARED_STATEMENTS_PER_CONNECTION = 256


@dataclass
class _PooledConnection:
    connection: pg8000.native.Connection
    opened_at: float
    idle_since: float
    broken: bool = False
    statements: dict[str, pg8000.native.PreparedStatement] = field(default_factory=dict)

    def prepared(self, sql: str) -> pg8000.native.PreparedStatement:
        statement = self.statements.get(sql)
        if statement is None:
            if len(self.statements) >= _PREPARED_STATEMENTS_PER_CONNECTION:
                for stale in self.statements.values():
                    stale.close()
                self.statements.clear()
            statement = self.connection.prepare(sql)
            self.statements[sql] = statement
        return statement


class Executor:
    """Runs statements on one connection; rows come back as dicts keyed by column name.

    Reads go through server-side prepared statements cached per connection:
    parsing each statement once (in pg8000 and in PostgreSQL) instead of per
    call roughly halves the cost of a small query. Behind PgBouncer in
    transaction mode this needs its prepared-statement support
    (`max_prepared_statements`, PgBouncer 1.21+).
    """

    def __init__(
        self,
        pooled: _PooledConnection,
        database: Database,
        commit_callbacks: list[CommitCallback] | None = None,
    ) -> None:
        self._pooled = pooled
        self.database = database  # the pool the connection came from
        self._commit_callbacks = commit_callbacks

    def after_commit(self, callback: CommitCallback) -> None:
        """Run `callback` once this transaction has committed (never after a rollback).

        Callbacks run in registration order after the connection went back to the
        pool, so they may use the database themselves. The commit already happened
        when they run: their failures are logged, never raised to the caller.
        """
        if self._commit_callbacks is None:
            raise RuntimeError("after_commit needs a transaction (database.transaction())")
        self._commit_callbacks.append(callback)

    @property
    def commit_callbacks(self) -> tuple[CommitCallback, ...]:
        """The callbacks registered so far in this transaction (for batching by their owner)."""
        return tuple(self._commit_callbacks or ())

    def execute(self, sql: str, **params: Any) -> int:
        """Run a statement; returns the number of rows it affected."""
        connection = self._pooled.connection
        connection.run(sql, **params)
        affected: int = connection.row_count
        return affected

    def fetch_all(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        statement = self._pooled.prepared(sql)
        rows = statement.run(**params) or []
        names = [column["name"] for column in statement.columns or ()]
        return [dict(zip(names, row, strict=True)) for row in rows]

    def fetch_one(self, sql: str, **params: Any) -> dict[str, Any] | None:
        rows = self.fetch_all(sql, **params)
        return rows[0] if rows else None

    def fetch_all_as(self, shape: type[Row], sql: str, **params: Any) -> list[Row]:
        """`fetch_all`, its rows typed as `shape`: a TypedDict of the statement's columns.

        The shape is the statement's promise to the type checker, not checked at run
        time: it lets a row cross a module boundary with its columns named and typed.
        """
        return cast(list[Row], self.fetch_all(sql, **params))

    def fetch_one_as(self, shape: type[Row], sql: str, **params: Any) -> Row | None:
        """`fetch_one`, its row typed as `shape` (see `fetch_all_as`)."""
        return cast(Row | None, self.fetch_one(sql, **params))

    def fetch_value(self, sql: str, **params: Any) -> Any:
        rows = self._pooled.prepared(sql).run(**params) or []
        return rows[0][0] if rows else None


class CircuitBreaker:
    """Opens after `threshold` consecutive transient failures, for `cooldown` seconds."""

    def __init__(self, threshold: int, cooldown: float) -> None:
        self._threshold = threshold
        self._cooldown = cooldown
        self._failures = 0
        self._opened_at: float | None = None
        self._lock = threading.Lock()

    def check(self) -> None:
        with self._lock:
            if self._opened_at is None:
                return
            if time.monotonic() - self._opened_at < self._cooldown:
                raise DatabaseUnavailable("database circuit open")
            # Half-open: let calls through; the next failure re-opens at once.
            self._opened_at = None
            self._failures = self._threshold - 1

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._failures >= self._threshold and self._opened_at is None:
                self._opened_at = time.monotonic()
                log.warning("database circuit opened after %d failures", self._failures)

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None


class Database:
    """The per-process pool; create one per function with `Database(settings)`."""

    def __init__(self, settings: Settings, *, application_name: str | None = None) -> None:
        if not settings.database_url:
            raise RuntimeError("DATABASE_URL is not set")
        self._url = settings.database_url
        self.settings = settings
        self._application_name = application_name or settings.k_service
        self._idle: list[_PooledConnection] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(settings.postgres_max_conns)
        self.breaker = CircuitBreaker(
            settings.circuit_failure_threshold, settings.circuit_cooldown_seconds
        )

    # -- connections -----------------------------------------------------

    def _open(self) -> _PooledConnection:
        connection = connect(self._url, application_name=self._application_name)
        connection.register_in_adapter(TIMESTAMPTZ_OID, _parse_timestamptz)
        now = time.monotonic()
        return _PooledConnection(connection, opened_at=now, idle_since=now)

    def _take_idle(self) -> _PooledConnection | None:
        now = time.monotonic()
        lifetime = self.settings.postgres_conn_lifetime_minutes * 60
        idle_limit = self.settings.postgres_conn_idle_seconds
        with self._lock:
            while self._idle:
                pooled = self._idle.pop()
                if now - pooled.opened_at < lifetime and now - pooled.idle_since < idle_limit:
                    return pooled
                _close_quietly(pooled.connection)
        return None

    @contextmanager
    def _connection(self) -> Iterator[_PooledConnection]:
        """Lend a connection; it returns to the pool unless `broken` was set or I/O failed."""
        self.breaker.check()
        if not self._slots.acquire(timeout=self.settings.ready_timeout_ms / 1000 * 5):
            raise DatabaseUnavailable("no database connection free")
        pooled: _PooledConnection | None = None
        try:
            try:
                pooled = self._take_idle() or self._open()
            except Exception as error:
                self.breaker.record_failure()
                raise DatabaseUnavailable(f"cannot connect: {error}") from error
            try:
                yield pooled
            except Exception as error:
                if _is_transient(error):
                    pooled.broken = True
                raise
        finally:
            if pooled is not None:
                if pooled.broken:
                    _close_quietly(pooled.connection)
                else:
                    pooled.idle_since = time.monotonic()
                    with self._lock:
                        self._idle.append(pooled)
            self._slots.release()

    # -- public API ------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Executor]:
        """One transaction; commits on success, rolls back on any exception. Never retried.

        Callbacks registered with `executor.after_commit` run after the commit.
        """
        commit_callbacks: list[CommitCallback] = []
        with self._connection() as pooled:
            try:
                pooled.connection.run("BEGIN")
                yield Executor(pooled, self, commit_callbacks)
                pooled.connection.run("COMMIT")
            except BaseException as error:
                if not _is_transient(error):
                    pooled.broken = not _rolled_back(pooled.connection)
                self._record(error)
                translated = _translate(error)
                if translated is error:
                    raise
                raise translated from error
        self.breaker.record_success()
        for callback in commit_callbacks:
            try:
                callback()
            except Exception:
                log.exception("an after-commit callback failed")

    def read(self, work: Callable[[Executor], Result]) -> Result:
        """Run `work` outside a transaction, retrying transient failures with backoff.

        Only for reads and idempotent statements: `work` may run more than once.
        """
        attempts = self.settings.postgres_retry_max_attempts
        backoff = self.settings.postgres_retry_backoff_ms / 1000
        for attempt in range(1, attempts + 1):
            try:
                with self._connection() as pooled:
                    result = work(Executor(pooled, self))
            except Exception as error:
                self._record(error)
                retry = attempt < attempts and _is_transient(error) and not self.breaker.is_open
                if not retry:
                    translated = _translate(error)
                    if translated is error:
                        raise
                    raise translated from error
                time.sleep(backoff * 2 ** (attempt - 1))
            else:
                self.breaker.record_success()
                return result
        raise AssertionError("unreachable: the last attempt always returns or raises")

    def ping(self) -> None:
        """`SELECT 1` once, no retry (readiness)."""
        with self._connection() as pooled:
            pooled.connection.run("SELECT 1")

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for pooled in idle:
            _close_quietly(pooled.connection)

    def _record(self, error: BaseException) -> None:
        if _is_transient(error):
            self.breaker.record_failure()


def _parse_timestamptz(text: str) -> datetime | str:
    """PostgreSQL's timestamptz text; `fromisoformat` is ~10x faster than pg8000's strptime."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        parsed: datetime | str = timestamptz_in(text)  # infinity and out-of-range values
        return parsed


def _translate(error: BaseException) -> BaseException:
    if isinstance(error, DatabaseUnavailable):
        return error
    if _is_transient(error):
        return DatabaseUnavailable(str(error))
    return error


def _rolled_back(connection: pg8000.native.Connection) -> bool:
    """Roll back; False when that failed too, so the caller discards the connection."""
    try:
        connection.run("ROLLBACK")
    except Exception:
        log.debug("rollback failed", exc_info=True)
        return False
    return True


def _close_quietly(connection: pg8000.native.Connection) -> None:
    try:
        connection.close()
    except Exception:
        log.debug("closing a connection failed", exc_info=True)
