"""Every write on users, one function each, with its outbox event in the same transaction."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from phasma.auth.passwords import PasswordHashing
from phasma.config import Limits
from phasma.db.pool import Database, violated_constraint
from phasma.events.catalogue import UserCreated, UserUpdated
from phasma.events.outbox import record_event
from phasma.http.errors import BadRequest, Conflict, NotFound
from phasma.sessions.queries import Viewer, delete_other_sessions
from phasma.uploads import queries as upload_queries
from phasma.users import queries
from phasma.users.models import ProfileFields

if TYPE_CHECKING:
    from phasma.blobs import BlobStore

SOURCE = "users"

log = logging.getLogger(__name__)


def _check_reserved(username: str) -> None:
    if username in Limits.RESERVED_USERNAMES:
        raise Conflict("username is not available")


@contextmanager
def _unique_fields_as_conflict() -> Iterator[None]:
    """Answer a unique violation on username or email with 409."""
    try:
        yield
    except Exception as error:
        constraint = violated_constraint(error)
        if constraint is None:
            raise
        if "email" in constraint:
            raise Conflict("email is already registered") from None
        raise Conflict("username is not available") from None


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
    database: Database, viewer: Viewer, fields: ProfileFields, avatar: str | None, bio: str | None
) -> str | None:
    """Replace the profile; returns the previous avatar when it changed (its blob may go)."""
    _check_reserved(fields.username)
    with _unique_fields_as_conflict(), database.transaction() as executor:
        current = queries.lock_user(executor, viewer.user_id)
        if current is None:
            raise NotFound()
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


def change_password(
    database: Database,
    passwords: PasswordHashing,
    viewer: Viewer,
    old_password: str,
    new_password: str,
) -> None:
    """Verify the current password, store the new hash, end every other session."""
    stored_hash = database.read(lambda executor: queries.password_hash(executor, viewer.user_id))
    if stored_hash is None:
        raise NotFound()
    if not passwords.verify(stored_hash, old_password):
        raise BadRequest("current password is incorrect")
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
            old=stored_hash,
        )
        if not changed:
            raise Conflict("the password was changed concurrently; try again")
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
