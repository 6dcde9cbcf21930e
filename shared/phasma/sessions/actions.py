"""Logging in (security.md §3 "Login order") and the session writes around it."""

from __future__ import annotations

import logging

from phasma.auth.tokens import new_token, token_key
from phasma.http.errors import TooManyRequests, Unauthorized
from phasma.runtime import Runtime
from phasma.sessions import queries
from phasma.sessions.devices import UNKNOWN_DEVICE
from phasma.users.queries import credentials_by_email

log = logging.getLogger(__name__)

# The same text for a throttled login and bad credentials, so neither hints why.
BAD_CREDENTIALS = "Invalid email or password"


def log_in(
    runtime: Runtime, email: str, password: str, client_ip: str, *, device: str = UNKNOWN_DEVICE
) -> tuple[str, str]:
    """Check credentials and open a session labelled `device`; returns (username, raw
    token)."""
    throttle = runtime.login_throttle
    if throttle.blocked(client_ip, email):
        raise TooManyRequests(BAD_CREDENTIALS)
    account = runtime.db.read(lambda executor: credentials_by_email(executor, email))
    stored_hash = account["password_hash"] if account else None
    if not runtime.passwords.verify(stored_hash, password) or account is None:
        throttle.record_failure(client_ip, email)
        raise Unauthorized(BAD_CREDENTIALS)
    if runtime.passwords.needs_rehash(stored_hash or ""):
        _rehash(runtime, account["id"], password)
    token = new_token()
    key = token_key(token, runtime.settings.session_hash_secret or "")
    with runtime.db.transaction() as executor:
        queries.create_session(
            executor, account["id"], key, runtime.settings.session_absolute_ttl_seconds, device
        )
    throttle.reset(client_ip, email)
    return account["username"], token


def _rehash(runtime: Runtime, user_id: int, password: str) -> None:
    """Upgrade a weaker stored hash; a failure is logged and the login goes on."""
    try:
        new_hash = runtime.passwords.hash(password)
        with runtime.db.transaction() as executor:
            executor.execute(
                "UPDATE users SET password_hash = :new_hash WHERE id = :user_id",
                new_hash=new_hash,
                user_id=user_id,
            )
    except Exception:
        log.warning("re-hashing a password failed; the login proceeds", exc_info=True)
