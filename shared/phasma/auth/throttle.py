"""Login throttle (api.md §6.3): fixed 15-minute windows of failures per IP and per email.

A cache failure always fails open: the throttle slows attackers, it must not
lock everyone out when the cache restarts.
"""

from __future__ import annotations

import logging
from typing import Literal

import redis
from prometheus_client import Counter

from phasma.config import Limits

log = logging.getLogger(__name__)

BLOCKS = Counter("phasma_login_throttle_blocks_total", "Logins refused by the throttle", ["reason"])


class LoginThrottle:
    """Counters `login:ip:{ip}` and `login:email:{email}` in the cache."""

    def __init__(self, cache: redis.Redis | None) -> None:
        self._cache = cache

    @staticmethod
    def _keys(ip: str, email: str) -> tuple[str, str]:
        return f"login:ip:{ip}", f"login:email:{email}"

    def blocked(self, ip: str, email: str) -> Literal["ip", "email"] | None:
        """Which counter blocks this login, if any (checked before any database work)."""
        if self._cache is None:
            return None
        ip_key, email_key = self._keys(ip, email)
        try:
            ip_count, email_count = self._cache.mget(ip_key, email_key)
        except redis.RedisError as error:
            log.warning("login throttle unavailable (%s); failing open", error)
            return None
        reason: Literal["ip", "email"] | None = None
        if int(ip_count or 0) >= Limits.LOGIN_THROTTLE_IP_LIMIT:
            reason = "ip"
        elif int(email_count or 0) >= Limits.LOGIN_THROTTLE_EMAIL_LIMIT:
            reason = "email"
        if reason:
            BLOCKS.labels(reason).inc()
        return reason

    def record_failure(self, ip: str, email: str) -> None:
        """Count one failed login on both keys; the window starts at the first failure."""
        if self._cache is None:
            return
        try:
            # SET NX starts the window only on the first failure; INCR keeps that TTL.
            # (EXPIRE NX would do the same but needs Redis 7.)
            pipeline = self._cache.pipeline()
            for key in self._keys(ip, email):
                pipeline.set(key, 0, ex=Limits.LOGIN_THROTTLE_WINDOW_SECONDS, nx=True)
                pipeline.incr(key)
            pipeline.execute()
        except redis.RedisError as error:
            log.warning("login throttle could not record a failure (%s)", error)

    def reset(self, ip: str, email: str) -> None:
        """Forget both counters after a successful login."""
        if self._cache is None:
            return
        try:
            self._cache.delete(*self._keys(ip, email))
        except redis.RedisError as error:
            log.warning("login throttle could not reset (%s)", error)
