"""Logging in (docs/api.md §5.4, §A.4 and §A.5) and the session writes around it.

Order: normalise email → (a signed device cookie: credential lookup) → throttle
reservation → credential lookup → verify (decoy if no account) → failure: the
reservation stays, `401` → success: settle the throttle → a suspended account: `403`
(docs/api.md §D) → rehash check, create the session, `201` with the session and device cookies.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import UUID

from phasma.auth.devices import DeviceCookie
from phasma.auth.sessions import Viewer
from phasma.auth.tokens import new_token, token_key
from phasma.db.pool import Database
from phasma.errors import Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized
from phasma.runtime import Runtime
from phasma.sessions import queries
from phasma.sessions.devices import UNKNOWN_DEVICE
from phasma.users.queries import LoginRow, credentials_by_email

log = logging.getLogger(__name__)

# The same text for a throttled login and bad credentials, so neither hints why.
BAD_CREDENTIALS = "Invalid email or password"
ACCOUNT_SUSPENDED = "Account suspended"


@dataclass(frozen=True)
class LoggedIn:
    """A login that succeeded: who, and the new session's raw token."""

    username: str
    user_public_id: UUID
    token: str


def log_in(
    runtime: Runtime,
    email: str,
    password: str,
    client_ip: str,
    device: DeviceCookie | None,
    *,
    device_label: str = UNKNOWN_DEVICE,
) -> LoggedIn:
    """Check credentials through the throttle and open a session labelled `device_label`."""
    throttle = runtime.login_throttle
    account: LoginRow | None = None
    trusted_device: str | None = None
    if device is not None:
        # Only a device cookie with our signature costs a read before the throttle: it
        # must name this email's account to count on its own counter (docs/api.md §A.5).
        account = runtime.db.read(lambda executor: credentials_by_email(executor, email))
        if account is not None and account["public_id"] == device.user_id:
            trusted_device = device.device_id
    reservation = throttle.reserve(client_ip, email, device=trusted_device)
    if reservation.blocked:
        raise TooManyRequests(BAD_CREDENTIALS)
    try:
        if device is None:
            account = runtime.db.read(lambda executor: credentials_by_email(executor, email))
        stored_hash = account["password_hash"] if account else None
        verified = runtime.passwords.verify(stored_hash, password) and account is not None
    except Exception:
        throttle.cancel(reservation)  # no verdict: the attempt learnt nothing
        raise
    if not verified or account is None:
        raise Unauthorized(BAD_CREDENTIALS)  # the reservation stays: it is the failure
    throttle.succeeded(reservation)
    if account["suspended"]:
        # Only after the password: a wrong one gets the same 401 as for any account, so
        # the answer tells a suspension to nobody who cannot log in anyway (docs/api.md §D).
        raise Forbidden(ACCOUNT_SUSPENDED)
    if runtime.passwords.needs_rehash(stored_hash or ""):
        _rehash(runtime, account["id"], password)
    token = new_token()
    key = token_key(token, runtime.settings.session_hash_secret or "")
    with runtime.db.transaction() as executor:
        queries.create_session(
            executor,
            account["id"],
            key,
            runtime.settings.session_absolute_ttl_seconds,
            device_label,
        )
    return LoggedIn(account["username"], account["public_id"], token)


def revoke(database: Database, viewer: Viewer, public_id: UUID) -> None:
    """End another of the viewer's sessions: 409 for the current one, 404 for none of theirs."""
    with database.transaction() as executor:
        outcome = queries.revoke_session(executor, viewer.user_id, public_id, viewer.session_key)
    if outcome == "current":
        raise Conflict("use DELETE /sessions to end the current session")
    if outcome == "missing":
        raise NotFound()


def _rehash(runtime: Runtime, user_id: int, password: str) -> None:
    """Upgrade a weaker stored hash; a failure is logged and the login goes on."""
    try:
        new_hash = runtime.passwords.hash(password)
        with runtime.db.transaction() as executor:
            queries.store_rehash(executor, user_id, new_hash)
    except Exception:
        log.warning("re-hashing a password failed; the login proceeds", exc_info=True)
