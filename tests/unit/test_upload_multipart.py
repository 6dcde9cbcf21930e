"""The bounded multipart read of `POST /uploads` (phasma/uploads/multipart.py)."""

from __future__ import annotations

import io
import secrets

import pytest
from werkzeug import Request
from werkzeug.test import EnvironBuilder

from phasma.http.errors import BadRequest, HttpError, PayloadTooLarge, UnsupportedMediaType
from phasma.uploads.multipart import read_image_part

BOUNDARY = "----phasma-boundary"


def part(name: str, data: bytes, filename: str | None = "a.jpg") -> bytes:
    disposition = f'form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
    return head + data + b"\r\n"


def body(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def request(
    data: bytes | io.RawIOBase,
    *,
    content_type: str = f"multipart/form-data; boundary={BOUNDARY}",
    content_length: int | None = None,
) -> Request:
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    environ = EnvironBuilder(method="POST").get_environ()
    environ["wsgi.input"] = stream
    environ["CONTENT_TYPE"] = content_type
    if content_length is None and isinstance(data, bytes):
        content_length = len(data)
    if content_length is None:
        environ.pop("CONTENT_LENGTH", None)
        environ["wsgi.input_terminated"] = True  # how servers announce a chunked body
    else:
        environ["CONTENT_LENGTH"] = str(content_length)
    return Request(environ)


def test_the_image_part_comes_back_byte_for_byte_across_chunk_borders() -> None:
    # Bytes that look like the start of a boundary, straddling every 64 KiB read.
    image = (
        b"".join(secrets.token_bytes(65_536 - 3) + b"\r\n-" for _ in range(5))
        + f"\r\n--{BOUNDARY[:-1]}".encode()
    )
    data = body(part("before", b"x" * 70_000), part("image", image), part("after", b"y"))
    assert read_image_part(request(data)) == image


def test_a_part_without_a_filename_is_read_too() -> None:
    assert read_image_part(request(body(part("image", b"bytes", filename=None)))) == b"bytes"


def test_only_the_first_image_part_is_kept() -> None:
    data = body(part("image", b"first"), part("image", b"second"))
    assert read_image_part(request(data)) == b"first"


# The limits of docs/api.md §15.1: an image part of 20,000,000 bytes, a body of that plus
# 64 KiB of framing; the body is read 64 KiB at a time.


def test_a_declared_oversized_body_is_413_before_any_read() -> None:
    class Unreadable(io.RawIOBase):
        def readinto(self, buffer: object) -> int:
            raise AssertionError("the body must not be read")

    with pytest.raises(PayloadTooLarge):
        read_image_part(request(Unreadable(), content_length=20_065_537))


def test_an_oversized_image_part_stops_the_read_at_the_limit() -> None:
    """The body is declared small enough, but the part itself is too big."""
    data = body(part("image", b"\xff" * 20_000_001))
    with pytest.raises(PayloadTooLarge):
        read_image_part(request(data))
    with pytest.raises(PayloadTooLarge):
        read_image_part(request(io.BytesIO(data), content_length=None))


def test_an_oversized_chunked_body_stops_reading_just_past_the_limit() -> None:
    padding = b"\x00" * (2 * 20_065_536)
    stream = io.BytesIO(body(part("image", b"i"), part("padding", padding)))
    with pytest.raises(PayloadTooLarge):
        read_image_part(request(stream, content_length=None))
    assert stream.tell() <= 20_065_536 + 65_536


@pytest.mark.parametrize(
    ("content_type", "data", "error"),
    [
        ("application/json", b"{}", UnsupportedMediaType),
        ("multipart/mixed; boundary=x", body(part("image", b"x")), UnsupportedMediaType),
        ("multipart/form-data", body(part("image", b"x")), BadRequest),
        ("multipart/form-data; boundary=é", body(part("image", b"x")), BadRequest),
        (f"multipart/form-data; boundary={BOUNDARY}", part("image", b"x"), BadRequest),
        (f"multipart/form-data; boundary={BOUNDARY}", body(part("photo", b"x")), BadRequest),
        (f"multipart/form-data; boundary={BOUNDARY}", b"not multipart at all", BadRequest),
        (
            f"multipart/form-data; boundary={BOUNDARY}",
            f"--{BOUNDARY}\r\nX-No-Disposition: 1\r\n\r\nx\r\n--{BOUNDARY}--\r\n".encode(),
            BadRequest,
        ),
    ],
    ids=[
        "json",
        "multipart-mixed",
        "no-boundary",
        "non-ascii-boundary",
        "unterminated",
        "no-image-part",
        "garbage",
        "no-content-disposition",
    ],
)
def test_unusable_bodies_are_rejected(
    content_type: str, data: bytes, error: type[HttpError]
) -> None:
    with pytest.raises(error):
        read_image_part(request(data, content_type=content_type))


def test_a_body_shorter_than_its_content_length_is_400() -> None:
    data = body(part("image", b"x" * 1000))
    with pytest.raises(BadRequest):
        read_image_part(request(io.BytesIO(data[:500]), content_length=len(data)))
