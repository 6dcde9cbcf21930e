"""The Redis-protocol cache client (rate limits and the login throttle)."""

from __future__ import annotations

import redis

from phasma.config import Settings

# api.md §6.2: every cache call is bounded by 3 s.
CACHE_TIMEOUT_SECONDS = 3.0


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
