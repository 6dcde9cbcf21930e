"""HTTP handlers of blocks and mutes (api-2.md §D), served by the `follows` function."""

from __future__ import annotations

from collections.abc import Callable

from werkzeug import Response

from phasma.blocks import actions, queries
from phasma.blocks.queries import Kind
from phasma.db.pool import Database
from phasma.follows.models import UserPage
from phasma.http.context import RequestContext
from phasma.http.errors import BadRequest
from phasma.http.responses import json_response, no_content
from phasma.pagination import build_page, parse_page_request
from phasma.sessions.queries import Viewer
from phasma.users.queries import to_user

Action = Callable[[Database, Viewer, str], None]


def _change(context: RequestContext, action: Action) -> Response:
    username = context.username_param(invalid=BadRequest)
    action(context.runtime.db, context.signed_in, username)
    return no_content()


def block(context: RequestContext) -> Response:
    """`PUT /users/{username}/block`: idempotent; oneself is a 400."""
    return _change(context, actions.block)


def unblock(context: RequestContext) -> Response:
    """`DELETE /users/{username}/block`: idempotent; oneself is a 400."""
    return _change(context, actions.unblock)


def mute(context: RequestContext) -> Response:
    """`PUT /users/{username}/mute`: idempotent; oneself is a 400."""
    return _change(context, actions.mute)


def unmute(context: RequestContext) -> Response:
    """`DELETE /users/{username}/mute`: idempotent; oneself is a 400."""
    return _change(context, actions.unmute)


def _list(context: RequestContext, kind: Kind) -> Response:
    page_request = parse_page_request(context.request.args)
    viewer_id = context.signed_in.user_id
    rows = context.runtime.db.read(
        lambda executor: queries.user_page(
            executor, kind, viewer_id, page_request.cursor, page_request.limit + 1
        )
    )
    page = build_page(rows, page_request.limit, lambda row: (row["listed_at"], row["id"]))
    users = [to_user(row, viewer_id) for row in page.items]
    return json_response(UserPage(items=users, next_cursor=page.next_cursor))


def list_blocks(context: RequestContext) -> Response:
    """`GET /users/me/blocks`: the accounts the caller blocked, newest block first."""
    return _list(context, "blocks")


def list_mutes(context: RequestContext) -> Response:
    """`GET /users/me/mutes`: the accounts the caller muted, newest mute first."""
    return _list(context, "mutes")
