"""HTTP handler of the `media` function (api.md §15.2).

Images never change under a name (a new upload gets a new one), so responses are
cacheable for a day and marked immutable, and the ETag is derived from the URL alone:
a conditional request is answered without asking the store anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from werkzeug import Response
from werkzeug.datastructures import MultiDict

from phasma.blobs import thumbnail_key
from phasma.http.context import RequestContext
from phasma.http.errors import BadRequest, NotFound

FILENAME_PATTERN: Final = re.compile(r"[0-9a-f]{32}")
CACHE_CONTROL: Final = "public, max-age=86400, immutable"
THUMBNAIL_VARIANT: Final = "thumbnail"


def serve(context: RequestContext) -> Response:
    """`GET /uploads/{filename}[?variant=thumbnail]`: the stored JPEG, streamed."""
    filename = context.params["filename"]
    if not FILENAME_PATTERN.fullmatch(filename):
        raise NotFound()  # never a storage key: extensions, uppercase, anything else
    thumbnail = _wants_thumbnail(context.request.args)
    etag = f"{filename}-{THUMBNAIL_VARIANT}" if thumbnail else filename
    # `contains_weak` also accepts `W/"…"` and `*` (api.md §15.2).
    if context.request.if_none_match.contains_weak(etag):
        return _not_modified(etag)
    store = context.runtime.blob_store
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
    _cache_headers(response, etag)
    return response


def _wants_thumbnail(args: MultiDict[str, str]) -> bool:
    """Whether `?variant=thumbnail` was asked for; any other variant is a 400."""
    variants = args.getlist("variant")
    if not variants:
        return False
    if variants != [THUMBNAIL_VARIANT]:
        raise BadRequest(f"variant must be {THUMBNAIL_VARIANT!r}")
    return True


def _not_modified(etag: str) -> Response:
    response = Response(status=304)
    del response.headers["Content-Type"]
    _cache_headers(response, etag)
    return response


def _cache_headers(response: Response, etag: str) -> None:
    response.headers["ETag"] = f'"{etag}"'
    response.headers["Cache-Control"] = CACHE_CONTROL
