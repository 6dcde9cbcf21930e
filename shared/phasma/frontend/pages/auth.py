"""Log in, register, log out (docs/frontend.md §7.1, §7.9)."""

from __future__ import annotations

import contextlib

from werkzeug import Response

from phasma.config import Limits
from phasma.frontend.backend import BackendResponse, BackendUnavailable
from phasma.frontend.context import Context
from phasma.frontend.cookies import (
    delete_session,
    read_device_cookie,
    read_session_cookie,
    set_device,
    set_session,
)
from phasma.frontend.messages import SESSION_NOT_ESTABLISHED, conflicting_field, status_message

FEED = "/feed"
LOGIN_FAILED = "Invalid email or password."
SIGN_IN_AFTER_REGISTER_FAILED = "Account created, but sign-in failed. Please log in."


def login_page(context: Context) -> Response:
    """`GET /login[?next=]` (a signed-in visitor goes on to `next`, or the feed)."""
    if context.viewer is not None:
        return context.redirect(context.next_path(FEED))
    return _login_form(context, email="", error=None, status=200)


def log_in(context: Context) -> Response:
    """`POST /login`: `POST /sessions`, then relay the session cookie."""
    email = context.field("email").strip()
    password = context.field("password")
    if not email or not password:
        return _login_form(context, email, "Email and password are required.", 400)
    # The device cookie lets the owner in while strangers have locked the email out.
    response = context.api.call(
        "POST",
        "/sessions",
        json_body={"email": email, "password": password},
        headers=_browser(context),
        device=True,
    )
    if response.status == 401:
        return _login_form(context, email, LOGIN_FAILED, 401)
    if response.status != 201:
        return _login_form(context, email, status_message(response.status), response.status)
    return _signed_in(context, response, context.next_path(FEED), email)


def register_page(context: Context) -> Response:
    """`GET /register[?next=]` (a signed-in visitor goes on to `next`, or the feed)."""
    if context.viewer is not None:
        return context.redirect(context.next_path(FEED))
    return _register_form(context, {}, error=None, status=200)


def register(context: Context) -> Response:
    """`POST /register`: `POST /users`, then log in as the new account."""
    values = {
        "name": context.field("name").strip(),
        "username": context.field("username").strip().lower(),
        "email": context.field("email").strip(),
    }
    password = context.field("password")
    if not all(values.values()) or not password:
        return _register_form(context, values, "All fields are required.", 400)
    if len(values["name"]) > Limits.NAME_MAX_CHARS:
        message = f"Name must be {Limits.NAME_MAX_CHARS} characters or fewer."
        return _register_form(context, values, message, 400)
    created = context.api.call("POST", "/users", json_body={**values, "password": password})
    if created.status == 409:
        body = created.json()
        field, message = conflicting_field(body.get("message") if isinstance(body, dict) else None)
        return _register_form(context, values, message, 409, field=field)
    if created.status != 201:
        return _register_form(context, values, status_message(created.status), created.status)
    try:
        response = context.api.call(
            "POST",
            "/sessions",
            json_body={"email": values["email"], "password": password},
            headers=_browser(context),
            device=True,
        )
    except BackendUnavailable:
        return _login_form(context, values["email"], SIGN_IN_AFTER_REGISTER_FAILED, 503)
    if response.status != 201:
        return _login_form(context, values["email"], SIGN_IN_AFTER_REGISTER_FAILED, 200)
    return _signed_in(context, response, context.next_path(FEED), values["email"])


def log_out(context: Context) -> Response:
    """`POST /logout`: end the backend session if possible; the cookie goes regardless."""
    # The cookie is deleted anyway; a row left behind expires on its own.
    with contextlib.suppress(BackendUnavailable):
        context.api.call("DELETE", "/sessions")
    response = context.done("/login", redirect="/login")
    delete_session(response, secure=context.settings.cookie_secure)
    return response


def _browser(context: Context) -> dict[str, str]:
    """The browser's `User-Agent` for `POST /sessions`, which labels the new session
    with it ("Firefox on Android"); other calls go as the frontend itself."""
    user_agent = context.request.headers.get("User-Agent", "")
    return {"User-Agent": user_agent[:512]} if user_agent else {}


def _signed_in(context: Context, response: BackendResponse, location: str, email: str) -> Response:
    """Re-emit the backend's session and device cookies (only well-formed ones) and go on."""
    cookie = read_session_cookie(response.set_cookies)
    if cookie is None or not cookie.valid:
        return _login_form(context, email, SESSION_NOT_ESTABLISHED, 502)
    answer = context.done(location, redirect=location)
    set_session(answer, cookie, secure=context.settings.cookie_secure)
    device = read_device_cookie(response.set_cookies)
    if device is not None and device.valid:
        set_device(answer, device, secure=context.settings.cookie_secure)
    return answer


def _login_form(context: Context, email: str, error: str | None, status: int) -> Response:
    if error and context.wants_json:
        return context.failed(error, status)
    return context.render(
        "login.html",
        title="Log in",
        status=status,
        email=email,
        error=error,
        # The page a signed-out reader came from (`?next=`, then the hidden field).
        next=context.next_path(FEED),
    )


def _register_form(
    context: Context,
    values: dict[str, str],
    error: str | None,
    status: int,
    *,
    field: str | None = None,
) -> Response:
    """The form again with what was typed (never the password); `field`: the input the
    error belongs to, which shows it beside itself."""
    if error and context.wants_json:
        return (
            context.failed(error, status)
            if field is None
            else context.json({"ok": False, "error": error, "field": field}, status)
        )
    return context.render(
        "register.html",
        title="Register",
        status=status,
        values=values,
        error=error,
        errors={field: error} if field and error else {},
        next=context.next_path(FEED),
    )
