"""Every write on users, one function each, with its outbox event in the same transaction."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING
from uuid import UUID

from phasma.accounts import ProfileFields
from phasma.auth import mail_tokens
from phasma.auth.devices import DeviceCookie
from phasma.auth.passwords import PasswordHashing
from phasma.auth.sessions import Viewer, delete_all_sessions, delete_other_sessions
from phasma.config import Limits
from phasma.db.pool import Database, Executor, violated_constraint
from phasma.errors import BadRequest, Conflict, NotFound, TooManyRequests
from phasma.events.catalogue import MailKind, MailRequested, UserCreated, UserDeleted, UserUpdated
from phasma.events.outbox import record_event
from phasma.follows import actions as follow_actions
from phasma.uploads import queries as upload_queries
from phasma.users import queries

if TYPE_CHECKING:
    from phasma.blobs import BlobStore
    from phasma.runtime import Runtime

SOURCE = "users"

log = logging.getLogger(__name__)

WRONG_PASSWORD = "current password is incorrect"
EMAIL_NEEDS_PASSWORD = "oldPassword (the current password) is required to change the email"
TOO_MANY_PASSWORD_ATTEMPTS = "Too many password attempts; try again later"
CHANGED_CONCURRENTLY = "the password was changed concurrently; try again"
INVALID_TOKEN = "the link is invalid, expired or already used"
TOO_MANY_VERIFICATION_MAILS = "Too many verification mails; try again later"


def request_mail(executor: Executor, kind: MailKind, user_public_id: UUID, address: str) -> None:
    """Ask the mailer for a mail (docs/api.md §B): what to send, never a token."""
    record_event(
        executor,
        event_type="phasma.mail.requested",
        source_function=SOURCE,
        subject=str(user_public_id),
        payload=MailRequested(kind=kind, user_id=user_public_id, address=address),
    )


USERNAME_TAKEN = "That username is taken."
EMAIL_TAKEN = "That email is already registered."


def _check_reserved(username: str) -> None:
    if username in Limits.RESERVED_USERNAMES:
        raise Conflict(USERNAME_TAKEN)  # reserved words read as taken: nothing to learn


@contextmanager
def _unique_fields_as_conflict() -> Iterator[None]:
    """Answer a unique violation on username or email with a 409 naming the field."""
    try:
        yield
    except Exception as error:
        constraint = violated_constraint(error)
        if constraint is None:
            raise
        if "email" in constraint:
            raise Conflict(EMAIL_TAKEN) from None
        raise Conflict(USERNAME_TAKEN) from None


def register(
    database: Database, passwords: PasswordHashing, fields: ProfileFields, password: str
) -> str:
    """Create the account and its `phasma.user.created` event; returns the username."""
    _check_reserved(fields.username)
    password_hash = passwords.hash(password)  # outside the transaction: it is slow
    with _unique_fields_as_conflict(), database.transaction() as executor:
        row = queries.insert_user(
            executor, fields.name, fields.username, fields.email, password_hash
        )
        record_event(
            executor,
            event_type="phasma.user.created",
            source_function=SOURCE,
            subject=str(row["public_id"]),
            payload=UserCreated(
                user_id=row["public_id"],
                username=fields.username,
                name=fields.name,
                bio=None,
                avatar=None,
                created=row["created"],
            ),
        )
        request_mail(executor, "verify", row["public_id"], fields.email)
    return fields.username


def update_profile(
    database: Database,
    viewer: Viewer,
    fields: ProfileFields,
    avatar: str | None,
    bio: str | None,
    verified_hash: str | None,
    private: bool | None = None,
) -> str | None:
    """Replace the profile; returns the previous avatar when it changed (its blob may go).

    `verified_hash` is the stored hash the caller's `oldPassword` was verified against,
    or None when none was: the email can change only with it. A new address is stored
    unverified; it gets a verification mail and the old one a notice (docs/api.md §B).
    `private` None keeps the setting; turning an account public accepts every pending
    follow request in the same transaction (docs/api.md §E), under the row lock that every
    follow of the account also takes, so no request is left behind.
    """
    _check_reserved(fields.username)
    with _unique_fields_as_conflict(), database.transaction() as executor:
        current = queries.lock_user(executor, viewer.user_id)
        if current is None:
            raise NotFound()
        # Checked again under the row lock, against what the caller verified.
        if fields.email != current["email"]:
            if verified_hash is None:
                raise BadRequest(EMAIL_NEEDS_PASSWORD)
            if verified_hash != current["password_hash"]:
                raise Conflict(CHANGED_CONCURRENTLY)
        if avatar is not None and avatar != current["avatar"]:
            acceptable = (
                queries.avatar_is_own_post(executor, viewer.user_id, avatar)
                or upload_queries.consume(executor, viewer.user_id, avatar) is not None
            )
            if not acceptable:
                raise BadRequest("avatar is invalid or expired")
        queries.write_profile(
            executor,
            viewer.user_id,
            name=fields.name,
            username=fields.username,
            email=fields.email,
            email_changed=fields.email != current["email"],
            avatar=avatar,
            bio=bio,
            private=private,
        )
        queries.write_audit(executor, viewer.user_id, "profile_updated")
        if current["private"] and private is False:
            follow_actions.accept_all_requests(executor, viewer.user_id, current["public_id"])
        previous_username = current["username"]
        record_event(
            executor,
            event_type="phasma.user.updated",
            source_function=SOURCE,
            subject=str(current["public_id"]),
            payload=UserUpdated(
                user_id=current["public_id"],
                username=fields.username,
                previous_username=(
                    previous_username if previous_username != fields.username else None
                ),
                name=fields.name,
                bio=bio,
                avatar=avatar,
            ),
        )
        if fields.email != current["email"]:
            request_mail(executor, "verify", current["public_id"], fields.email)
            request_mail(executor, "email_changed_notice", current["public_id"], current["email"])
    previous_avatar: str | None = current["avatar"]
    return previous_avatar if previous_avatar != avatar else None


def verify_current_password(
    runtime: Runtime,
    account: queries.CredentialsRow,
    password: str,
    client_ip: str,
    device: DeviceCookie | None,
) -> str:
    """Re-authentication (docs/api.md §A): `password` checked through the login throttle of the
    account's email, exactly like a login. Returns the verified stored hash."""
    throttle = runtime.login_throttle
    trusted_device = (
        device.device_id if device is not None and device.user_id == account["public_id"] else None
    )
    reservation = throttle.reserve(client_ip, account["email"], device=trusted_device)
    if reservation.blocked:
        raise TooManyRequests(
            TOO_MANY_PASSWORD_ATTEMPTS,
            headers={"Retry-After": str(reservation.retry_after_seconds)},
        )
    stored_hash: str = account["password_hash"]
    try:
        correct = runtime.passwords.verify(stored_hash, password)
    except Exception:
        throttle.cancel(reservation)  # no verdict: the attempt learnt nothing
        raise
    if not correct:
        raise BadRequest(WRONG_PASSWORD)  # the reservation stays: a failed login
    throttle.succeeded(reservation)
    return stored_hash


