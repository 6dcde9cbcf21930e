"""Token-bucket rate limiting shared by every replica (docs/api.md §6).

Each decision is one server-side Lua script, so concurrent replicas never race:
the bucket starts full, refills continuously (fractions kept), takes one token
per request, and expires `burst / rate + 1` seconds after its last use.
"""

from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass

import redis
from prometheus_client import Counter

from phasma.cache import ScriptRunner
from phasma.config import BucketPolicy

log = logging.getLogger(__name__)

DECISIONS = Counter(
    "phasma_rate_limit_decisions_total",
    "Rate-limit decisions by policy and outcome (allowed, limited, error)",
    ["policy", "outcome"],
)


@functools.lru_cache(maxsize=64)
def _decision_series(policy_name: str, outcome: str) -> Counter:
    # Looked up once per (policy, outcome), as `http.metrics` does for its series:
    # `labels()` validates and locks on every call.
    return DECISIONS.labels(policy_name, outcome)


# KEYS[1] the bucket to take from; ARGV: burst, rate (tokens/s), and optionally
# "refund": then KEYS[2] is a bucket that gets back the token it lent this request,
# in the same step (`RateLimiter.check(refund=...)`). Time comes from the server so
# replicas with skewed clocks agree. Returns {allowed 0/1, milliseconds until a token}.
TOKEN_BUCKET_LUA = """
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local function level(key)
  local state = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(state[1])
  local at = tonumber(state[2])
  if tokens == nil or at == nil then
    return burst
  end
  return math.min(burst, tokens + math.max(0, now - at) * rate)
end
local function store(key, tokens)
  redis.call('HSET', key, 'tokens', tostring(tokens), 'at', tostring(now))
  redis.call('PEXPIRE', key, math.ceil((burst / rate + 1) * 1000))
end
if ARGV[3] == 'refund' then
  store(KEYS[2], math.min(burst, level(KEYS[2]) + 1))
end
local tokens = level(KEYS[1])
local allowed = 0
local wait_ms = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait_ms = math.ceil((1 - tokens) / rate * 1000)
end
store(KEYS[1], tokens)
return {allowed, wait_ms}
"""


@dataclass(frozen=True)
class Decision:
    """The outcome of one rate-limit check."""

    allowed: bool
    retry_after_seconds: int = 0
    error: bool = False


class RateLimiter:
    """Token buckets in the cache; `fail_open` decides what a cache failure means."""

    def __init__(
        self, cache: redis.Redis, *, fail_open: bool, connection_lifetime_seconds: float
    ) -> None:
        self._script = ScriptRunner(cache, TOKEN_BUCKET_LUA, connection_lifetime_seconds)
        self._fail_open = fail_open

    def check(
        self, policy_name: str, policy: BucketPolicy, identity: str, *, refund: str | None = None
    ) -> Decision:
        """Take one token from `ratelimit:{policy}:{identity}` (identity is `user:…` or `ip:…`).

        `refund`: an identity whose bucket of the same policy lent this request a token
        before it knew its identity; it gets the token back in the same atomic step.
        """
        keys = [f"ratelimit:{policy_name}:{identity}"]
        arguments: list[int | str] = [policy.burst, str(policy.rate)]
        if refund is not None:
            keys.append(f"ratelimit:{policy_name}:{refund}")
            arguments.append("refund")
        try:
            allowed, wait_ms = self._script(keys, arguments)
        except redis.RedisError as error:
            _decision_series(policy_name, "error").inc()
            log.warning("rate limiter cache error (%s); failing %s", error, self._mode)
            return Decision(allowed=self._fail_open, error=True)
        if allowed:
            _decision_series(policy_name, "allowed").inc()
            return Decision(allowed=True)
        _decision_series(policy_name, "limited").inc()
        return Decision(allowed=False, retry_after_seconds=max(1, math.ceil(int(wait_ms) / 1000)))

    @property
    def _mode(self) -> str:
        return "open" if self._fail_open else "closed"

    def close(self) -> None:
        self._script.close()
