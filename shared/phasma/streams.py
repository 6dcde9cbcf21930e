"""The per-user cap on open event streams (docs/api.md §A.8: at most 5 notification streams).

Each open stream holds a lease: a member of the user's sorted set, scored by the
cache's clock time at which it lapses. Opening drops lapsed members, then adds one
only while fewer than the cap remain, in one Lua script, so replicas racing for the
last slot never both win. An open stream renews its lease while it runs and removes it
when it ends; a replica that crashes leaves leases that lapse within `LEASE_SECONDS`,
so a crash never locks a user out for longer than that.
"""

from __future__ import annotations

import logging
import secrets
import threading
from uuid import UUID

import redis

from phasma.cache import ScriptRunner
from phasma.config import Limits
from phasma.errors import ServiceUnavailable, TooManyRequests

log = logging.getLogger(__name__)

# A lease lapses this long after it was last renewed; a running stream renews it
# every `RENEW_SECONDS`, so a slow poll never loses it.
LEASE_SECONDS = 30
RENEW_SECONDS = 10
# When the user may try again: by then every stream of a crashed replica has lapsed,
# and a live one has ended and reconnected at least once (streams end before 30 s).
RETRY_AFTER_SECONDS = LEASE_SECONDS

# KEYS[1] the user's open streams; ARGV: stream id, lease ms, cap, "open" | "renew".
# Returns 1 when the stream holds its lease, 0 when refused (open) or lapsed (renew).
LEASE_LUA = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local lease = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if ARGV[4] == 'renew' then
  if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
    return 0
  end
elseif redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
redis.call('PEXPIRE', KEYS[1], lease)
return 1
"""


class Lease:
    """One open stream's place in its user's set."""

    def __init__(self, leases: StreamLeases | None, key: str) -> None:
        self._leases = leases
        self.key = key
        self.id = secrets.token_hex(8)
        self._released = False
        self._lock = threading.Lock()

    def renew(self) -> bool:
        """Extend the lease; False when it lapsed meanwhile (the stream should end)."""
        if self._leases is None:
            return True
        try:
            return bool(self._leases.run(self.key, self.id, "renew"))
        except redis.RedisError as error:
            # The cache is down: the stream goes on; its lease lapses if the cache forgot it.
            log.warning("stream lease renewal failed: %s", error)
            return True

    def release(self) -> None:
        """Give the slot back (idempotent: the stream's end may be reported twice)."""
        with self._lock:
            if self._released:
                return
            self._released = True
        if self._leases is None:
            return
        try:
            self._leases.cache.zrem(self.key, self.id)
        except redis.RedisError as error:
            log.warning("stream lease release failed (it lapses by itself): %s", error)


class StreamLeases:
    """Leases of open streams, at most `Limits.STREAMS_PER_USER` per user across replicas."""

    def __init__(
        self, cache: redis.Redis, *, fail_open: bool, connection_lifetime_seconds: float
    ) -> None:
        self.cache = cache
        self._script = ScriptRunner(cache, LEASE_LUA, connection_lifetime_seconds)
        self._fail_open = fail_open

    def run(self, key: str, stream_id: str, mode: str) -> int:
        return int(
            self._script([key], [stream_id, LEASE_SECONDS * 1000, Limits.STREAMS_PER_USER, mode])
        )

    def open(self, user_public_id: UUID) -> Lease:
        """A lease for one more stream of the user; 429 when the user has the cap open.

        A cache failure follows the rate limiter's rule (`RATE_LIMIT_FAIL_OPEN`): an
        unchecked stream, or 503.
        """
        lease = Lease(self, f"streams:notifications:{user_public_id}")
        try:
            held = self.run(lease.key, lease.id, "open")
        except redis.RedisError as error:
            log.warning("stream lease check failed: %s", error)
            if self._fail_open:
                return Lease(None, lease.key)
            raise ServiceUnavailable() from None
        if not held:
            raise TooManyRequests(
                f"At most {Limits.STREAMS_PER_USER} notification streams may be open at once",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        return lease

    def close(self) -> None:
        self._script.close()


def unchecked_lease() -> Lease:
    """A lease that limits nothing: no cache configured (development only)."""
    return Lease(None, "")
