"""`exporter`: builds the ZIP a `phasma.export.requested` event asks for (docs/api.md §C).

The archive streams into the bucket (`BlobStore.writer`, an S3 multipart upload of
8 MiB parts) through `zipfile` over that non-seekable stream: each JSON list is
written a keyset page of rows at a time and each original image is copied in 64 KiB
chunks, so memory stays bounded whatever the account's size.

Idempotent per export: a delivery that finds the export no longer pending does
nothing; one that finds it pending (a crash or a concurrent delivery) writes the
whole object again under the same key, and only the delivery that moves it to
`ready` creates the notification and requests the mail. A dependency outage
propagates (503, retried); any other failure marks the export `failed` and
dead-letters the event.
"""

from __future__ import annotations

import json
import logging
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import IO, Any
from uuid import UUID

from phasma.config import Limits
from phasma.db.pool import Executor
from phasma.events.catalogue import ExportRequested, MailRequested
from phasma.events.outbox import record_event
from phasma.events.worker import Outcome, ReceivedEvent, Reject, Skip
from phasma.exports import queries
from phasma.failures import DependencyUnavailable
from phasma.models import format_timestamp
from phasma.runtime import Runtime

log = logging.getLogger(__name__)

EVENT_TYPE = "phasma.export.requested"
SOURCE = "exporter"
ZIP_CONTENT_TYPE = "application/zip"
# (file in the archive, keyset query); each row's `key` orders the pages and is dropped.
LISTS: tuple[tuple[str, str], ...] = (
    ("posts.json", queries.POSTS),
    ("comments.json", queries.COMMENTS),
    ("likes.json", queries.LIKES),
    ("following.json", queries.FOLLOWING),
    ("followers.json", queries.FOLLOWERS),
)


def handle(event: ReceivedEvent, runtime: Runtime) -> Outcome:
    """Build one export; "skipped" for other types and for exports already finished."""
    if event.type != EVENT_TYPE:
        return "skipped"
    payload = event.payload(ExportRequested)
    export = runtime.db.read(lambda executor: queries.export_to_build(executor, payload.export_id))
    if export is None:
        raise Skip("the export or its account is gone")
    if export["status"] != "pending":
        raise Skip(f"the export is already {export['status']}")
    try:
        size = build(runtime, export, payload.export_id)
    except DependencyUnavailable:
        raise  # retried: the export stays pending and the next delivery starts over
    except Exception as error:
        log.exception("exporter: export %s failed", payload.export_id)
        with runtime.db.transaction() as executor:
            queries.mark_failed(executor, export["id"])
        raise Reject(f"export failed: {type(error).__name__}") from error
    with runtime.db.transaction() as executor:
        if not queries.mark_ready(executor, export["id"], Limits.EXPORT_TTL_SECONDS, size):
            raise Skip("another delivery finished the export")
        queries.notify_ready(executor, export["user_id"], payload.export_id)
        record_event(
            executor,
            event_type="phasma.mail.requested",
            source_function=SOURCE,
            subject=str(export["user_public_id"]),
            payload=MailRequested(
                kind="export_ready", user_id=export["user_public_id"], address=export["email"]
            ),
        )
    return "applied"


def build(runtime: Runtime, export: queries.ExportToBuild, export_id: UUID) -> int:
    """Write the ZIP of `export`'s account to its key (replacing any); its size in bytes."""
    user_id = export["user_id"]
    with runtime.blob_store.writer(queries.object_key(export_id), ZIP_CONTENT_TYPE) as stream:
        with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            with archive.open("profile.json", "w") as out:
                out.write(_encode(_profile(export)) + b"\n")
            for name, sql in LISTS:
                with archive.open(name, "w") as out:
                    _write_list(out, _rows(runtime, sql, user_id))
            for row in _rows(runtime, queries.POST_FILENAMES, user_id):
                _copy_image(runtime, archive, row["filename"])
        return stream.size


def _profile(export: queries.ExportToBuild) -> dict[str, Any]:
    return {
        "id": export["user_public_id"],
        "username": export["username"],
        "name": export["name"],
        "email": export["email"],
        "emailVerified": export["email_verified_at"] is not None,
        "bio": export["bio"],
        "avatar": export["avatar"],
        "created": export["created"],
    }


def _rows(runtime: Runtime, sql: str, user_id: int) -> Iterator[dict[str, Any]]:
    """Every row of a keyset query, one page (`EXPORT_PAGE_ROWS`) in memory at a time."""
    after = 0
    limit = Limits.EXPORT_PAGE_ROWS
    while True:
        rows = runtime.db.read(_page_reader(sql, user_id, after, limit))
        yield from rows
        if len(rows) < limit:
            return
        after = rows[-1]["key"]


def _page_reader(
    sql: str, user_id: int, after: int, limit: int
) -> Callable[[Executor], list[dict[str, Any]]]:
    return lambda executor: queries.page(executor, sql, user_id, after, limit)


def _write_list(out: IO[bytes], rows: Iterator[dict[str, Any]]) -> None:
    """A JSON array, one element per line, written as the rows arrive."""
    separator = b"[\n"
    for row in rows:
        item = {_camel(name): value for name, value in row.items() if name != "key"}
        out.write(separator + _encode(item))
        separator = b",\n"
    out.write(b"[]\n" if separator == b"[\n" else b"\n]\n")


def _copy_image(runtime: Runtime, archive: zipfile.ZipFile, filename: str) -> None:
    """The post's original as `images/<filename>.jpg`, stored (JPEG does not deflate)."""
    blob = runtime.blob_store.open(filename)
    if blob is None:
        log.warning("exporter: post image %s has no original in the bucket", filename)
        return
    modified = datetime.now().timetuple()[:6]
    info = zipfile.ZipInfo(f"images/{filename}.jpg", date_time=modified)
    info.compress_type = zipfile.ZIP_STORED
    with archive.open(info, "w") as out:
        for chunk in blob.chunks():
            out.write(chunk)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _default(value: object) -> str:
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _encode(value: Any) -> bytes:
    return json.dumps(value, default=_default, ensure_ascii=False).encode()
