"""HTTP handlers of the `users` function (docs/api.md §10)."""

from __future__ import annotations

from werkzeug import Response

from phasma.accounts import EMAIL_PATTERN, ProfileFields, validate_new_password
from phasma.config import Limits
from phasma.db.pool import Executor
from phasma.http.context import RequestContext
from phasma.http.cookies import DEVICE_COOKIE_NAME, clear_session_cookie, read_device_cookie
from phasma.http.errors import BadRequest, NotFound
from phasma.http.responses import json_response, no_content
from phasma.notifications.queries import unread_count
from phasma.users import actions, queries
from phasma.users.models import (
    DeleteAccountBody,
    EmailBody,
    NewPasswordBody,
    OwnUser,
    RegisterBody,
    TokenBody,
    UpdateMeBody,
    UserList,
)


def register(context: RequestContext) -> Response:
    """`POST /users`: create an account (no session is created)."""
    body = context.body(RegisterBody)
    fields = ProfileFields(body.name, body.username, body.email)
    fields.validate(password=body.password)
    runtime = context.runtime
    username = actions.register(runtime.db, runtime.passwords, fields, body.password)
    return json_response({"username": username}, 201)


def get_me(context: RequestContext) -> Response:
    """`GET /users/me`: the signed-in account, email and `emailVerified` included;
    `?include=unreadCount` adds the unread notification count, so a page's navigation
    shell costs one call, not two."""
    viewer = context.signed_in
    include = context.request.args.get("include")
    if include not in (None, "unreadCount"):
        raise BadRequest("include must be unreadCount")

    def read(executor: Executor) -> tuple[OwnUser | None, int | None]:
        user = queries.own_user(executor, viewer.user_id)
        unread = unread_count(executor, viewer.user_id) if include and user else None
        return user, unread

    user, unread = context.runtime.db.read(read)
    if user is None:
        raise NotFound()
    if unread is None:
        return json_response(user)
    return json_response({**user.model_dump(mode="json", by_alias=True), "unreadCount": unread})


def update_me(context: RequestContext) -> Response:
    """`PUT /users/me`: change the password when `password` is set, else replace the profile.

    `oldPassword`, needed for a password or an email change, is checked through the
    login throttle of the account's email (docs/api.md §A.6).
    """
    body = context.body(UpdateMeBody)
    runtime = context.runtime
    viewer = context.signed_in
    if body.password:
        if not body.old_password:
            raise BadRequest("oldPassword is required")
        validate_new_password(body.password)
        account = _credentials(context)
        verified_hash = _reauthenticate(context, account, body.old_password)
        actions.change_password(runtime.db, runtime.passwords, viewer, verified_hash, body.password)
        return no_content()
    fields = ProfileFields(body.name, body.username, body.email)
    fields.validate()
    bio = body.bio.strip()
    if len(bio) > Limits.BIO_MAX_CHARS:
        raise BadRequest(f"bio must be at most {Limits.BIO_MAX_CHARS} characters")
    account = _credentials(context)
    verified: str | None = None
    if fields.email != account["email"]:
        # A stolen session alone must not be enough to take the account over.
        if not body.old_password:
            raise BadRequest(actions.EMAIL_NEEDS_PASSWORD)
        verified = _reauthenticate(context, account, body.old_password)
    replaced_avatar = actions.update_profile(
        runtime.db,
        viewer,
        fields,
        body.avatar.strip() or None,
        bio or None,
        verified,
        private=body.private,
    )
    if replaced_avatar is not None:
        actions.delete_replaced_avatar(runtime.db, runtime.blob_store, replaced_avatar)
    return no_content()


def delete_me(context: RequestContext) -> Response:
    """`DELETE /users/me` (docs/api.md §C): with the password, the account is gone at once
    (sessions ended, cookie cleared, profile 404, login refused); its rows and blobs are
    removed afterwards by the `account-remover`. The password check counts in the login
    throttle like every re-authentication (429 while it blocks)."""
    body = context.body(DeleteAccountBody)
    if not body.password:
        raise BadRequest("password is required")
    account = _credentials(context)
    verified_hash = _reauthenticate(context, account, body.password)
    actions.delete_account(context.runtime.db, context.signed_in, verified_hash)
    response = json_response({}, 202)
    clear_session_cookie(response, secure=context.secure)
    return response


def _credentials(context: RequestContext) -> queries.CredentialsRow:
    viewer = context.signed_in
    account = context.runtime.db.read(
        lambda executor: queries.credentials_by_id(executor, viewer.user_id)
    )
    if account is None:
        raise NotFound()
    return account


def _reauthenticate(context: RequestContext, account: queries.CredentialsRow, password: str) -> str:
    secret = context.runtime.settings.session_hash_secret or ""
    device = read_device_cookie(context.request.cookies.get(DEVICE_COOKIE_NAME), secret)
    return actions.verify_current_password(
        context.runtime, account, password, context.client_ip, device
    )


def get_user(context: RequestContext) -> Response:
    """`GET /users/{username}`: a public profile, personalised for a signed-in viewer."""
    username = context.username_param(invalid=BadRequest)
    viewer_id = context.viewer_id
    user = context.runtime.db.read(
        lambda executor: queries.user_by_username(executor, username, viewer_id)
    )
    if user is None:
        raise NotFound()
    return json_response(user)


def suggested_users(context: RequestContext) -> Response:
    """`GET /users/suggested`: up to 5 accounts the viewer does not follow yet."""
    viewer = context.signed_in
    users = context.runtime.db.read(
        lambda executor: queries.suggested_users(executor, viewer.user_id)
    )
    return json_response(UserList(items=users))


def resend_verification(context: RequestContext) -> Response:
    """`POST /users/me/verification`: mail a fresh verification link (3 an hour)."""
    actions.resend_verification(context.runtime.db, context.signed_in)
    return json_response({}, 202)


def verify_email(context: RequestContext) -> Response:
    """`POST /email-verifications` (public): spend the token, mark the address verified."""
    body = context.body(TokenBody)
    secret = context.runtime.settings.session_hash_secret or ""
    actions.verify_email(context.runtime.db, secret, body.token)
    return no_content()


def request_password_reset(context: RequestContext) -> Response:
    """`POST /password-resets` (public): `202` whether or not the address is registered."""
    email = context.body(EmailBody).email.strip().lower()
    if len(email) > Limits.EMAIL_MAX_CHARS or not EMAIL_PATTERN.fullmatch(email):
        raise BadRequest("email is not a valid address")
    actions.request_password_reset(context.runtime.db, email)
    return json_response({}, 202)


def reset_password(context: RequestContext) -> Response:
    """`PUT /password-resets/{token}` (public): new password, every session ended."""
    password = context.body(NewPasswordBody).password
    validate_new_password(password)
    actions.reset_password(context.runtime, context.params["token"], password)
    return no_content()
