"""Who the client is, behind exactly `TRUSTED_PROXY_HOPS` proxies (docs/api.md §A.1).

Every proxy we run or deploy behind either replaces `X-Forwarded-For` (the local
gateway, the frontend) or appends the address it saw (Envoy, Knative's activator
and queue-proxy). Entries on the left are whatever the client sent; only the
right-most `hops` entries were written by proxies we trust, so the client is the
entry `hops` from the right. Anything else — no header, too few entries, an entry
that is not an IP — means the socket peer. The API pipeline and the frontend both
call these two functions, so there is one answer to "who is this".
"""

from __future__ import annotations

import ipaddress

from werkzeug import Request

# WSGI servers always set REMOTE_ADDR; this only names a peer a test left out.
UNKNOWN_PEER = "0.0.0.0"


def forwarded_client(forwarded_for: str | None, peer: str, hops: int) -> str:
    """The entry `hops` from the right of `forwarded_for` when it is an IP, else `peer`."""
    if hops <= 0 or not forwarded_for:
        return peer
    entries = forwarded_for.split(",")
    if len(entries) < hops:
        return peer
    try:
        return str(ipaddress.ip_address(entries[-hops].strip()))
    except ValueError:
        return peer


def client_address(request: Request, hops: int) -> str:
    """The client's address of `request` behind `hops` trusted proxies."""
    # Several header lines are one comma-separated list (RFC 9110 §5.3), as a proxy folds them.
    forwarded = ", ".join(request.headers.getlist("X-Forwarded-For"))
    return forwarded_client(forwarded, request.remote_addr or UNKNOWN_PEER, hops)


def is_secure(request: Request, hops: int) -> bool:
    """Whether the client reached the first trusted proxy over TLS.

    With no trusted proxy the connection itself decides. Behind one, the right-most
    `X-Forwarded-Proto` entry does: the proxies in our chains either overwrite the
    header (the gateway; Envoy, which trusts no downstream value with
    `xff_num_trusted_hops` 0) or leave it alone (activator, queue-proxy), so the
    right-most entry is the one the edge wrote, never one the client sent.
    """
    if hops > 0:
        forwarded = request.headers.getlist("X-Forwarded-Proto")
        if forwarded:
            return forwarded[-1].rsplit(",", 1)[-1].strip().lower() == "https"
    return request.scheme == "https"
