"""HTTP handlers of the `follows` function (docs/api.md §12)."""

from __future__ import annotations

from typing import Any

from werkzeug import Response

from phasma.db.pool import Executor
from phasma.follows import actions, queries
from phasma.follows.models import UserPage
from phasma.follows.queries import Direction
from phasma.http.context import RequestContext
from phasma.http.errors import BadRequest, NotFound
from phasma.http.responses import json_response, no_content
from phasma.pagination import build_page, parse_page_request
from phasma.users.queries import to_user


def _target_username(context: RequestContext) -> str:
    """The lowercased `{username}` of a follow route; a name no account can have is a 400."""
    username = context.username_param(invalid=BadRequest)
    return username


def follow(context: RequestContext) -> Response:
    """`POST /users/{username}/follow`: idempotent; following oneself is a 400."""
    username = _target_username(context)
    actions.follow(context.runtime.db, context.signed_in, username)
    return no_content()


def unfollow(context: RequestContext) -> Response:
    """`DELETE /users/{username}/follow`: idempotent; unfollowing oneself is a no-op."""
    username = _target_username(context)
    actions.unfollow(context.runtime.db, context.signed_in, username)
    return no_content()


def _list(context: RequestContext, direction: Direction) -> Response:
    # The lists only lowercase the name: one no account can have is simply unknown.
    username = context.params["username"].lower()
    page_request = parse_page_request(context.request.args)
    # Anonymous visitors may read the lists (docs/api.md §F): `isFollowing` is then false.
    viewer_id = context.viewer_id

    def read(executor: Executor) -> list[dict[str, Any]] | None:
        user = queries.user_key(executor, username)
        if user is None:
            return None
        return queries.follow_page(
            executor, direction, user["id"], viewer_id, page_request.cursor, page_request.limit + 1
        )

    rows = context.runtime.db.read(read)
    if rows is None:
        raise NotFound()
    page = build_page(rows, page_request.limit, lambda row: (row["followed_at"], row["id"]))
    users = [to_user(row, viewer_id) for row in page.items]
    return json_response(UserPage(items=users, next_cursor=page.next_cursor))


def followers(context: RequestContext) -> Response:
    """`GET /users/{username}/followers`: who follows the user, newest follow first."""
    return _list(context, "followers")


def following(context: RequestContext) -> Response:
    """`GET /users/{username}/following`: whom the user follows, newest follow first."""
    return _list(context, "following")
