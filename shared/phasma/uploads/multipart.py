"""The bounded read of `POST /uploads` bodies (docs/api.md §7, §15.1; docs/api.md §15.1).

The body is fed to werkzeug's sans-IO multipart decoder in 64 KiB chunks, so nothing
is buffered but the `image` part itself, and that part is abandoned (413) the moment it
grows past the byte limit. No temporary files, no form dictionaries: other parts are
decoded and dropped.
"""

from __future__ import annotations

from typing import Final

from werkzeug import Request
from werkzeug.exceptions import ClientDisconnected
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from phasma.config import Limits
from phasma.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

IMAGE_FIELD: Final = "image"
# docs/api.md §15.1: the image part plus 64 KiB for multipart framing and other parts.
REQUEST_MAX_BYTES: Final = Limits.UPLOAD_MAX_BYTES + 64 * 1024
READ_CHUNK_BYTES: Final = 64 * 1024
# RFC 2046 §5.1.1: a boundary is 1 to 70 characters.
BOUNDARY_MAX_CHARS: Final = 70


def read_image_part(request: Request) -> bytes:
    """The bytes of the first part named `image`: 415, 413 or 400 when there is none to take.

    The declared filename and content type of the part are ignored (docs/api.md §15.1): only
    the bytes are checked, by the image pipeline.
    """
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType("Content-Type must be multipart/form-data")
    boundary = request.mimetype_params.get("boundary", "")
    if not boundary or len(boundary) > BOUNDARY_MAX_CHARS or not boundary.isascii():
        raise BadRequest("Content-Type needs a valid multipart boundary")
    if request.content_length is not None and request.content_length > REQUEST_MAX_BYTES:
        raise PayloadTooLarge("Request body is too large")
    try:
        image = _decode(request, MultipartDecoder(boundary.encode("ascii")))
    except ValueError:
        # The decoder's way of saying the body is not well-formed multipart (this includes
        # a body that ends before its closing boundary).
        raise BadRequest("Request body is not valid multipart/form-data") from None
    except ClientDisconnected:
        raise BadRequest("Request body ended before its Content-Length") from None
    if image is None:
        raise BadRequest("The image part is missing")
    return image


def _decode(request: Request, decoder: MultipartDecoder) -> bytes | None:
    """Run the whole body through `decoder`, keeping only the first `image` part."""
    image: bytearray | None = None
    collecting = False
    received = 0
    while True:
        chunk = request.stream.read(READ_CHUNK_BYTES)
        received += len(chunk)
        # Without a Content-Length (a chunked body) this is where an oversized body stops.
        if received > REQUEST_MAX_BYTES:
            raise PayloadTooLarge("Request body is too large")
        decoder.receive_data(chunk or None)
        event = decoder.next_event()
        while not isinstance(event, NeedData | Epilogue):
            if isinstance(event, Field | File):
                collecting = event.name == IMAGE_FIELD and image is None
                if collecting:
                    image = bytearray()
            elif isinstance(event, Data) and collecting and image is not None:
                image += event.data
                if len(image) > Limits.UPLOAD_MAX_BYTES:
                    raise PayloadTooLarge(
                        f"The image is larger than {Limits.UPLOAD_MAX_BYTES:,} bytes"
                    )
            event = decoder.next_event()
        if isinstance(event, Epilogue):
            return None if image is None else bytes(image)
