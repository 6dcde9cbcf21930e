"""Static assets with content-hashed names and immutable caching (docs/frontend.md §9).

Every file under `frontend/static/` is read once at start-up and served as
`/assets/<path>.<hash>.<ext>` (cached for a year, immutable) and, for links that
must stay stable such as the avatar placeholder, under its plain name with a
short cache. Hand-written files only: no build step and no Node at run time.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
from dataclasses import dataclass
from pathlib import Path

from werkzeug import Request, Response

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"
_HASH_CHARS = 12
_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webmanifest": "application/manifest+json",
}


def frontend_directory() -> Path:
    """The `frontend/` folder: beside `shared/` in a checkout, else in the working directory
    (the function image copies it to /app/frontend next to /app/functions)."""
    checkout = Path(__file__).resolve().parents[3] / "frontend"
    if checkout.is_dir():
        return checkout
    return Path(os.getcwd()) / "frontend"


@dataclass(frozen=True)
class Asset:
    """One static file held in memory."""

    content: bytes
    content_type: str
    digest: str
    cache_control: str


class AssetCatalogue:
    """Every static file, by its hashed and its plain public path."""

    def __init__(self, directory: Path) -> None:
        self._urls: dict[str, str] = {}
        self._assets: dict[str, Asset] = {}
        for path in sorted(directory.rglob("*")):
            if not path.is_file():
                continue
            name = path.relative_to(directory).as_posix()
            content = path.read_bytes()
            digest = hashlib.sha256(content).hexdigest()[:_HASH_CHARS]
            content_type = _TYPES.get(path.suffix) or (
                mimetypes.guess_type(name)[0] or "application/octet-stream"
            )
            stem, dot, suffix = name.rpartition(".")
            hashed = f"/assets/{stem}.{digest}.{suffix}" if dot else f"/assets/{name}.{digest}"
            self._urls[name] = hashed
            self._assets[hashed] = Asset(content, content_type, digest, IMMUTABLE)
            self._assets[f"/assets/{name}"] = Asset(content, content_type, digest, SHORT)

    def url(self, name: str) -> str:
        """The hashed public path of the static file `name` (KeyError when missing)."""
        return self._urls[name]

    def serve(self, request: Request) -> Response | None:
        """The asset at the request's path (`304` when the browser has it); None if unknown."""
        asset = self._assets.get(request.path)
        if asset is None:
            return None
        etag = f'"{asset.digest}"'
        if etag in request.headers.get("If-None-Match", ""):
            response = Response(status=304)
        else:
            response = Response(asset.content, content_type=asset.content_type)
        response.headers["ETag"] = etag
        response.headers["Cache-Control"] = asset.cache_control
        return response
