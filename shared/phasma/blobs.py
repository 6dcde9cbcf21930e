"""The S3 blob store that holds uploaded images (docs/api.md §15, docs/operations.md §6).

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

Large objects written piece by piece (data exports) go through `BlobStore.writer`: a
file-like object over an S3 multipart upload that holds one part in memory at a time.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError, IncompleteReadError
from botocore.exceptions import ConnectionError as BotocoreConnectionError
from botocore.response import StreamingBody

from phasma.config import Limits, Settings
from phasma.failures import DependencyUnavailable

if TYPE_CHECKING:  # the S3 shapes of the type stubs (a dev dependency)
    from types_boto3_s3.type_defs import DeleteObjectsOutputTypeDef, ObjectIdentifierTypeDef

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS: Final = 2.0
READ_TIMEOUT_SECONDS: Final = 10.0
# Total attempts per call (the first one included), in botocore's "standard" retry mode.
MAX_ATTEMPTS: Final = 2
# S3's DeleteObjects accepts at most this many keys per request.
DELETE_BATCH_SIZE: Final = 1000
STREAM_CHUNK_BYTES: Final = 64 * 1024
# S3 parts must be at least 5 MiB (the last excepted); 8 MiB bounds a writer's buffer.
MULTIPART_PART_BYTES: Final = 8 * 1024 * 1024
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
        objects: list[ObjectIdentifierTypeDef] = [{"Key": key} for key in keys]
        for start in range(0, len(objects), DELETE_BATCH_SIZE):
            batch = objects[start : start + DELETE_BATCH_SIZE]
            with _outages_as_unavailable(f"delete {len(batch)} objects"):
                response = self._client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
            _raise_for_refused(response)

    @contextmanager
    def writer(self, key: str, content_type: str) -> Iterator[MultipartWriter]:
        """A writable stream into a multipart upload of `key`, replacing any object there.

        The object appears whole on a clean exit and never otherwise: any exception
        aborts the upload (S3 discards its parts) and propagates.
        """
        with _outages_as_unavailable(f"create multipart upload {key}"):
            upload_id = self._client.create_multipart_upload(
                Bucket=self.bucket, Key=key, ContentType=content_type
            )["UploadId"]
        stream = MultipartWriter(self._client, self.bucket, key, upload_id)
        try:
            yield stream
            stream.complete()
        except BaseException:
            stream.abort()
            raise

    def check(self) -> None:
        """Raise unless the bucket answers (readiness, docs/api.md §17)."""
        with _outages_as_unavailable(f"head bucket {self.bucket}"):
            self._client.head_bucket(Bucket=self.bucket)


class MultipartWriter(io.RawIOBase):
    """Write-only, non-seekable stream whose bytes become S3 parts of `MULTIPART_PART_BYTES`.

    Memory is one part's buffer however large the object grows. Not seekable, so
    `zipfile` writes data descriptors instead of seeking back to patch local headers.
    """

    def __init__(self, client: Any, bucket: str, key: str, upload_id: str) -> None:
        super().__init__()
        self._client = client
        self._bucket = bucket
        self._key = key
        self._upload_id = upload_id
        self._buffer = bytearray()
        self._parts: list[dict[str, Any]] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self._buffer += view
        self._position += len(view)
        while len(self._buffer) >= MULTIPART_PART_BYTES:
            self._upload_part(bytes(self._buffer[:MULTIPART_PART_BYTES]))
            del self._buffer[:MULTIPART_PART_BYTES]
        return len(view)

    @property
    def size(self) -> int:
        """Bytes written so far."""
        return self._position

    def _upload_part(self, data: bytes) -> None:
        number = len(self._parts) + 1
        with _outages_as_unavailable(f"upload part {number} of {self._key}"):
            response = self._client.upload_part(
                Bucket=self._bucket,
                Key=self._key,
                UploadId=self._upload_id,
                PartNumber=number,
                Body=data,
            )
        self._parts.append({"PartNumber": number, "ETag": response["ETag"]})

    def complete(self) -> None:
        """Send the last part (S3 needs one, even empty) and assemble the object."""
        if self._buffer or not self._parts:
            self._upload_part(bytes(self._buffer))
            self._buffer.clear()
        with _outages_as_unavailable(f"complete multipart upload {self._key}"):
            self._client.complete_multipart_upload(
                Bucket=self._bucket,
                Key=self._key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            )

    def abort(self) -> None:
        """Discard the parts sent; best effort, since the caller is already failing."""
        self._buffer.clear()
        try:
            self._client.abort_multipart_upload(
                Bucket=self._bucket, Key=self._key, UploadId=self._upload_id
            )
        except Exception as error:
            # The caller's failure is the one to report; S3's lifecycle rule (or a later
            # abort) reclaims parts an abort could not discard.
            log.warning("blob store: abort multipart upload %s failed: %s", self._key, error)


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


def _raise_for_refused(response: DeleteObjectsOutputTypeDef) -> None:
    errors = response.get("Errors") or []
    if errors:
        first = errors[0]
        raise BlobStoreUnavailable(
            f"blob store: {len(errors)} objects not deleted, "
            f"e.g. {first.get('Key')}: {first.get('Code')} {first.get('Message')}"
        )
