"""SQL for pending uploads (docs/domain.md §2.3)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from phasma.config import Limits
from phasma.db.pool import Executor

if TYPE_CHECKING:  # users and posts import this module; they must not load Pillow
    from phasma.images import ProcessedImage

# Usable for one hour after `created`; the same boundary as consuming one (users, posts).
_EXPIRED = f"created <= now() - interval '{Limits.UPLOAD_EXPIRY_SECONDS} seconds'"


def lock_user(executor: Executor, user_id: int) -> bool:
    """Serialise the user's uploads on their row; False when the account is gone."""
    return bool(
        executor.fetch_value("SELECT 1 FROM users WHERE id = :user_id FOR UPDATE", user_id=user_id)
    )


def delete_expired(executor: Executor, user_id: int) -> list[str]:
    """Remove the user's expired pending uploads; returns their filenames (blobs to delete)."""
    rows = executor.fetch_all(
        f"DELETE FROM uploads WHERE user_id = :user_id AND {_EXPIRED} RETURNING filename",
        user_id=user_id,
    )
    return [row["filename"] for row in rows]


def count_pending(executor: Executor, user_id: int) -> int:
    return int(
        executor.fetch_value(
            "SELECT count(*) FROM uploads WHERE user_id = :user_id", user_id=user_id
        )
    )


def insert(executor: Executor, filename: str, user_id: int, image: ProcessedImage) -> None:
    executor.execute(
        """
        INSERT INTO uploads (filename, user_id, width, height, blurhash, renditions)
        VALUES (:filename, :user_id, :width, :height, :blurhash, CAST(:renditions AS int[]))
        """,
        filename=filename,
        user_id=user_id,
        width=image.width,
        height=image.height,
        blurhash=image.blurhash,
        renditions=list(image.renditions),
    )


def delete(executor: Executor, filename: str) -> None:
    executor.execute("DELETE FROM uploads WHERE filename = :filename", filename=filename)


class UploadImage(TypedDict):
    """The image facts of a consumed upload, as a post stores them."""

    width: int | None
    height: int | None
    blurhash: str | None
    renditions: list[int] | None


class ConsumedUpload(UploadImage):
    filename: str


def consume(executor: Executor, user_id: int, filename: str) -> UploadImage | None:
    """Delete the user's unexpired pending upload `filename` (a post or an avatar uses it).

    Returns its image facts (width, height, blurhash, renditions), or None when there is no
    such upload.
    """
    return executor.fetch_one_as(
        UploadImage,
        """
        DELETE FROM uploads
        WHERE filename = :filename AND user_id = :user_id
          AND created > now() - make_interval(secs => :expiry)
        RETURNING width, height, blurhash, renditions
        """,
        filename=filename,
        user_id=user_id,
        expiry=Limits.UPLOAD_EXPIRY_SECONDS,
    )


def consume_many(executor: Executor, user_id: int, filenames: list[str]) -> list[ConsumedUpload]:
    """`consume` for several distinct filenames at once (an album's images).

    Returns the image facts of each one consumed (`filename`, width, height, blurhash,
    renditions) in no particular order; fewer rows than `filenames` means some were not
    the caller's pending, unexpired uploads, and the caller must roll back.
    """
    return executor.fetch_all_as(
        ConsumedUpload,
        """
        DELETE FROM uploads
        WHERE filename = ANY(CAST(:filenames AS varchar[])) AND user_id = :user_id
          AND created > now() - make_interval(secs => :expiry)
        RETURNING filename, width, height, blurhash, renditions
        """,
        filenames=filenames,
        user_id=user_id,
        expiry=Limits.UPLOAD_EXPIRY_SECONDS,
    )
