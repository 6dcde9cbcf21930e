"""HTTP handlers of the `sessions` function (docs/api.md §11)."""

from __future__ import annotations

from werkzeug import Response

from phasma.auth.tokens import is_well_formed, token_key
from phasma.http.context import RequestContext
from phasma.http.cookies import (
    COOKIE_NAME,
    DEVICE_COOKIE_NAME,
    clear_session_cookie,
    new_device_cookie,
    read_device_cookie,
    set_device_cookie,
    set_session_cookie,
)
from phasma.http.errors import BadRequest
from phasma.http.responses import json_response, no_content
from phasma.sessions import actions, queries
from phasma.sessions.devices import device_label
from phasma.sessions.models import LoginBody, Session, SessionList


def log_in(context: RequestContext) -> Response:
    """`POST /sessions`: verify the credentials, set the session and device cookies.

    The only cookie read here is `device` (never `session`): a public route.
    """
    body = context.body(LoginBody)
    email = body.email.strip().lower()
    if not email or not body.password:
        raise BadRequest("email and password are required")
    secret = context.runtime.settings.session_hash_secret or ""
    device = read_device_cookie(context.request.cookies.get(DEVICE_COOKIE_NAME), secret)
    logged_in = actions.log_in(
        context.runtime,
        email,
        body.password,
        context.client_ip,
        device,
        device_label=device_label(context.request.headers.get("User-Agent")),
    )
    response = json_response({"username": logged_in.username}, 201)
    set_session_cookie(response, logged_in.token, secure=context.secure)
    # A fresh device cookie on every login: this browser is now a known device.
    device_cookie = new_device_cookie(logged_in.user_public_id, secret)
    set_device_cookie(response, device_cookie, secure=context.secure)
    return response


def list_sessions(context: RequestContext) -> Response:
    """`GET /sessions`: the caller's live sessions, current first."""
    viewer = context.signed_in
    absolute = context.runtime.settings.session_absolute_ttl_seconds
    rows = context.runtime.db.read(
        lambda executor: queries.list_sessions(
            executor, viewer.user_id, viewer.session_key, absolute
        )
    )
    sessions = [
        Session(
            id=row["public_id"],
            created=row["created"],
            expires_at=row["expires_at"],
            current=row["current"],
            device=row["device"],
            last_used=row["last_used"],
        )
        for row in rows
    ]
    return json_response(SessionList(sessions=sessions))


def log_out(context: RequestContext) -> Response:
    """`DELETE /sessions`: end the current session if the cookie names one; always 204."""
    token = context.request.cookies.get(COOKIE_NAME)
    if is_well_formed(token):
        key = token_key(token or "", context.runtime.settings.session_hash_secret or "")
        # Idempotent, so a transient failure may be retried; a lasting one is a 503
        # and the cookie stays (the session still exists).
        context.runtime.db.read(lambda executor: queries.delete_session(executor, key))
    response = no_content()
    clear_session_cookie(response, secure=context.secure)
    return response


def revoke(context: RequestContext) -> Response:
    """`DELETE /sessions/{id}`: end another of the caller's sessions."""
    public_id = context.uuid_param("id")
    actions.revoke(context.runtime.db, context.signed_in, public_id)
    return no_content()
