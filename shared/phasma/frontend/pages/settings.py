"""Settings: appearance, profile, password, active sessions (docs/frontend.md §7.9) and
deleting the account (docs/api.md §C)."""

from __future__ import annotations

from typing import Any

from werkzeug import Response

from phasma.accounts import ProfileFields
from phasma.config import Limits
from phasma.frontend.backend import api_path
from phasma.frontend.context import Context, RequestTooLarge, SignInRequired
from phasma.frontend.cookies import delete_session, set_flash, set_theme, theme_of
from phasma.frontend.messages import ACCOUNT_DELETED, conflicting_field
from phasma.frontend.pages import UUID_SHAPE
from phasma.frontend.pages.upload import IMAGE_TOO_LARGE, ImageProblem, read_image, send_image
from phasma.http.errors import HttpError

PROFILE_REQUIRED = "Name, username, and email are required."
PROFILE_FAILED = "Could not save profile. Please check your details and try again."
BIO_TOO_LONG = f"Bio must be {Limits.BIO_MAX_CHARS} characters or fewer."
PASSWORDS_REQUIRED = "Both passwords are required."
PASSWORD_TOO_SHORT = "New password must be at least 8 characters."
PASSWORD_TOO_LONG = "New password must be 128 characters or fewer."
PASSWORD_INCORRECT = "Current password is incorrect."
EMAIL_NEEDS_PASSWORD = "Enter your current password to change your email."
TOO_MANY_PASSWORD_ATTEMPTS = "Too many password attempts. Please try again later."
SOMETHING_WRONG = "Something went wrong. Please try again."
SESSION_INVALID = "Invalid session."
SESSION_GONE = "That session is no longer active."
SESSION_CURRENT = "Your current session cannot be revoked here. Use Logout instead."
REVOKE_FAILED = "Could not revoke the session. Please try again."
DELETE_PASSWORD_REQUIRED = "Enter your password to delete your account."
DELETE_FAILED = "Could not delete your account. Please try again."
SESSIONS_FAILED = "Could not load active sessions. Please try again."


def settings_page(context: Context) -> Response:
    """`GET /settings`."""
    context.require_viewer()
    return context.render("settings.html", title="Settings")


def choose_theme(context: Context) -> Response:
    """`POST /settings/theme`: the Appearance switch for a browser without JavaScript."""
    theme = theme_of(context.field("theme"))
    response = context.done(context.next_path("/settings"), theme=theme)
    set_theme(response, theme, secure=context.secure)
    return response


def profile_page(context: Context) -> Response:
    """`GET /settings/profile`: the form filled from `GET /users/me`."""
    me = _me(context)
    return _profile_form(context, me, me, error=None, status=200)


def save_profile(context: Context) -> Response:
    """`POST /settings/profile`: an optional new avatar, then `PUT /users/me` (with the
    current password when the email changes: docs/api.md §A.6)."""
    me = _me(context)
    try:
        form = context.form()
    except RequestTooLarge:
        return _profile_form(context, me, me, IMAGE_TOO_LARGE, 413)
    fields = {
        "name": form.get("name", "").strip(),
        "username": form.get("username", "").strip().lower(),
        "email": form.get("email", "").strip(),
        "bio": form.get("bio", "").strip(),
    }
    # The privacy switch (docs/api.md §E): an unticked box sends nothing, so it is sent as
    # false; turning it off approves every pending request.
    values: dict[str, Any] = {**fields, "private": form.get("private") == "1"}
    if not (fields["name"] and fields["username"] and fields["email"]):
        return _profile_form(context, me, values, PROFILE_REQUIRED, 400)
    if len(fields["bio"]) > Limits.BIO_MAX_CHARS:
        return _profile_form(context, me, values, BIO_TOO_LONG, 400, field="bio")
    current_password = form.get("current_password", "")
    email_changes = fields["email"].lower() != str(me.get("email") or "").lower()
    if email_changes and not current_password:
        return _profile_form(context, me, values, EMAIL_NEEDS_PASSWORD, 400)
    avatar = me.get("avatar") or ""
    try:
        image = read_image(context, "avatar", required=False)
        if image is not None:
            avatar = send_image(context, image)
        elif form.get("remove_avatar") == "1":
            avatar = ""
    except ImageProblem as problem:
        return _profile_form(context, me, values, problem.message, problem.status)
    body = {**values, "avatar": avatar}
    if email_changes:
        body["oldPassword"] = current_password
    response = context.api.call("PUT", "/users/me", json_body=body, device=True)
    if response.status == 401:
        raise SignInRequired()
    if response.status == 429 and email_changes:
        return _profile_form(context, me, values, TOO_MANY_PASSWORD_ATTEMPTS, 429)
    if response.status == 400 and email_changes and _valid_profile(fields):
        # The fields pass the backend's own rules, so the 400 is the current password.
        return _profile_form(context, me, values, PASSWORD_INCORRECT, 400)
    if response.status == 409:
        answer = response.json()
        field, message = conflicting_field(
            answer.get("message") if isinstance(answer, dict) else None
        )
        return _profile_form(context, me, values, message, 409, field=field)
    if not response.ok:
        return _profile_form(context, me, values, PROFILE_FAILED, response.status)
    return context.done("/settings", redirect="/settings")


def _valid_profile(values: dict[str, str]) -> bool:
    """Whether the fields pass `PUT /users/me`'s rules (the status alone picks the copy)."""
    try:
        ProfileFields(values["name"], values["username"], values["email"]).validate()
    except HttpError:
        return False
    return len(values["bio"]) <= Limits.BIO_MAX_CHARS


