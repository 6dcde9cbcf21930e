"""HTTP handlers of the `notifications` function (docs/api.md §16 and docs/api.md additions)."""

from __future__ import annotations

from werkzeug import Response

from phasma.http.context import RequestContext
from phasma.http.responses import json_response, no_content
from phasma.notifications import actions, queries, stream
from phasma.notifications.models import UnreadCount, notification_json
from phasma.pagination import parse_page_request


def list_notifications(context: RequestContext) -> Response:
    """`GET /notifications`: a cursor page of the caller's notifications, newest first."""
    page_request = parse_page_request(context.request.args)
    user_id = context.signed_in.user_id
    page = context.runtime.db.read(
        lambda executor: queries.notification_page(executor, user_id, page_request)
    )
    return json_response(page.to_json(notification_json))


def unread_count(context: RequestContext) -> Response:
    """`GET /notifications/unread-count`: `{"count": n}` of the caller's unread ones."""
    user_id = context.signed_in.user_id
    count = context.runtime.db.read(lambda executor: queries.unread_count(executor, user_id))
    return json_response(UnreadCount(count=count))


def mark_read(context: RequestContext) -> Response:
    """`PUT /notifications/{id}/read`: 400 not a UUID, 404 not the caller's, else 204."""
    public_id = context.uuid_param("id")
    actions.mark_read(context.runtime.db, context.signed_in, public_id)
    return no_content()


def mark_all_read(context: RequestContext) -> Response:
    """`PUT /notifications/read`: every notification of the caller read; 204."""
    actions.mark_all_read(context.runtime.db, context.signed_in)
    return no_content()


def notification_stream(context: RequestContext) -> Response:
    """`GET /notifications/stream`: Server-Sent Events of new notifications and the count."""
    return stream.open_stream(context)
