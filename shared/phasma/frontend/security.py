"""Browser-facing protections: security headers and CSP, the origin guard, safe `next` paths.

The client's address and scheme come from `phasma.http.forwarded`, shared with the API.

docs/frontend.md §10: every mutation must come from the public
origin; every response carries the headers below with a fresh CSP nonce.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from werkzeug import Request

from phasma.config import Settings

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_BASE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    # Only features Chromium knows: an unknown one (`bluetooth`) is an error on every load.
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
_HSTS = "max-age=31536000; includeSubDomains"


def new_nonce() -> str:
    """A CSP nonce: 16 random bytes, URL-safe base64."""
    return secrets.token_urlsafe(16)


def content_security_policy(nonce: str) -> str:
    """The CSP of docs/frontend.md §10: scripts and styles only from us, no framing, no plugins."""
    return (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self'; "
        "img-src 'self' data: blob:; "
        "connect-src 'self'; "
        "font-src 'self'; "
        "object-src 'none'; "
        "base-uri 'self'; "
        "form-action 'self'; "
        "frame-ancestors 'none'; "
        "frame-src 'none'"
    )


def security_headers(nonce: str, settings: Settings) -> dict[str, str]:
    """Every browser security header, for an answer whose page carries `nonce`."""
    headers = {**_BASE_HEADERS, "Content-Security-Policy": content_security_policy(nonce)}
    if origin_of(settings.public_origin).startswith("https://"):
        headers["Strict-Transport-Security"] = _HSTS
    return headers


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of `url`, lowercased; "" when it has no scheme or host."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_origin_request(request: Request, public_origin: str) -> bool:
    """docs/frontend.md §10: `Origin` must be the public origin; without one, fetch metadata
    must say same-origin (or a user-typed navigation), or the `Referer` must be ours."""
    expected = origin_of(public_origin)
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin_of(origin) == expected and expected != ""
    if request.headers.get("Sec-Fetch-Site") in ("same-origin", "none"):
        return True
    referer = request.headers.get("Referer")
    return referer is not None and origin_of(referer) == expected and expected != ""


def safe_next(value: str | None, default: str) -> str:
    """A same-origin path to return to, else `default` (no scheme, host or `//`)."""
    if not value or not value.startswith("/") or value.startswith("//"):
        return default
    if "\\" in value or any(ord(character) < 0x20 for character in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value