def password_page(context: Context) -> Response:
    """`GET /settings/password`."""
    context.require_viewer()
    return _password_form(context, error=None, status=200)


def change_password(context: Context) -> Response:
    """`POST /settings/password`: `PUT /users/me {oldPassword, password}`."""
    current = context.field("current_password")
    new = context.field("new_password")
    if not current or not new:
        return _password_form(context, PASSWORDS_REQUIRED, 400)
    if len(new.encode()) < Limits.PASSWORD_MIN_BYTES:
        return _password_form(context, PASSWORD_TOO_SHORT, 400)
    if len(new.encode()) > Limits.PASSWORD_MAX_BYTES:
        return _password_form(context, PASSWORD_TOO_LONG, 400)
    response = context.api.call(
        "PUT", "/users/me", json_body={"oldPassword": current, "password": new}, device=True
    )
    if response.ok:
        return context.done("/settings", redirect="/settings")
    if response.status == 429:
        return _password_form(context, TOO_MANY_PASSWORD_ATTEMPTS, 429)
    if response.status in (400, 401):
        # A 401 that also clears the cookie means the session ended, not a wrong password.
        ended = context.api.session_cookie
        if response.status == 401 and ended is not None and ended.cleared:
            raise SignInRequired()
        return _password_form(context, PASSWORD_INCORRECT, 400)
    return _password_form(context, SOMETHING_WRONG, response.status)


def delete_account_page(context: Context) -> Response:
    """`GET /settings/delete-account`: what goes, what is kept, and the password."""
    context.require_viewer()
    return _delete_form(context, error=None, status=200)


def delete_account(context: Context) -> Response:
    """`POST /settings/delete-account`: `DELETE /users/me {password}`; then the visitor is
    signed out and lands on `/`, which says "Your account is being deleted." once."""
    password = context.field("password")
    if not password:
        return _delete_form(context, DELETE_PASSWORD_REQUIRED, 400)
    response = context.api.call(
        "DELETE", "/users/me", json_body={"password": password}, device=True
    )
    if response.ok:
        done = context.done("/", redirect="/")
        # The backend ended every session; the cookie goes here too, not only when relayed.
        delete_session(done, secure=context.settings.cookie_secure)
        set_flash(done, ACCOUNT_DELETED, secure=context.secure)
        return done
    if response.status == 429:
        return _delete_form(context, TOO_MANY_PASSWORD_ATTEMPTS, 429)
    if response.status == 401:
        raise SignInRequired()
    if response.status == 400:  # the password is present, so the 400 is a wrong one
        return _delete_form(context, PASSWORD_INCORRECT, 400)
    # 409 (the password changed meanwhile) or an outage: nothing was deleted.
    return _delete_form(context, DELETE_FAILED, response.status)


def sessions_page(context: Context) -> Response:
    """`GET /settings/sessions`: every live session, the current one first."""
    return _sessions(context, error=None, status=200)


def revoke_session(context: Context) -> Response:
    """`POST /settings/sessions/{id}/revoke` (never the current session)."""
    session_id = context.params["session_id"]
    if not UUID_SHAPE.fullmatch(session_id):
        return _revoke_failed(context, SESSION_INVALID, 400)
    response = context.api.call("DELETE", api_path("/sessions/{}", session_id.lower()))
    if response.ok:
        return context.done("/settings/sessions")
    if response.status == 401:
        raise SignInRequired()
    message = {400: SESSION_INVALID, 404: SESSION_GONE, 409: SESSION_CURRENT}.get(
        response.status, REVOKE_FAILED
    )
    return _revoke_failed(context, message, response.status)


def _me(context: Context) -> dict[str, Any]:
    """The full account (email included) for the profile form: the page's one viewer
    call, not a second `GET /users/me`."""
    return context.account()


def _profile_form(
    context: Context,
    me: dict[str, Any],
    values: dict[str, Any],
    error: str | None,
    status: int,
    *,
    field: str | None = None,
) -> Response:
    if error and context.wants_json:
        return (
            context.failed(error, status)
            if field is None
            else context.json({"ok": False, "error": error, "field": field}, status)
        )
    return context.render(
        "settings_profile.html",
        title="Edit Profile",
        status=status,
        me=me,
        values=values,
        error=error,
        errors={field: error} if field and error else {},
    )


def _password_form(context: Context, error: str | None, status: int) -> Response:
    if error and context.wants_json:
        return context.failed(error, status)
    return context.render(
        "settings_password.html", title="Change Password", status=status, error=error
    )


def _delete_form(context: Context, error: str | None, status: int) -> Response:
    if error and context.wants_json:
        return context.failed(error, status)
    return context.render(
        "settings_delete.html", title="Delete Account", status=status, error=error
    )


def _sessions(context: Context, error: str | None, status: int) -> Response:
    response = context.api.get("/sessions")
    if response.status == 401:
        raise SignInRequired()
    body = response.json() if response.ok else None
    sessions = body.get("sessions") if isinstance(body, dict) else None
    load_error = None if isinstance(sessions, list) else SESSIONS_FAILED
    return context.render(
        "settings_sessions.html",
        title="Active Sessions",
        status=status,
        sessions=sessions or [],
        load_error=load_error,
        error=error,
    )


def _revoke_failed(context: Context, message: str, status: int) -> Response:
    if context.wants_json:
        return context.failed(message, status)
    return _sessions(context, error=message, status=status)
