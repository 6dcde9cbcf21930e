"""The blob store against two real S3 servers: the session's and moto's.

The session's is SeaweedFS unless S3_ENDPOINT names one; the dev stack's SeaweedFS serves
any key. Moto's standalone server is a second, stricter implementation on loopback: it
checks each request's signature against the keys it issued and refuses what AWS refuses.
Failures a real server will not produce on demand are in tests/unit/test_blobs_faults.py.
"""

import json
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from phasma.blobs import BlobStore, thumbnail_key
from phasma.config import Settings
from phasma.devstack.services import DependencyUrls
from phasma.provisioning import create_bucket

REGION = "us-east-1"


@dataclass(frozen=True)
class S3Server:
    """An S3 endpoint and a key it accepts."""

    endpoint: str
    access_key: str
    secret_key: str
    checks_signatures: bool  # whether a wrong secret is refused


def new_filename() -> str:
    return secrets.token_hex(16)


@contextmanager
def moto_s3() -> Iterator[S3Server]:
    """Moto's S3 on a free loopback port, answering only requests signed by its own user."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    iam = boto3.session.Session().client(
        "iam",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="bootstrap",
        aws_secret_access_key="bootstrap",
    )
    iam.create_user(UserName="phasma-blobs")
    everything_in_s3 = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    iam.put_user_policy(
        UserName="phasma-blobs",
        PolicyName="s3",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [everything_in_s3]}),
    )
    key = iam.create_access_key(UserName="phasma-blobs")["AccessKey"]
    # From the next request on, moto authenticates and authorises every request, as AWS does.
    requests.post(f"{endpoint}/moto-api/reset-auth", data=b"0", timeout=10).raise_for_status()
    try:
        yield S3Server(endpoint, key["AccessKeyId"], key["SecretAccessKey"], True)
    finally:
        # The setting is moto's, process-wide: leave it as it was.
        requests.post(f"{endpoint}/moto-api/reset-auth", data=b"inf", timeout=10)
        server.stop()


@pytest.fixture(scope="module", params=["session", "moto"])
def s3(request: pytest.FixtureRequest, dependencies: DependencyUrls) -> Iterator[S3Server]:
    if request.param == "moto":
        with moto_s3() as server:
            yield server
        return
    # An S3 named by the environment needs its own key, and may or may not check it.
    yield S3Server(
        dependencies.s3_endpoint,
        os.environ.get("S3_ACCESS_KEY", "phasma-tests"),
        os.environ.get("S3_SECRET_KEY", "phasma-tests"),
        False,
    )


def settings_for(server: S3Server, bucket: str) -> Settings:
    return Settings(
        _env_file=None,
        s3_endpoint=server.endpoint,
        s3_bucket=bucket,
        s3_region=REGION,
        s3_access_key=server.access_key,
        s3_secret_key=server.secret_key,
    )


@pytest.fixture(scope="module")
def settings(s3: S3Server) -> Iterator[Settings]:
    """Settings naming a bucket of this test run's own, created here and removed afterwards."""
    settings = settings_for(s3, f"phasma-blobs-{secrets.token_hex(6)}")
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


def test_a_wrong_secret_is_refused(s3: S3Server, settings: Settings) -> None:
    if not s3.checks_signatures:
        pytest.skip("this S3 serves any key (the dev stack's SeaweedFS does)")
    wrong = settings.model_copy(update={"s3_secret_key": "not-the-secret"})
    with pytest.raises(ClientError) as raised:
        BlobStore(wrong).check()
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError, match="SignatureDoesNotMatch"):
        BlobStore(wrong).put(new_filename(), b"jpeg")


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_provisioning_the_bucket_is_idempotent_in_any_region(s3: S3Server, region: str) -> None:
    """`./taskw up` and the deploy Job create the bucket on every run (create_bucket)."""
    bucket = f"phasma-provision-{secrets.token_hex(6)}"
    for _ in range(2):
        create_bucket(s3.endpoint, bucket, s3.access_key, s3.secret_key, region)
    store = BlobStore(settings_for(s3, bucket).model_copy(update={"s3_region": region}))
    store.check()
    store.put("a", b"jpeg")
    store.delete("a")


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