def change_password(
    database: Database,
    passwords: PasswordHashing,
    viewer: Viewer,
    verified_hash: str,
    new_password: str,
) -> None:
    """Store the new hash (the current password was verified), end every other session."""
    new_hash = passwords.hash(new_password)
    with database.transaction() as executor:
        # Matching the hash we verified keeps a concurrent change from being overwritten.
        changed = queries.replace_password_hash(executor, viewer.user_id, verified_hash, new_hash)
        if not changed:
            raise Conflict(CHANGED_CONCURRENTLY)
        delete_other_sessions(executor, viewer.user_id, viewer.session_key)
        queries.write_audit(executor, viewer.user_id, "password_changed")


def _admit_mail_request(
    executor: Executor, user_id: int, purpose: mail_tokens.Purpose, per_hour: int
) -> int | None:
    """Count a request for a mail of `purpose` against the account's hourly cap (docs/api.md §B).

    Within the cap the request is recorded and None returned; beyond it nothing is
    written and the answer is the seconds until the oldest request leaves the hour.
    The caller holds the account's row lock, so concurrent requests cannot overrun it.
    """
    window = queries.mail_request_window(executor, user_id, purpose)
    if window["recent"] >= per_hour:
        # A full window has an oldest request, so `wait` is set; 1 s is the floor anyway.
        return max(1, int(window["wait"] or 0))
    # Requests older than the window count for nothing: drop them as we go.
    queries.forget_old_mail_requests(executor, user_id)
    queries.record_mail_request(executor, user_id, purpose)
    return None


def delete_account(database: Database, viewer: Viewer, verified_hash: str) -> None:
    """Mark the account deleted (the password was verified) and end every session.

    From this commit every read treats the account as gone (`queries.live`); the
    `phasma.user.deleted` event hands the removal of its rows to the `account-remover`.
    """
    with database.transaction() as executor:
        # Matching the verified hash: a concurrent password change wins, as for changes.
        deleted = queries.mark_deleted(executor, viewer.user_id, verified_hash)
        if deleted is None:
            raise Conflict(CHANGED_CONCURRENTLY)
        delete_all_sessions(executor, viewer.user_id)
        queries.write_audit(executor, viewer.user_id, "account_deleted")
        record_event(
            executor,
            event_type="phasma.user.deleted",
            source_function=SOURCE,
            subject=str(deleted["public_id"]),
            payload=UserDeleted(
                user_id=deleted["public_id"],
                username=deleted["username"],
                deleted=deleted["deleted_at"],
            ),
        )


