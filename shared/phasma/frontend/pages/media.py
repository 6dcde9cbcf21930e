"""The image proxy `GET /uploads/{key}` (docs/frontend.md §9): bytes streamed, never buffered."""

from __future__ import annotations

import re
from collections.abc import Iterable

from werkzeug import Response

from phasma.config import Limits
from phasma.frontend.backend import BackendUnavailable
from phasma.frontend.context import Context

FILENAME = re.compile(r"[0-9a-f]{32}")
TOKEN = re.compile(r"[0-9]{1,12}-[0-9a-f]{32}")
VARIANTS = frozenset({"thumbnail"})
WIDTHS = frozenset(str(width) for width in Limits.IMAGE_RENDITION_WIDTHS)
RELAYED_HEADERS = ("Content-Type", "Content-Length", "ETag", "Last-Modified", "Cache-Control")
TEXT = "text/plain; charset=utf-8"


def image(context: Context) -> Response:
    """Relay `GET /uploads/{key}[?variant=thumbnail | ?w=<width>][&token=]` from `media`,
    `304` included; `token` signs a private account's image (docs/security.md, "Private
    media"): relayed as is, `media` checks it."""
    key = context.params["key"]
    variant = context.request.args.get("variant")
    width = context.request.args.get("w")
    token = context.request.args.get("token")
    if (
        not FILENAME.fullmatch(key)
        or (variant is not None and variant not in VARIANTS)
        or (width is not None and (width not in WIDTHS or variant is not None))
        or (token is not None and not TOKEN.fullmatch(token))
    ):
        return Response("Not found.", status=404, content_type=TEXT)
    headers = {}
    if_none_match = context.request.headers.get("If-None-Match")
    if if_none_match:
        headers["If-None-Match"] = if_none_match
    try:
        upstream = context.api.stream(
            context.request.method,
            f"/uploads/{key}",
            query={"variant": variant, "w": width, "token": token},
            headers=headers,
            anonymous=True,
        )
    except BackendUnavailable:
        return Response("Image unavailable", status=502, content_type=TEXT)
    if upstream.status == 404:
        upstream.close()
        return Response("Not found.", status=404, content_type=TEXT)
    if upstream.status not in (200, 304):
        upstream.close()
        return Response("Image unavailable", status=502, content_type=TEXT)
    if upstream.status == 304 or context.request.method == "HEAD":
        body: Iterable[bytes] = ()
        upstream.close()
    else:
        body = upstream.chunks()
    response = Response(body, status=upstream.status, direct_passthrough=True)
    del response.headers["Content-Type"]
    for name in RELAYED_HEADERS:
        value = upstream.headers.get(name)
        if value is not None:
            response.headers[name] = value
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
