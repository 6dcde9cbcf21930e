"""Blob store failures a real S3 server will not produce on demand.

A small HTTP server stands in for S3 and misbehaves as each test asks: 5xx answers,
silence past the read timeout, refused keys, a body cut short. The working paths are
tested against a real SeaweedFS server in tests/blobs/test_blob_store.py.
"""

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.exceptions import ClientError

from phasma.blobs import BlobStore, BlobStoreUnavailable
from phasma.config import Settings

Respond = Callable[["FakeS3Handler"], None]


@dataclass
class Received:
    method: str
    path: str
    body: bytes


@dataclass
class FakeS3:
    """What the fake answers (`respond`) and every request it got."""

    url: str
    respond: Respond
    requests: list[Received] = field(default_factory=list)


class FakeS3Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "FakeS3Server"

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.fake.requests.append(Received(self.command, self.path, body))
        self.server.fake.respond(self)

    # One handler for every method: the fake only cares about what it answers.
    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _dispatch

    def answer(self, status: int, body: bytes = b"", content_type: str = "application/xml") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def s3_error(self, status: int, code: str) -> None:
        self.answer(status, f"<Error><Code>{code}</Code><Message>fake</Message></Error>".encode())

    def log_message(self, format: str, *args: object) -> None:
        """Silent: pytest shows the assertions, not an access log."""


class FakeS3Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeS3


@pytest.fixture
def fake_s3() -> Iterator[FakeS3]:
    server = FakeS3Server(("127.0.0.1", 0), FakeS3Handler)
    server.fake = FakeS3(f"http://127.0.0.1:{server.server_port}", lambda handler: None)
    # A short poll interval: shutdown() waits for the next poll.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server.fake
    server.shutdown()
    server.server_close()


def store_at(endpoint: str, **timeouts: float) -> BlobStore:
    settings = Settings(
        _env_file=None,
        s3_endpoint=endpoint,
        s3_bucket="phasma",
        s3_access_key="test",
        s3_secret_key="test",
    )
    return BlobStore(settings, **timeouts)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


OPERATIONS: dict[str, Callable[[BlobStore], object]] = {
    "put": lambda store: store.put("0" * 32, b"jpeg"),
    "open": lambda store: store.open("0" * 32),
    "delete": lambda store: store.delete("0" * 32),
    "delete_many": lambda store: store.delete_many(["0" * 32, "1" * 32]),
    "check": lambda store: store.check(),
}


def test_nothing_listening_is_unavailable() -> None:
    store = store_at(f"http://127.0.0.1:{closed_port()}")
    for operation in OPERATIONS.values():
        with pytest.raises(BlobStoreUnavailable):
            operation(store)


@pytest.mark.parametrize(("status", "code"), [(500, "InternalError"), (503, "SlowDown")])
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_server_errors_are_unavailable_after_one_retry(
    fake_s3: FakeS3, operation: str, status: int, code: str
) -> None:
    fake_s3.respond = lambda handler: handler.s3_error(status, code)
    with pytest.raises(BlobStoreUnavailable):
        OPERATIONS[operation](store_at(fake_s3.url))
    assert len(fake_s3.requests) == 2


def test_silent_server_times_out_as_unavailable(fake_s3: FakeS3) -> None:
    fake_s3.respond = lambda handler: time.sleep(2)
    store = store_at(fake_s3.url, read_timeout=0.2)
    began = time.monotonic()
    with pytest.raises(BlobStoreUnavailable):
        store.open("0" * 32)
    assert time.monotonic() - began < 1.9  # gave up on its own timeout, not the server's delay


def test_client_errors_are_not_outages(fake_s3: FakeS3) -> None:
    fake_s3.respond = lambda handler: handler.s3_error(403, "AccessDenied")
    with pytest.raises(ClientError) as caught:
        store_at(fake_s3.url).put("0" * 32, b"jpeg")
    assert not isinstance(caught.value, BlobStoreUnavailable)
    assert len(fake_s3.requests) == 1  # a 403 is not retried


def test_missing_key_is_none_but_missing_bucket_is_an_error(fake_s3: FakeS3) -> None:
    fake_s3.respond = lambda handler: handler.s3_error(404, "NoSuchKey")
    assert store_at(fake_s3.url).open("0" * 32) is None
    fake_s3.respond = lambda handler: handler.s3_error(404, "NoSuchBucket")
    with pytest.raises(ClientError):
        store_at(fake_s3.url).open("0" * 32)


def test_keys_the_store_refuses_to_delete_are_unavailable(fake_s3: FakeS3) -> None:
    refused = (
        "<DeleteResult><Error><Key>1111</Key><Code>InternalError</Code>"
        "<Message>try again</Message></Error></DeleteResult>"
    )
    fake_s3.respond = lambda handler: handler.answer(200, refused.encode())
    with pytest.raises(BlobStoreUnavailable, match="1111"):
        store_at(fake_s3.url).delete_many(["0000", "1111"])


def test_delete_many_sends_at_most_1000_keys_per_request(fake_s3: FakeS3) -> None:
    fake_s3.respond = lambda handler: handler.answer(200, b"<DeleteResult/>")
    store_at(fake_s3.url).delete_many(f"{number:032x}" for number in range(2500))
    counts = [request.body.count(b"<Key>") for request in fake_s3.requests]
    assert counts == [1000, 1000, 500]


def test_delete_many_of_nothing_sends_nothing(fake_s3: FakeS3) -> None:
    store_at(fake_s3.url).delete_many([])
    assert fake_s3.requests == []


def test_body_cut_short_is_unavailable(fake_s3: FakeS3) -> None:
    def cut_short(handler: FakeS3Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "image/jpeg")
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        handler.wfile.write(b"\xff\xd8\xff" + b"\x00" * 997)
        handler.wfile.flush()
        handler.close_connection = True

    fake_s3.respond = cut_short
    blob = store_at(fake_s3.url).open("0" * 32)
    assert blob is not None
    assert blob.content_length == 100_000
    with pytest.raises(BlobStoreUnavailable):
        b"".join(blob.chunks())
