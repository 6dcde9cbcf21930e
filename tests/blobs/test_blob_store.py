"""The blob store against the session's real S3 server (SeaweedFS unless S3_ENDPOINT names one).

Failures a real server will not produce on demand are in tests/unit/test_blobs_faults.py.
"""

import os
import re
import secrets
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError

from phasma.blobs import BlobStore, thumbnail_key
from phasma.config import Settings
from phasma.devstack.services import DependencyUrls

REGION = "us-east-1"


def new_filename() -> str:
    return secrets.token_hex(16)


def settings_for(endpoint: str, bucket: str) -> Settings:
    # The local SeaweedFS accepts any key; an S3 named by the environment needs its own.
    return Settings(
        _env_file=None,
        s3_endpoint=endpoint,
        s3_bucket=bucket,
        s3_region=REGION,
        s3_access_key=os.environ.get("S3_ACCESS_KEY", "phasma-tests"),
        s3_secret_key=os.environ.get("S3_SECRET_KEY", "phasma-tests"),
    )


@pytest.fixture(scope="module")
def settings(dependencies: DependencyUrls) -> Iterator[Settings]:
    """Settings naming a bucket of this test run's own, created here and removed afterwards."""
    settings = settings_for(dependencies.s3_endpoint, f"phasma-blobs-{secrets.token_hex(6)}")
    admin = boto3.session.Session().client(
        "s3",
        endpoint_url=settings.s3_endpoint,
        region_name=REGION,
        aws_access_key_id=settings.s3_access_key,
        aws_secret_access_key=settings.s3_secret_key,
    )
    admin.create_bucket(Bucket=settings.s3_bucket)
    yield settings
    listing = admin.list_objects_v2(Bucket=settings.s3_bucket)
    for item in listing.get("Contents", []):
        admin.delete_object(Bucket=settings.s3_bucket, Key=item["Key"])
    admin.delete_bucket(Bucket=settings.s3_bucket)


@pytest.fixture(scope="module")
def store(settings: Settings) -> BlobStore:
    return BlobStore(settings)


def stored_bytes(store: BlobStore, key: str) -> bytes | None:
    blob = store.open(key)
    return None if blob is None else b"".join(blob.chunks())


def test_check_passes_when_the_bucket_answers(store: BlobStore) -> None:
    store.check()


def test_check_fails_when_the_bucket_is_missing(settings: Settings) -> None:
    missing = settings.model_copy(update={"s3_bucket": f"phasma-none-{secrets.token_hex(6)}"})
    with pytest.raises(ClientError):
        BlobStore(missing).check()


def test_put_then_open_streams_the_object_back(store: BlobStore) -> None:
    filename, data = new_filename(), secrets.token_bytes(300_000)
    store.put(filename, data)
    blob = store.open(filename)
    assert blob is not None
    assert blob.content_length == len(data)
    assert blob.content_type == "image/jpeg"
    assert re.fullmatch(r'"[^"]+"', blob.etag)
    chunks = list(blob.chunks(64 * 1024))
    assert len(chunks) > 1  # streamed, not read whole
    assert all(len(chunk) <= 64 * 1024 for chunk in chunks)
    assert b"".join(chunks) == data


def test_put_keeps_the_given_content_type_and_replaces(store: BlobStore) -> None:
    key = new_filename()
    store.put(key, b"first", content_type="image/png")
    store.put(key, b"second", content_type="image/webp")
    blob = store.open(key)
    assert blob is not None
    assert blob.content_type == "image/webp"
    assert b"".join(blob.chunks()) == b"second"


def test_open_missing_is_none(store: BlobStore) -> None:
    assert store.open(new_filename()) is None


def test_closing_an_unread_blob_leaves_the_store_usable(store: BlobStore) -> None:
    filename = new_filename()
    store.put(filename, secrets.token_bytes(200_000))
    for _ in range(3):  # more than once: a leaked connection would show here
        blob = store.open(filename)
        assert blob is not None
        blob.close()
    assert stored_bytes(store, filename) is not None


def test_delete_removes_and_missing_is_fine(store: BlobStore) -> None:
    filename = new_filename()
    store.put(filename, b"jpeg")
    store.delete(filename)
    assert store.open(filename) is None
    store.delete(filename)
    store.delete(new_filename())


def test_delete_many_removes_present_and_ignores_missing(store: BlobStore) -> None:
    present = [new_filename() for _ in range(3)]
    for key in present:
        store.put(key, b"jpeg")
    kept = new_filename()
    store.put(kept, b"kept")
    store.delete_many([*present, new_filename()])
    assert [store.open(key) for key in present] == [None, None, None]
    assert stored_bytes(store, kept) == b"kept"
    store.delete_many([])


def test_thumbnails_live_beside_their_original(store: BlobStore) -> None:
    filename = new_filename()
    assert not re.fullmatch(r"[0-9a-f]{32}", thumbnail_key(filename))
    store.put(filename, b"full")
    store.put(thumbnail_key(filename), b"thumbnail")
    assert stored_bytes(store, filename) == b"full"
    assert stored_bytes(store, thumbnail_key(filename)) == b"thumbnail"
    store.delete_many([filename, thumbnail_key(filename)])
    assert stored_bytes(store, thumbnail_key(filename)) is None
