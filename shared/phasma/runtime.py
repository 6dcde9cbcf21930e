"""Per-process dependencies of a function: settings, database pool, cache, blobs, hashing.

Created once when the function process starts; every request shares them.
Nothing here keeps state that matters for correctness across requests.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar, cast

import redis

from phasma.auth.passwords import PasswordHashing
from phasma.auth.throttle import LoginThrottle
from phasma.cache import connect_cache
from phasma.concurrency import ConcurrencyLimit, Slots, request_threads, stream_capacity
from phasma.config import Settings
from phasma.db.pool import Database
from phasma.ratelimit import RateLimiter
from phasma.registry import Function
from phasma.streams import StreamLeases

if TYPE_CHECKING:
    from phasma.blobs import BlobStore

Component = TypeVar("Component")


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
            RateLimiter(
                self.cache,
                fail_open=settings.rate_limit_fail_open,
                connection_lifetime_seconds=settings.cache_conn_lifetime_minutes * 60,
            )
            if self.cache is not None
            else None
        )
        self.login_throttle = LoginThrottle(
            self.cache, connection_lifetime_seconds=settings.cache_conn_lifetime_minutes * 60
        )
        # Open event streams: per user across replicas (the cache), and per process, below
        # the request threads so streams never take the last one (docs/operations.md).
        self.stream_leases: StreamLeases | None = (
            StreamLeases(
                self.cache,
                fail_open=settings.rate_limit_fail_open,
                connection_lifetime_seconds=settings.cache_conn_lifetime_minutes * 60,
            )
            if self.cache is not None
            else None
        )
        self.stream_slots = Slots(stream_capacity(request_threads(function)))
        self._blob_store: BlobStore | None = None
        self._blob_store_lock = threading.Lock()
        self._components: dict[str, object] = {}
        self._components_lock = threading.Lock()
        # Bounds concurrent image decodes in this process (docs/api.md §15.1). Cheap to build
        # (threads start on first use), and built eagerly so racing first users share it.
        self.image_decoding = ConcurrencyLimit(
            settings.upload_max_concurrency, settings.upload_wait_timeout_seconds, "decode"
        )
        if function.hashes_passwords:
            # The decoy hash is computed at start-up (docs/operations.md §5), not at first login.
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

    @property
    def blob_store(self) -> BlobStore:
        """The S3 blob store, created on first use (only functions declared `uses_blob_store`)."""
        if not self.function.uses_blob_store:
            raise RuntimeError(f"function {self.function.name} does not use the blob store")
        with self._blob_store_lock:
            if self._blob_store is None:
                # Imported here: boto3 takes ~0.1 s to import and its client another ~0.1 s,
                # a cold-start cost only blob users should pay (docs/operations.md §5).
                from phasma.blobs import BlobStore

                self._blob_store = BlobStore(self.settings)
            return self._blob_store

    def component(self, name: str, build: Callable[[Runtime], Component]) -> Component:
        """The per-process object `name` a slice builds with `build` on first use (the
        search engine's client, say), shared by every request after that: the runtime
        keeps it without knowing the slice, so plumbing never imports one."""
        with self._components_lock:
            if name not in self._components:
                self._components[name] = build(self)
            return cast(Component, self._components[name])

    def close(self) -> None:
        if self.database is not None:
            self.database.close()
        if self.rate_limiter is not None:
            self.rate_limiter.close()
        self.login_throttle.close()
        if self.stream_leases is not None:
            self.stream_leases.close()
        if self.cache is not None:
            self.cache.close()
        self.image_decoding.close()
        if "passwords" in self.__dict__:  # only when it was ever built (cached_property)
            self.passwords.close()
