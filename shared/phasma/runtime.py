"""Per-process dependencies of a function: settings, database pool, cache, hashing.

Created once when the function process starts; every request shares them.
Nothing here keeps state that matters for correctness across requests.
"""

from __future__ import annotations

import functools

import redis

from phasma.auth.passwords import PasswordHashing
from phasma.auth.throttle import LoginThrottle
from phasma.cache import connect_cache
from phasma.config import Settings
from phasma.db.pool import Database
from phasma.ratelimit import RateLimiter
from phasma.registry import Function


class Runtime:
    """What a function's handlers may use; built lazily where start-up time matters."""

    def __init__(self, function: Function, settings: Settings) -> None:
        self.function = function
        self.settings = settings
        self.database: Database | None = (
            Database(settings, application_name=function.name) if function.uses_database else None
        )
        self.cache: redis.Redis | None = connect_cache(settings)
        self.rate_limiter: RateLimiter | None = (
            RateLimiter(self.cache, fail_open=settings.rate_limit_fail_open)
            if self.cache is not None
            else None
        )
        self.login_throttle = LoginThrottle(self.cache)
        if function.hashes_passwords:
            # The decoy hash is computed at start-up (operations.md §5), not on the first login.
            _ = self.passwords

    @functools.cached_property
    def passwords(self) -> PasswordHashing:
        return PasswordHashing(
            self.settings.argon_max_concurrency, self.settings.argon_wait_timeout_seconds
        )

    @property
    def db(self) -> Database:
        """The database pool (only functions declared `uses_database` have one)."""
        if self.database is None:
            raise RuntimeError(f"function {self.function.name} does not use the database")
        return self.database

    def close(self) -> None:
        if self.database is not None:
            self.database.close()
        if self.cache is not None:
            self.cache.close()
