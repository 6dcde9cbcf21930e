"""HTTP handler of the `media` function (docs/api.md §15.2).

Images never change under a name (a new upload gets a new one), so responses are
cacheable for a day and marked immutable, and the ETag is derived from the URL alone:
a conditional request is answered without asking the store anything.

`?variant=thumbnail` asks for the grid rendition (the original stands in for uploads
stored before thumbnails existed); `?w=640` or `?w=1080` for a responsive rendition,
which is a 404 when the upload has none of that width (its post lists the ones it has).

A private account's post images (docs/api.md §E; docs/security.md, "Private media") are
served only with `?token=`, the short-lived signature the Post shape hands to whoever
may read the post (`phasma.media_urls`); without a valid one the answer is the same 404
as for a name that does not exist. The route reads no session: it stays public
(docs/api.md §5.3). Whether an image is a private account's is read on every request, so an
account's plain URLs stop working the moment it turns private.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from typing import Final

from werkzeug import Response
from werkzeug.datastructures import MultiDict

from phasma.blobs import rendition_key, thumbnail_key
from phasma.config import Limits
from phasma.http.context import RequestContext
from phasma.http.errors import BadRequest, NotFound
from phasma.media import queries
from phasma.media_urls import signing_key_var, token_expiry

FILENAME_PATTERN: Final = re.compile(r"[0-9a-f]{32}")
CACHE_CONTROL: Final = "public, max-age=86400, immutable"
# A private account's image: only in the browser's own cache, and only until its token
# expires (`max-age` is filled in per response).
PRIVATE_CACHE_CONTROL: Final = "private, max-age={seconds}"
THUMBNAIL_VARIANT: Final = "thumbnail"


def serve(context: RequestContext) -> Response:
    """`GET /uploads/{filename}[?variant=thumbnail | ?w=<width>]`: the stored JPEG, streamed."""
    filename = context.params["filename"]
    if not FILENAME_PATTERN.fullmatch(filename):
        raise NotFound()  # never a storage key: extensions, uppercase, anything else
    args = context.request.args
    thumbnail = _wants_thumbnail(args)
    width = _wanted_width(args)
    if thumbnail and width is not None:
        raise BadRequest("variant and w cannot be combined")
    if width is not None:
        etag = f"{filename}-w{width}"
    else:
        etag = f"{filename}-{THUMBNAIL_VARIANT}" if thumbnail else filename
    # Before any answer, a 304 included: a 304 with the public headers would turn a
    # private image's cached copy into an immutable, shareable one.
    cache_control = _cache_control(context, filename)
    # `contains_weak` also accepts `W/"…"` and `*` (docs/api.md §15.2).
    if context.request.if_none_match.contains_weak(etag):
        return _not_modified(etag, cache_control)
    store = context.runtime.blob_store
    if width is not None:
        blob = store.open(rendition_key(filename, width))
    else:
        blob = store.open(thumbnail_key(filename)) if thumbnail else None
        if blob is None:
            # Uploads stored before thumbnails existed have none: the original stands in.
            blob = store.open(filename)
    if blob is None:
        raise NotFound()
    body: Iterable[bytes]
    if context.request.method == "HEAD":
        blob.close()  # headers only: release the connection now rather than drain it
        body = ()
    else:
        body = blob.chunks()
    # direct_passthrough: werkzeug hands the generator to the server as is, chunk by
    # chunk, instead of wrapping it (the body is never held whole).
    response = Response(body, status=200, content_type=blob.content_type, direct_passthrough=True)
    response.headers["Content-Length"] = str(blob.content_length)
    _cache_headers(response, etag, cache_control)
    return response


def _cache_control(context: RequestContext, filename: str) -> str:
    """The answer's Cache-Control, once the image may be served at all: a private
    account's image needs a valid token for `filename` (else 404). One indexed read."""
    if context.runtime.db.read(lambda executor: queries.private_owner(executor, filename)) is None:
        return CACHE_CONTROL
    token = context.request.args.get("token")
    key = signing_key_var.get()
    now = time.time()
    expires = None if token is None or key is None else token_expiry(key, filename, token, now)
    if expires is None:
        raise NotFound()
    seconds = min(int(expires - now), 86400)
    return PRIVATE_CACHE_CONTROL.format(seconds=seconds)


def _wants_thumbnail(args: MultiDict[str, str]) -> bool:
    """Whether `?variant=thumbnail` was asked for; any other variant is a 400."""
    variants = args.getlist("variant")
    if not variants:
        return False
    if variants != [THUMBNAIL_VARIANT]:
        raise BadRequest(f"variant must be {THUMBNAIL_VARIANT!r}")
    return True


def _wanted_width(args: MultiDict[str, str]) -> int | None:
    """The rendition width `?w=` asks for; a value that is not one of them is a 400."""
    values = args.getlist("w")
    if not values:
        return None
    allowed = Limits.IMAGE_RENDITION_WIDTHS
    if len(values) != 1 or values[0] not in {str(width) for width in allowed}:
        raise BadRequest(f"w must be one of {', '.join(str(width) for width in allowed)}")
    return int(values[0])


def _not_modified(etag: str, cache_control: str) -> Response:
    response = Response(status=304)
    del response.headers["Content-Type"]
    _cache_headers(response, etag, cache_control)
    return response


def _cache_headers(response: Response, etag: str, cache_control: str) -> None:
    response.headers["ETag"] = f'"{etag}"'
    response.headers["Cache-Control"] = cache_control
