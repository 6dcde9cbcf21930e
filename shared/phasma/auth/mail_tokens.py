"""Single-use mail tokens (docs/api.md §B): their shape, minting and spending.

A token is 32 CSPRNG bytes as 43 base64url characters and travels only inside the
mail it was minted for. The database keeps its HMAC-SHA256 under a key derived
from `SESSION_HASH_SECRET` with a purpose label of its own, so a session key and a
mail-token key can never be confused, and a stolen dump holds no usable link.

Below the slices: the `mail` slice mints the tokens as it sends (`store`), the
`users` slice spends them (`spend`), and the site refuses a link whose token could
never be one (`is_well_formed`) before it calls the backend.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Literal, TypedDict

from phasma.config import Limits
from phasma.db.pool import Executor

Purpose = Literal["verify", "reset"]

_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
_KEY_LABEL = b"phasma mail token v1"
LIFETIMES: dict[Purpose, timedelta] = {
    "verify": timedelta(seconds=Limits.VERIFICATION_TOKEN_TTL_SECONDS),
    "reset": timedelta(seconds=Limits.RESET_TOKEN_TTL_SECONDS),
}


def is_well_formed(token: object) -> bool:
    return isinstance(token, str) and _TOKEN_SHAPE.fullmatch(token) is not None


def new_token() -> str:
    """A fresh token: `MAIL_TOKEN_BYTES` random bytes, unpadded base64url."""
    raw = secrets.token_bytes(Limits.MAIL_TOKEN_BYTES)
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def token_hmac(token: str, secret: str) -> str:
    """The stored form of `token`: hex HMAC-SHA256 under the mail-token key."""
    key = hmac.new(secret.encode(), _KEY_LABEL, hashlib.sha256).digest()
    return hmac.new(key, token.encode("ascii"), hashlib.sha256).hexdigest()


def store(executor: Executor, secret: str, user_id: int, purpose: Purpose, email: str) -> str:
    """Mint a token for `user_id`, store only its HMAC with its expiry; return the token."""
    token = new_token()
    executor.execute(
        """
        INSERT INTO mail_tokens (token_hmac, user_id, purpose, email, expires)
        VALUES (:token_hmac, :user_id, :purpose, :email, :expires)
        """,
        token_hmac=token_hmac(token, secret),
        user_id=user_id,
        purpose=purpose,
        email=email,
        expires=datetime.now(UTC) + LIFETIMES[purpose],
    )
    return token


class SpentToken(TypedDict):
    """Whom a spent token was for: the account and the address it was mailed to."""

    user_id: int
    email: str


def is_live(executor: Executor, secret: str, token: str, purpose: Purpose) -> bool:
    """Whether `token` is a live, unused token of `purpose` (a read; `spend` decides)."""
    return bool(
        executor.fetch_value(
            """
            SELECT 1 FROM mail_tokens
            WHERE token_hmac = :token_hmac AND purpose = :purpose
              AND used IS NULL AND expires > now()
            """,
            token_hmac=token_hmac(token, secret),
            purpose=purpose,
        )
    )


def spend(executor: Executor, secret: str, token: str, purpose: Purpose) -> SpentToken | None:
    """Mark a live, unused token of `purpose` used; its row (user_id, email), else None.

    One UPDATE decides, so two concurrent requests with one token cannot both spend it.
    """
    if not is_well_formed(token):
        return None
    return executor.fetch_one_as(
        SpentToken,
        """
        UPDATE mail_tokens SET used = now()
        WHERE token_hmac = :token_hmac AND purpose = :purpose
          AND used IS NULL AND expires > now()
        RETURNING user_id, email
        """,
        token_hmac=token_hmac(token, secret),
        purpose=purpose,
    )


def spend_all(executor: Executor, user_id: int, purpose: Purpose) -> None:
    """Mark every unused token of `purpose` of `user_id` used: the links mailed so far die."""
    executor.execute(
        """
        UPDATE mail_tokens SET used = now()
        WHERE user_id = :user_id AND purpose = :purpose AND used IS NULL
        """,
        user_id=user_id,
        purpose=purpose,
    )
