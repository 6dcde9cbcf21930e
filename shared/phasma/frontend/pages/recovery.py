"""Email verification and password recovery pages (docs/api.md §B).

A mailed link opens a page that only shows a form: the token is spent by the POST
the person's click sends, never by the GET, so link scanners and previews that
fetch every URL in a message cannot use it up (docs/security.md §10). The token
travels in the query string (no access log writes it) and then in the form body.
"""

from __future__ import annotations

from werkzeug import Response

from phasma.auth.mail_tokens import is_well_formed
from phasma.frontend.context import Context
from phasma.frontend.messages import status_message

INVALID_LINK = "This link is invalid, expired or already used."
RESEND_LIMIT = "You asked for three links in the last hour; try again later."


def verify_page(context: Context) -> Response:
    """`GET /verify-email?token=…`: a button that confirms, nothing spent yet."""
    token = context.request.args.get("token", "")
    return _verify(context, token, error=None if is_well_formed(token) else INVALID_LINK)


def verify(context: Context) -> Response:
    """`POST /verify-email`: `POST /email-verifications` with the form's token."""
    token = context.field("token")
    if not is_well_formed(token):
        return _verify(context, token, INVALID_LINK, 400)
    response = context.api.call("POST", "/email-verifications", json_body={"token": token})
    if response.status == 400:
        return _verify(context, token, INVALID_LINK, 400)
    if response.status != 204:
        return _verify(context, token, status_message(response.status), response.status)
    return _message(context, "Email verified", "Thanks: your email address is verified.")


def resend_verification(context: Context) -> Response:
    """`POST /settings/verification`: ask for a fresh link, then back to the feed."""
    response = context.api.call("POST", "/users/me/verification")
    if response.status == 429:
        return _message(context, "Verification", RESEND_LIMIT, 429)
    context.expect(response, 202)
    return _message(
        context, "Check your mail", "We sent a new verification link. It works for 24 hours."
    )


def forgot_page(context: Context) -> Response:
    """`GET /forgot-password`: the request form."""
    return _forgot(context, email="", error=None)


def forgot(context: Context) -> Response:
    """`POST /forgot-password`: `POST /password-resets`; the same answer for any address."""
    email = context.field("email").strip()
    response = context.api.call("POST", "/password-resets", json_body={"email": email})
    if response.status == 400:
        return _forgot(context, email, "Enter a valid email address.", 400)
    if response.status != 202:
        return _forgot(context, email, status_message(response.status), response.status)
    return _message(
        context,
        "Check your mail",
        "If an account uses that address, we sent it a link to choose a new password. "
        "The link works for one hour.",
    )


def reset_page(context: Context) -> Response:
    """`GET /reset-password?token=…`: the new-password form, nothing spent yet."""
    token = context.request.args.get("token", "")
    return _reset(context, token, error=None if is_well_formed(token) else INVALID_LINK)


def reset(context: Context) -> Response:
    """`POST /reset-password`: `PUT /password-resets/{token}`, then to the login page."""
    token = context.field("token")
    password = context.field("password")
    if not is_well_formed(token):  # never let a crafted "token" steer the backend path
        return _reset(context, token, INVALID_LINK, 400)
    response = context.api.call(
        "PUT", f"/password-resets/{token}", json_body={"password": password}
    )
    if response.status == 400:
        body = response.json()
        message = str(body.get("message", "")) if isinstance(body, dict) else ""
        if message.startswith("password must be"):
            return _reset(context, token, "Use 8 to 128 bytes for the password.", 400)
        return _reset(context, token, INVALID_LINK, 400)
    if response.status != 204:
        return _reset(context, token, status_message(response.status), response.status)
    return _message(
        context,
        "Password changed",
        "Your password is changed and every session is signed out. Log in with the new one.",
        link=("/login", "Log in"),
    )


def _verify(context: Context, token: str, error: str | None, status: int = 200) -> Response:
    return context.render(
        "verify_email.html", title="Verify your email", status=status, token=token, error=error
    )


def _forgot(context: Context, email: str, error: str | None, status: int = 200) -> Response:
    return context.render(
        "forgot_password.html", title="Forgot password", status=status, email=email, error=error
    )


def _reset(context: Context, token: str, error: str | None, status: int = 200) -> Response:
    return context.render(
        "reset_password.html",
        title="Choose a new password",
        status=status,
        token=token,
        error=error,
    )


def _message(
    context: Context,
    heading: str,
    text: str,
    status: int = 200,
    link: tuple[str, str] | None = None,
) -> Response:
    return context.render(
        "mail_message.html", title=heading, status=status, heading=heading, text=text, link=link
    )
