"""The S3 blob store that holds uploaded images (api.md §15, operations.md §6).

One `BlobStore` per process: its boto3 client is thread-safe and keeps a connection
pool. Calls fail fast (2 s to connect, 10 s per read, one retry) so a request never
waits long on a sick store; an outage (no connection, a timeout, a 5xx) surfaces as
`BlobStoreUnavailable`, which the HTTP layer answers with 503. Any other S3 error
(a 403 from wrong credentials, a missing bucket) propagates as botocore's
`ClientError`: a misconfiguration, answered with 500 and logged.

Originals live under their upload filename (32 lowercase hex characters, the only
names `GET /uploads/{filename}` serves); thumbnails under `thumbnail_key(filename)` and
responsive renditions under `rendition_key(filename, width)`. `image_keys` names every
object an upload may have, so whoever deletes one deletes them all.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError, IncompleteReadError
from botocore.exceptions import ConnectionError as BotocoreConnectionError
from botocore.response import StreamingBody

from phasma.config import Limits, Settings
from phasma.failures import DependencyUnavailable

CONNECT_TIMEOUT_SECONDS: Final = 2.0
READ_TIMEOUT_SECONDS: Final = 10.0
# Total attempts per call (the first one included), in botocore's "standard" retry mode.
MAX_ATTEMPTS: Final = 2
# S3's DeleteObjects accepts at most this many keys per request.
DELETE_BATCH_SIZE: Final = 1000
STREAM_CHUNK_BYTES: Final = 64 * 1024
THUMBNAIL_PREFIX: Final = "thumbnails/"
RENDITIONS_PREFIX: Final = "renditions/"

# The store cannot be reached or stops answering: refused or reset connections, connect and
# read timeouts, a body that ends before its Content-Length.
_UNREACHABLE: Final = (BotocoreConnectionError, HTTPClientError, IncompleteReadError)


class BlobStoreUnavailable(DependencyUnavailable):
    """The blob store is unreachable, timing out or failing with 5xx (→ 503)."""


def thumbnail_key(filename: str) -> str:
    """Where the thumbnail of upload `filename` is stored: outside the originals' namespace."""
    return THUMBNAIL_PREFIX + filename


def rendition_key(filename: str, width: int) -> str:
    """Where the `width` px wide rendition of upload `filename` is stored."""
    return f"{RENDITIONS_PREFIX}{width}/{filename}"


def image_keys(filename: str) -> list[str]:
    """Every key upload `filename` may occupy: original, thumbnail and each rendition width.

    Deleting a key with no object is not an error, so callers need not know which exist.
    """
    renditions = [rendition_key(filename, width) for width in Limits.IMAGE_RENDITION_WIDTHS]
    return [filename, thumbnail_key(filename), *renditions]


@dataclass(frozen=True, slots=True)
class Blob:
    """A stored object being read. Consume `chunks()` or call `close()`: it holds a connection."""

    body: StreamingBody
    content_length: int
    content_type: str
    etag: str

    def chunks(self, size: int = STREAM_CHUNK_BYTES) -> Iterator[bytes]:
        """The body in pieces of at most `size` bytes; the connection is released at the end."""
        try:
            with _outages_as_unavailable("read body"):
                yield from self.body.iter_chunks(size)
        finally:
            self.body.close()

    def close(self) -> None:
        """Release the connection without reading (e.g. for a HEAD request)."""
        self.body.close()


class BlobStore:
    """Put, stream and delete objects in the configured bucket."""

    def __init__(
        self,
        settings: Settings,
        *,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
        read_timeout: float = READ_TIMEOUT_SECONDS,
    ) -> None:
        self.bucket = settings.s3_bucket
        config = Config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            # `total_max_attempts` counts the first try; botocore's `max_attempts` does not.
            retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
            s3={"addressing_style": "path" if settings.s3_force_path_style else "auto"},
        )
        # A session of our own: boto3's default session is not safe to share across threads.
        self._client = boto3.session.Session().client(
            "s3",
            endpoint_url=settings.s3_endpoint,
            region_name=settings.s3_region,
            # None falls back to boto3's credential chain (environment, workload identity).
            aws_access_key_id=settings.s3_access_key,
            aws_secret_access_key=settings.s3_secret_key,
            config=config,
        )

    def put(self, key: str, data: bytes, content_type: str = "image/jpeg") -> None:
        """Store `data` under `key`, replacing any object there."""
        with _outages_as_unavailable(f"put {key}"):
            self._client.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentType=content_type
            )

    def open(self, key: str) -> Blob | None:
        """The object under `key` with its body still streaming, or None if there is none."""
        try:
            with _outages_as_unavailable(f"get {key}"):
                response = self._client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "NoSuchKey":
                return None
            raise
        return Blob(
            body=response["Body"],
            content_length=response["ContentLength"],
            content_type=response.get("ContentType", "application/octet-stream"),
            etag=response.get("ETag", ""),
        )

    def delete(self, key: str) -> None:
        """Remove the object under `key`; a key with no object is not an error."""
        with _outages_as_unavailable(f"delete {key}"):
            self._client.delete_object(Bucket=self.bucket, Key=key)

    def delete_many(self, keys: Iterable[str]) -> None:
        """Remove every object in `keys` (missing ones are fine), up to 1000 per request.

        Raises BlobStoreUnavailable if the store refused any key: the caller (the janitor,
        the expiry sweep) keeps its rows and tries again later.
        """
        objects = [{"Key": key} for key in keys]
        for start in range(0, len(objects), DELETE_BATCH_SIZE):
            batch = objects[start : start + DELETE_BATCH_SIZE]
            with _outages_as_unavailable(f"delete {len(batch)} objects"):
                response = self._client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
            _raise_for_refused(response)

    def check(self) -> None:
        """Raise unless the bucket answers (readiness, api.md §17)."""
        with _outages_as_unavailable(f"head bucket {self.bucket}"):
            self._client.head_bucket(Bucket=self.bucket)


@contextmanager
def _outages_as_unavailable(action: str) -> Iterator[None]:
    """Turn connection failures, timeouts and 5xx answers into BlobStoreUnavailable."""
    try:
        yield
    except _UNREACHABLE as error:
        raise BlobStoreUnavailable(f"blob store: {action}: {error}") from error
    except ClientError as error:
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if status >= 500:
            raise BlobStoreUnavailable(f"blob store: {action}: {error}") from error
        raise


def _raise_for_refused(response: dict[str, Any]) -> None:
    errors = response.get("Errors") or []
    if errors:
        first = errors[0]
        raise BlobStoreUnavailable(
            f"blob store: {len(errors)} objects not deleted, "
            f"e.g. {first.get('Key')}: {first.get('Code')} {first.get('Message')}"
        )
