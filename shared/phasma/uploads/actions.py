"""Every write of a pending upload: its row (under the per-user cap and expiry) and its blobs."""

from __future__ import annotations

import logging
import secrets

from phasma.blobs import BlobStore, image_keys, rendition_key, thumbnail_key
from phasma.config import Limits
from phasma.db.pool import Database
from phasma.errors import TooManyRequests, Unauthorized
from phasma.images import ProcessedImage
from phasma.uploads import queries

log = logging.getLogger(__name__)


def create_upload(
    database: Database, blob_store: BlobStore, user_id: int, image: ProcessedImage
) -> str:
    """Register `image` as a pending upload of `user_id` and store it; returns its filename.

    docs/domain.md §2.3 in order: under the user's row lock, expire their old uploads and count
    the rest (at the cap: 429, nothing stored); insert the row; after commit, delete the
    expired blobs, then write the new ones. A failed write removes the row and whatever
    was written, and the store's failure propagates (503).
    """
    filename = secrets.token_hex(16)
    with database.transaction() as executor:
        if not queries.lock_user(executor, user_id):
            raise Unauthorized()  # the account was deleted after the session resolved
        expired = queries.delete_expired(executor, user_id)
        accepted = queries.count_pending(executor, user_id) < Limits.UPLOAD_PENDING_MAX
        if accepted:
            queries.insert(executor, filename, user_id, image)
    # Decided inside, raised outside: the expiry above commits even when the cap refuses.
    if expired:
        discard_images(blob_store, expired)
    if not accepted:
        raise TooManyRequests(
            f"At most {Limits.UPLOAD_PENDING_MAX} pending uploads: use one or wait an hour"
        )
    try:
        blob_store.put(filename, image.jpeg)
        blob_store.put(thumbnail_key(filename), image.thumbnail)
        for width, rendition in image.renditions.items():
            blob_store.put(rendition_key(filename, width), rendition)
    except Exception:
        _withdraw(database, blob_store, filename)
        raise
    return filename


def discard_images(blob_store: BlobStore, filenames: list[str]) -> None:
    """Delete every object of `filenames` (originals, thumbnails, renditions), best effort.

    Their rows are gone already, so a failure leaves orphaned objects that cost storage
    but are never served under a live name; it is logged, not raised.
    """
    keys = [key for filename in filenames for key in image_keys(filename)]
    try:
        blob_store.delete_many(keys)
    except Exception:
        log.warning("could not delete %d image objects: %s", len(keys), keys, exc_info=True)


def _withdraw(database: Database, blob_store: BlobStore, filename: str) -> None:
    """Undo a registered upload whose blobs could not all be written."""
    try:
        with database.transaction() as executor:
            queries.delete(executor, filename)
    except Exception:
        # The row expires within the hour; the janitor then removes it and its blobs.
        log.warning("could not remove the row of failed upload %s", filename, exc_info=True)
    # A write that timed out may still have landed, so every key goes whatever happened.
    discard_images(blob_store, [filename])
