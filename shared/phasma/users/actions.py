"""Every write on users, one function each, with its outbox event in the same transaction."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from phasma.auth.passwords import PasswordHashing
from phasma.config import Limits
from phasma.db.pool import Database, violated_constraint
from phasma.events.catalogue import UserCreated, UserUpdated
from phasma.events.outbox import record_event
from phasma.http.cookies import DeviceCookie
from phasma.http.errors import BadRequest, Conflict, NotFound, TooManyRequests
from phasma.sessions.queries import Viewer, delete_other_sessions
from phasma.uploads import queries as upload_queries
from phasma.users import queries
from phasma.users.models import ProfileFields

if TYPE_CHECKING:
    from phasma.blobs import BlobStore
    from phasma.runtime import Runtime

SOURCE = "users"

log = logging.getLogger(__name__)

WRONG_PASSWORD = "current password is incorrect"
EMAIL_NEEDS_PASSWORD = "oldPassword (the current password) is required to change the email"
TOO_MANY_PASSWORD_ATTEMPTS = "Too many password attempts; try again later"
CHANGED_CONCURRENTLY = "the password was changed concurrently; try again"


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
        row = executor.fetch_all(
            """
            INSERT INTO users (name, username, email, password_hash)
            VALUES (:name, :username, :email, :password_hash)
            RETURNING public_id, created
            """,
            name=fields.name,
            username=fields.username,
            email=fields.email,
            password_hash=password_hash,
        )[0]
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
    return fields.username


def update_profile(
    database: Database,
    viewer: Viewer,
    fields: ProfileFields,
    avatar: str | None,
    bio: str | None,
    verified_hash: str | None,
) -> str | None:
    """Replace the profile; returns the previous avatar when it changed (its blob may go).

    `verified_hash` is the stored hash the caller's `oldPassword` was verified against,
    or None when none was: the email can change only with it.
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
        executor.execute(
            """
            UPDATE users SET name = :name, username = :username, email = :email,
                             avatar = :avatar, bio = :bio
            WHERE id = :user_id
            """,
            name=fields.name,
            username=fields.username,
            email=fields.email,
            avatar=avatar,
            bio=bio,
            user_id=viewer.user_id,
        )
        queries.write_audit(executor, viewer.user_id, "profile_updated")
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
    previous_avatar: str | None = current["avatar"]
    return previous_avatar if previous_avatar != avatar else None


def verify_current_password(
    runtime: Runtime,
    account: dict[str, Any],
    password: str,
    client_ip: str,
    device: DeviceCookie | None,
) -> str:
    """Re-authentication (api-2 §A): `password` checked through the login throttle of the
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
        changed = executor.execute(
            """
            UPDATE users SET password_hash = :new_hash
            WHERE id = :user_id AND password_hash = :old
            """,
            new_hash=new_hash,
            user_id=viewer.user_id,
            old=verified_hash,
        )
        if not changed:
            raise Conflict(CHANGED_CONCURRENTLY)
        delete_other_sessions(executor, viewer.user_id, viewer.session_key)
        queries.write_audit(executor, viewer.user_id, "password_changed")


def delete_replaced_avatar(database: Database, blob_store: BlobStore, filename: str) -> None:
    """After a profile update committed: delete the old avatar's blobs (original, thumbnail,
    renditions) unless a post or a user still references it (domain.md §2.1). Best effort:
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