def resend_verification(database: Database, viewer: Viewer) -> None:
    """Ask for a fresh verification link: at most 3 per account per hour (else 429).

    Older links stay valid until they expire.
    """
    with database.transaction() as executor:
        user = queries.lock_user_address(executor, viewer.user_id)
        if user is None:
            raise NotFound()
        wait = _admit_mail_request(
            executor, viewer.user_id, "verify", Limits.VERIFICATION_RESENDS_PER_HOUR
        )
        if wait is not None:
            raise TooManyRequests(TOO_MANY_VERIFICATION_MAILS, headers={"Retry-After": str(wait)})
        request_mail(executor, "verify", user["public_id"], user["email"])


def verify_email(database: Database, secret: str, token: str) -> None:
    """Spend a verification token and mark its address verified (400 when it cannot)."""
    with database.transaction() as executor:
        spent = mail_tokens.spend(executor, secret, token, "verify")
        # The link verifies the address it was sent to, never one set after it.
        verified = spent is not None and queries.verify_address(
            executor, spent["user_id"], spent["email"]
        )
        if not verified:
            raise BadRequest(INVALID_TOKEN)
        assert spent is not None
        queries.write_audit(executor, spent["user_id"], "email_verified")


def request_password_reset(database: Database, email: str) -> None:
    """Mail a reset link when `email` is registered, at most 3 an hour per account.

    Silently nothing for an unknown address or beyond the cap: the caller answers 202
    either way, so the response never tells whether the address is registered, and a
    stranger who knows it can make it receive no more than the cap (docs/api.md §B).
    """
    with database.transaction() as executor:
        account = queries.lock_user_by_email(executor, email)
        if account is None:
            return
        wait = _admit_mail_request(
            executor, account["id"], "reset", Limits.PASSWORD_RESET_MAILS_PER_HOUR
        )
        if wait is not None:
            log.info("reset mail for user %d not requested: the hourly cap is spent", account["id"])
            return
        request_mail(executor, "reset", account["public_id"], account["email"])


def live_token(database: Database, secret: str, token: str, purpose: mail_tokens.Purpose) -> bool:
    """Whether `token` is a live, unused token of `purpose` (a read; spending decides)."""
    return mail_tokens.is_well_formed(token) and database.read(
        lambda executor: mail_tokens.is_live(executor, secret, token, purpose)
    )


def reset_password(runtime: Runtime, token: str, new_password: str) -> None:
    """Spend a reset token: new hash, every session ended, the email's login counter cleared.

    The token is checked before the (slow) hash so a made-up one costs no Argon2 work,
    then spent in the transaction that stores the hash: of two concurrent uses one wins.
    """
    secret = runtime.settings.session_hash_secret or ""
    if not live_token(runtime.db, secret, token, "reset"):
        raise BadRequest(INVALID_TOKEN)
    new_hash = runtime.passwords.hash(new_password)
    with runtime.db.transaction() as executor:
        spent = mail_tokens.spend(executor, secret, token, "reset")
        # A link sent before an email change no longer speaks for the account.
        changed = spent is not None and queries.reset_password_hash(
            executor, spent["user_id"], spent["email"], new_hash
        )
        if not changed:
            raise BadRequest(INVALID_TOKEN)
        assert spent is not None
        # Every other reset link of the account dies with this one.
        mail_tokens.spend_all(executor, spent["user_id"], "reset")
        delete_all_sessions(executor, spent["user_id"])
        queries.write_audit(executor, spent["user_id"], "password_reset")
    runtime.login_throttle.forget_email(spent["email"])


def delete_replaced_avatar(database: Database, blob_store: BlobStore, filename: str) -> None:
    """After a profile update committed: delete the old avatar's blobs (original, thumbnail,
    renditions) unless a post or a user still references it (docs/domain.md §2.1). Best effort:
    failures are logged.
    """
    # Imported here, not at the top: it pulls in boto3 (~0.1 s), which `users` should load
    # only once an avatar is replaced, not at every cold start (docs/performance.md).
    from phasma.blobs import image_keys

    try:
        if database.read(lambda executor: queries.blob_is_referenced(executor, filename)):
            return
        blob_store.delete_many(image_keys(filename))
    except Exception:
        # The profile change stands; the worst case is an orphaned object costing storage.
        log.warning("could not delete replaced avatar %s", filename, exc_info=True)
