"""HTTP handlers of the `search` function (docs/api.md §13)."""

from __future__ import annotations

from werkzeug import Response

from phasma.http.context import RequestContext
from phasma.http.responses import json_response, no_content
from phasma.search import actions, queries, service
from phasma.search.engines import backend_of
from phasma.search.models import HashtagHit, RecentSearch, RecordRecentBody, UserHit
from phasma.search.query import parse_query, parse_search_request


def search(context: RequestContext) -> Response:
    """`GET /search`: one page of users, posts, hashtags or all three blended."""
    request = parse_search_request(context.request.args)
    runtime = context.runtime
    page = service.search(backend_of(runtime), runtime.db, request, context.signed_in.user_id)
    return json_response(page)


def search_users(context: RequestContext) -> Response:
    """`GET /users/search`: up to 10 users as a bare array (typeahead)."""
    users = service.typeahead_users(
        backend_of(context.runtime), parse_query(context.request.args), context.signed_in.user_id
    )
    return json_response([user.model_dump(mode="json", by_alias=True) for user in users])


def search_hashtags(context: RequestContext) -> Response:
    """`GET /hashtags/search`: up to 10 hashtags as a bare array (typeahead)."""
    hashtags = service.typeahead_hashtags(
        backend_of(context.runtime), parse_query(context.request.args)
    )
    return json_response([hashtag.model_dump(mode="json", by_alias=True) for hashtag in hashtags])


def list_recent(context: RequestContext) -> Response:
    """`GET /search/recent`: the caller's newest entries, resolved from current rows."""
    user_id = context.signed_in.user_id
    rows = context.runtime.db.read(lambda executor: queries.recent_searches(executor, user_id))
    items = [item for item in map(_recent_item, rows) if item is not None]
    return json_response([item.model_dump(mode="json", by_alias=True) for item in items])


def record_recent(context: RequestContext) -> Response:
    """`POST /search/recent`: add or bump an entry; the list keeps the newest 10."""
    entity_type, reference = context.body(RecordRecentBody).validated()
    actions.record_recent(context.runtime.db, context.signed_in.user_id, entity_type, reference)
    return no_content()


def delete_recent(context: RequestContext) -> Response:
    """`DELETE /search/recent/{id}`: delete one of the caller's entries."""
    public_id = context.uuid_param("id")
    actions.delete_recent(context.runtime.db, context.signed_in.user_id, public_id)
    return no_content()


def clear_recent(context: RequestContext) -> Response:
    """`DELETE /search/recent`: delete all of the caller's entries."""
    actions.clear_recent(context.runtime.db, context.signed_in.user_id)
    return no_content()


def _recent_item(row: queries.RecentRow) -> RecentSearch | None:
    """The API item of a listed row; None when what it refers to no longer resolves."""
    entity_type = row["entity_type"]
    if entity_type == "posts":
        return RecentSearch(id=row["public_id"], type="posts", item=row["reference"])
    if entity_type == "users":
        # A joined row has both columns (NOT NULL); a gone one has neither.
        if row["username"] is None or row["name"] is None:
            return None
        user = UserHit(username=row["username"], name=row["name"], avatar=row["avatar"])
        return RecentSearch(id=row["public_id"], type="users", item=user)
    if row["hashtag_name"] is None or row["post_count"] is None:
        return None
    hashtag = HashtagHit(name=row["hashtag_name"], post_count=row["post_count"])
    return RecentSearch(id=row["public_id"], type="hashtags", item=hashtag)
