"""HTTP handlers of the `follows` function (docs/api.md §12)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from werkzeug import Response

from phasma.accounts import UserRow, to_user
from phasma.audience import Audience, open_account_id
from phasma.audience import audience as audience_of
from phasma.auth.sessions import Viewer
from phasma.db.pool import Database, Executor
from phasma.follows import actions, queries
from phasma.follows.models import UserPage
from phasma.follows.queries import Direction, SafetyList
from phasma.http.context import RequestContext
from phasma.http.errors import BadRequest, NotFound
from phasma.http.responses import json_response, no_content
from phasma.pagination import PageRequest, build_page, parse_page_request


def _target_username(context: RequestContext) -> str:
    """The lowercased `{username}` of a follow route; a name no account can have is a 400."""
    username = context.username_param(invalid=BadRequest)
    return username


Row = TypeVar("Row", bound=UserRow)


def _user_page(
    rows: Sequence[Row],
    page_request: PageRequest,
    viewer_id: int | None,
    sort_time: Callable[[Row], datetime],
) -> Response:
    """A cursor page of Users from rows read one past the limit, keyed by the row's
    `sort_time` (when it was followed, requested, blocked or muted) and id."""
    page = build_page(rows, page_request.limit, lambda row: (sort_time(row), row["id"]))
    users = [to_user(row, viewer_id) for row in page.items]
    return json_response(UserPage(items=users, next_cursor=page.next_cursor))


def follow(context: RequestContext) -> Response:
    """`POST /users/{username}/follow`: idempotent; following oneself is a 400. A private
    account the viewer does not follow gets a request instead: `202 {"status": "requested"}`."""
    username = _target_username(context)
    outcome = actions.follow(context.runtime.db, context.signed_in, username)
    if outcome == "requested":
        return json_response({"status": "requested"}, 202)
    return no_content()


def unfollow(context: RequestContext) -> Response:
    """`DELETE /users/{username}/follow`: idempotent; also withdraws a pending request;
    unfollowing oneself is a no-op."""
    username = _target_username(context)
    actions.unfollow(context.runtime.db, context.signed_in, username)
    return no_content()


def _list(context: RequestContext, direction: Direction) -> Response:
    # The lists only lowercase the name: one no account can have is simply unknown.
    username = context.params["username"].lower()
    page_request = parse_page_request(context.request.args)
    # Anonymous visitors may read the lists (docs/api.md §F): `isFollowing` is then false.
    viewer_id = context.viewer_id

    def read(executor: Executor) -> tuple[Audience | None, list[queries.FollowRow]]:
        audience = audience_of(executor, username, viewer_id)
        if audience is None or not audience.shows_posts:
            return audience, []
        rows = queries.follow_page(
            executor,
            direction,
            audience.user_id,
            viewer_id,
            page_request.cursor,
            page_request.limit + 1,
        )
        return audience, rows

    audience, rows = context.runtime.db.read(read)
    open_account_id(audience)  # 404 gone or blocked, 403 private (docs/api.md §D, §E)
    return _user_page(rows, page_request, viewer_id, lambda row: row["followed_at"])


def followers(context: RequestContext) -> Response:
    """`GET /users/{username}/followers`: who follows the user, newest follow first."""
    return _list(context, "followers")


def following(context: RequestContext) -> Response:
    """`GET /users/{username}/following`: whom the user follows, newest follow first."""
    return _list(context, "following")


def follow_requests(context: RequestContext) -> Response:
    """`GET /users/me/follow-requests`: who asks to follow the viewer, newest first."""
    viewer = context.signed_in
    page_request = parse_page_request(context.request.args)
    rows = context.runtime.db.read(
        lambda executor: queries.request_page(
            executor, viewer.user_id, page_request.cursor, page_request.limit + 1
        )
    )
    return _user_page(rows, page_request, viewer.user_id, lambda row: row["requested_at"])


def accept_request(context: RequestContext) -> Response:
    """`POST /users/me/follow-requests/{username}`: the requester now follows; no request: 404."""
    username = context.username_param(invalid=NotFound)
    actions.accept_request(context.runtime.db, context.signed_in, username)
    return no_content()


def decline_request(context: RequestContext) -> Response:
    """`DELETE /users/me/follow-requests/{username}`: the request is gone; no request: 404."""
    username = context.username_param(invalid=NotFound)
    actions.decline_request(context.runtime.db, context.signed_in, username)
    return no_content()


# -- blocks and mutes (docs/api.md §D) -------------------------------------------------

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


def _safety_list(context: RequestContext, kind: SafetyList) -> Response:
    page_request = parse_page_request(context.request.args)
    viewer_id = context.signed_in.user_id
    rows = context.runtime.db.read(
        lambda executor: queries.user_page(
            executor, kind, viewer_id, page_request.cursor, page_request.limit + 1
        )
    )
    return _user_page(rows, page_request, viewer_id, lambda row: row["listed_at"])


def list_blocks(context: RequestContext) -> Response:
    """`GET /users/me/blocks`: the accounts the caller blocked, newest block first."""
    return _safety_list(context, "blocks")


def list_mutes(context: RequestContext) -> Response:
    """`GET /users/me/mutes`: the accounts the caller muted, newest mute first."""
    return _safety_list(context, "mutes")
