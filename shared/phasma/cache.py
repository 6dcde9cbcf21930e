"""The Redis-protocol cache client (rate limits and the login throttle)."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Sequence
from typing import Any

import redis
from redis.connection import AbstractConnection

from phasma.config import Settings

# docs/api.md §6.2: every cache call is bounded by 3 s.
CACHE_TIMEOUT_SECONDS = 3.0

Argument = str | int | float


def connect_cache(settings: Settings) -> redis.Redis | None:
    """A pooled client, or None when no cache is configured (limits off; development only)."""
    if not settings.cache_url:
        return None
    timeout = min(CACHE_TIMEOUT_SECONDS, settings.cache_conn_write_timeout_ms / 1000)
    return redis.Redis.from_url(
        settings.cache_url,
        password=settings.cache_password or None,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        health_check_interval=int(settings.cache_conn_lifetime_minutes * 60),
        decode_responses=True,
    )


class ScriptRunner:
    """Runs one Lua script per call on redis-py connections of its own: the hot path.

    Every request takes a rate-limit token, so this call's cost is paid on every
    request. redis-py's client wraps each command in a pool checkout that polls the
    socket, retry and observability hooks: about 80 µs of CPU per call on these
    machines, against about 35 µs for the same connection's `send_command` and
    `read_response` (docs/performance.md). So this keeps a small stack of
    connections built from the client's own settings (address, password, TLS,
    timeouts) and talks to them directly. A connection that fails is dropped, never
    reused; one older than `lifetime_seconds` is closed and redialled.
    """

    def __init__(self, client: redis.Redis, source: str, lifetime_seconds: float) -> None:
        self._pool = client.connection_pool
        self._source = source
        self._sha = hashlib.sha1(source.encode()).hexdigest()
        self._lifetime = lifetime_seconds
        self._idle: list[tuple[AbstractConnection, float]] = []
        self._lock = threading.Lock()

    def __call__(self, keys: Sequence[str], args: Sequence[Argument]) -> Any:
        """EVALSHA, loading the script with EVAL when the server does not know it yet.

        Raises `redis.RedisError` when the cache fails or refuses.
        """
        try:
            return self._command("EVALSHA", self._sha, len(keys), *keys, *args)
        except redis.exceptions.NoScriptError:
            # A restarted or flushed server: EVAL runs it and caches it again.
            return self._command("EVAL", self._source, len(keys), *keys, *args)

    def _command(self, *command: Argument) -> Any:
        connection, opened_at, reused = self._take()
        try:
            connection.send_command(*command)
            reply = connection.read_response()
        except redis.exceptions.ResponseError:
            self._give_back(connection, opened_at)  # the server answered: the link is fine
            raise
        except redis.exceptions.ConnectionError:
            connection.disconnect()
            if not reused:
                raise
            # An idle connection the server closed (a restart, an idle timeout): try
            # the next one, as redis-py's client retries, so a cache restart does not
            # fail one request per pooled connection. Each stale one is dropped, so
            # at worst this ends on a newly dialled connection, which never retries.
            return self._command(*command)
        except BaseException:
            connection.disconnect()
            raise
        self._give_back(connection, opened_at)
        return reply

    def _take(self) -> tuple[AbstractConnection, float, bool]:
        """A connection, when it was opened, and whether it served a command before."""
        now = time.monotonic()
        with self._lock:
            while self._idle:
                connection, opened_at = self._idle.pop()
                if now - opened_at < self._lifetime:
                    return connection, opened_at, True
                connection.disconnect()
        pool = self._pool
        return pool.connection_class(**pool.connection_kwargs), now, False  # connects on use

    def _give_back(self, connection: AbstractConnection, opened_at: float) -> None:
        with self._lock:
            self._idle.append((connection, opened_at))

    def close(self) -> None:
        """Disconnect every idle connection (a process shutting down)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection, _ in idle:
            connection.disconnect()
