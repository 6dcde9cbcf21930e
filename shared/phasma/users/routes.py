"""HTTP handlers of the `users` function (api.md §10)."""

from __future__ import annotations

from werkzeug import Response

from phasma.config import Limits
from phasma.db.pool import Executor
from phasma.http.context import RequestContext
from phasma.http.errors import BadRequest, NotFound
from phasma.http.responses import json_response, no_content
from phasma.notifications.queries import unread_count
from phasma.users import actions, queries
from phasma.users.models import (
    ProfileFields,
    RegisterBody,
    UpdateMeBody,
    User,
    UserList,
    validate_new_password,
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
    """`GET /users/me`: the signed-in account, email included; `?include=unreadCount` adds
    the unread notification count, so a page's navigation shell costs one call, not two."""
    viewer = context.signed_in
    include = context.request.args.get("include")
    if include not in (None, "unreadCount"):
        raise BadRequest("include must be unreadCount")

    def read(executor: Executor) -> tuple[User | None, int | None]:
        user = queries.user_by_id(executor, viewer.user_id, viewer.user_id)
        unread = unread_count(executor, viewer.user_id) if include and user else None
        return user, unread

    user, unread = context.runtime.db.read(read)
    if user is None:
        raise NotFound()
    if unread is None:
        return json_response(user)
    return json_response({**user.model_dump(mode="json", by_alias=True), "unreadCount": unread})


def update_me(context: RequestContext) -> Response:
    """`PUT /users/me`: change the password when `password` is set, else replace the profile."""
    body = context.body(UpdateMeBody)
    runtime = context.runtime
    if body.password:
        if not body.old_password:
            raise BadRequest("oldPassword is required")
        validate_new_password(body.password)
        actions.change_password(
            runtime.db, runtime.passwords, context.signed_in, body.old_password, body.password
        )
        return no_content()
    fields = ProfileFields(body.name, body.username, body.email)
    fields.validate()
    bio = body.bio.strip()
    if len(bio) > Limits.BIO_MAX_CHARS:
        raise BadRequest(f"bio must be at most {Limits.BIO_MAX_CHARS} characters")
    replaced_avatar = actions.update_profile(
        runtime.db, context.signed_in, fields, body.avatar.strip() or None, bio or None
    )
    if replaced_avatar is not None:
        actions.delete_replaced_avatar(runtime.db, runtime.blob_store, replaced_avatar)
    return no_content()


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
