"""Argon2id password hashing with bounded concurrency (docs/api.md §5.4).

Each hash or verify takes ~19 MiB and real CPU time, so they run through a
`ConcurrencyLimit` of `ARGON_MAX_CONCURRENCY` dedicated threads: a semaphore on
the request threads would bound how many run at once but not the memory (every
thread that ever hashed keeps a malloc arena holding 19 MiB: +386 MiB for 50
logins with a bound of 4, against +140 MiB with the pool). Waiting past the
deadline answers 503 instead of letting a login burst exhaust the replica.
"""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from phasma.concurrency import ConcurrencyLimit

# Argon2id v19, m = 19456 KiB, t = 2, p = 1, 16-byte salt, 32-byte hash.
HASHER = PasswordHasher(
    time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, salt_len=16, type=Type.ID
)


class PasswordHashing:
    """Hash and verify passwords, at most `max_concurrency` at a time in this process."""

    def __init__(self, max_concurrency: int, wait_timeout_seconds: float) -> None:
        self._limit = ConcurrencyLimit(max_concurrency, wait_timeout_seconds, "argon2")
        # Verified when an email matches no account, so timing does not reveal it.
        self._decoy_hash = HASHER.hash(secrets.token_urlsafe(32))

    def hash(self, password: str) -> str:
        """A PHC string for `password` with the current parameters."""
        return self._limit.run(lambda: HASHER.hash(password))

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """Constant-time verify; an unknown account (None) verifies the decoy and fails."""
        target = stored_hash if stored_hash is not None else self._decoy_hash

        def check() -> bool:
            try:
                return HASHER.verify(target, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

        return self._limit.run(check) and stored_hash is not None

    def close(self) -> None:
        """Let the hashing threads exit once running work is done (process shutdown)."""
        self._limit.close()

    @staticmethod
    def needs_rehash(stored_hash: str) -> bool:
        """True when the stored parameters are weaker than (or differ from) the current ones."""
        try:
            return HASHER.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True
