"""Argon2id password hashing with bounded concurrency (security.md §3).

Each hash or verify takes ~19 MiB and real CPU time. They run on a dedicated
pool of `ARGON_MAX_CONCURRENCY` threads: a semaphore alone would bound how many
run at once, but every request thread that ever hashed would keep its own
malloc arena holding those 19 MiB (measured: +386 MiB RSS for 50 logins with a
semaphore of 4, against about +76 MiB with the pool). Waiting past the deadline
answers 503 instead of letting a login burst exhaust the replica's memory.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from phasma.http.errors import ServiceUnavailable

Result = TypeVar("Result")

# Argon2id v19, m = 19456 KiB, t = 2, p = 1, 16-byte salt, 32-byte hash.
HASHER = PasswordHasher(
    time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, salt_len=16, type=Type.ID
)


class PasswordHashing:
    """Hash and verify passwords, at most `max_concurrency` at a time in this process."""

    def __init__(self, max_concurrency: int, wait_timeout_seconds: float) -> None:
        self._workers = ThreadPoolExecutor(max_concurrency, thread_name_prefix="argon2")
        self._wait_timeout = wait_timeout_seconds
        # Verified when an email matches no account, so timing does not reveal it.
        self._decoy_hash = HASHER.hash(secrets.token_urlsafe(32))

    def _bounded(self, work: Callable[[], Result]) -> Result:
        future = self._workers.submit(work)
        try:
            return future.result(timeout=self._wait_timeout)
        except FutureTimeout:
            future.cancel()  # still queued: drop it; already running: it finishes unseen
            raise ServiceUnavailable() from None

    def hash(self, password: str) -> str:
        """A PHC string for `password` with the current parameters."""
        return self._bounded(lambda: HASHER.hash(password))

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """Constant-time verify; an unknown account (None) verifies the decoy and fails."""
        target = stored_hash if stored_hash is not None else self._decoy_hash

        def check() -> bool:
            try:
                return HASHER.verify(target, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

        return self._bounded(check) and stored_hash is not None

    @staticmethod
    def needs_rehash(stored_hash: str) -> bool:
        """True when the stored parameters are weaker than (or differ from) the current ones."""
        try:
            return HASHER.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True
