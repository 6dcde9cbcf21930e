"""Notifications, marking them read, and the navbar dot's live stream (docs/frontend.md §7.7)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from functools import partial
from typing import Any

from werkzeug import Response
from werkzeug.wsgi import ClosingIterator

from phasma.frontend.backend import BackendResponse, StreamedResponse, api_path
from phasma.frontend.context import Context, PageError, SignInRequired
from phasma.frontend.messages import status_message
from phasma.frontend.pages import UUID_SHAPE, cursor_param, page_of, username_param

MARK_READ_MAX_IDS = 100
# The first page of pending follow requests shown above the notifications.
FOLLOW_REQUESTS_SHOWN = 20
# One relayed stream holds a server thread, so it ends before the platform's request
# timeout (60 s) and the browser's EventSource reconnects on its own.
STREAM_SECONDS = 50
# This process's relay slots are all taken: most relays end within 50 s.
SLOTS_RETRY_AFTER_SECONDS = 5


def notifications(context: Context) -> Response:
    """`GET /notifications`: the caller's notifications, newest first, unread ones marked,
    likes of one post grouped into one row (`group_likes`).

    Showing them marks nothing read: the page's script does when the visitor leaves it,
    and "Mark all as read" does at once (with or without JavaScript)."""
    requests_call: Future[BackendResponse] | None = None
    if not context.is_fragment:
        # Pending follow requests (docs/api.md §E) sit above the list, read side by side.
        requests_call = context.api.backend.submit(
            lambda: context.api.get("/users/me/follow-requests", limit=str(FOLLOW_REQUESTS_SHOWN))
        )
    response = context.expect(context.api.get("/notifications", cursor=cursor_param(context)))
    items, next_cursor = page_of(response)
    rows = group_likes(items)
    if requests_call is None:
        return context.render_fragment(
            "fragments/notifications.html", next_cursor, notifications=rows
        )
    follow_requests, more_requests = page_of(context.expect(requests_call.result()))
    return context.render(
        "notifications.html",
        title="Notifications",
        notifications=rows,
        follow_requests=follow_requests,
        more_requests=more_requests is not None,
        has_unread=any(not item.get("read") for item in items),
        next_cursor=next_cursor,
        more_url="/notifications",
    )


def accept_request(context: Context) -> Response:
    """`POST /notifications/requests/{username}/accept`: the requester now follows."""
    return _answer_request(context, "POST")


def decline_request(context: Context) -> Response:
    """`POST /notifications/requests/{username}/decline`: the request is gone."""
    return _answer_request(context, "DELETE")


def _answer_request(context: Context, method: str) -> Response:
    username = username_param(context)
    path = api_path("/users/me/follow-requests/{}", username)
    response = context.api.call(method, path)
    # A request answered already (another tab) is no error: the list is reloaded.
    if response.ok or response.status == 404:
        return context.done("/notifications")
    if response.status == 401:
        raise SignInRequired()
    if context.wants_json:
        return context.failed(status_message(response.status), response.status)
    raise PageError.of(response)


def group_likes(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per notification, except that the likes of one post on this page share
    the row of the newest ("bob and 3 others liked your post").

    Grouping happens over the fetched page, so the API's cursor pages stay exactly
    its own: nothing is skipped or shown twice, and likes of one post that straddle a
    page boundary show as one row on each page. A row carries every id it stands for
    (`ids`, for marking them read), `others` (how many more people), `second` (the
    next actor, named when there is exactly one more) and `read` (all of them read)."""
    rows: list[dict[str, Any]] = []
    likes_of: dict[str, dict[str, Any]] = {}
    for item in items:
        post_id = item.get("postId")
        row = likes_of.get(post_id) if item.get("type") == "like" and post_id else None
        if row is not None:
            row["ids"].append(item.get("id"))
            row["others"] += 1
            row["read"] = row["read"] and bool(item.get("read"))
            if row["second"] is None:
                row["second"] = item
            continue
        row = {**item, "ids": [item.get("id")], "others": 0, "second": None}
        row["read"] = bool(item.get("read"))
        if item.get("type") == "like" and post_id:
            row["group"] = f"like:{post_id}"
            likes_of[post_id] = row
        rows.append(row)
    return rows


def mark_read(context: Context) -> Response:
    """`POST /notifications/read`: `{ids}` or `{all: true}` (JSON), or the "Mark all as
    read" form (`all=1`, no JS).

    `all` is one `PUT /notifications/read`. Ids (at most 100) are one `PUT
    /notifications/{id}/read` each, and a single failure is ignored. The JSON answer
    carries the new unread count for the navbar dot."""
    every, ids = _submitted(context)
    calls: list[Callable[[], BackendResponse]]
    if every:
        calls = [lambda: context.api.call("PUT", "/notifications/read")]
    else:
        calls = [
            partial(context.api.call, "PUT", api_path("/notifications/{}/read", id_)) for id_ in ids
        ]
    results = context.api.gather(*calls) if calls else []
    if any(result.status == 401 for result in results):
        raise SignInRequired()
    if every and not results[0].ok:
        if context.wants_json:
            return context.failed(status_message(results[0].status), results[0].status)
        raise PageError(results[0].status)
    if not context.wants_json:
        return context.redirect(context.next_path("/notifications"))
    return context.json({"ok": True, "unread": _unread_count(context)})


def stream(context: Context) -> Response:
    """`GET /notifications/stream`: the backend's event stream, relayed to the browser.

    A relay holds a request thread, so it needs one of the process's stream slots
    (full → 503); the backend's per-user cap (429) is passed on with its Retry-After."""
    if not context.has_session:
        raise SignInRequired()
    slots = context.stream_slots
    if not slots.acquire():
        return _refused(503, str(SLOTS_RETRY_AFTER_SECONDS))
    try:
        response = _open_relay(context)
    except BaseException:
        slots.release()
        raise
    if response.status_code != 200:
        slots.release()
        return response
    # The server closes the body when the relay ends or the browser goes, started or not.
    # werkzeug types ClosingIterator's iterable as bytes only; it wraps any iterable.
    response.response = ClosingIterator(response.response, slots.release)  # type: ignore[arg-type]
    return response


def _open_relay(context: Context) -> Response:
    headers = {"Accept": "text/event-stream"}
    last_event_id = context.request.headers.get("Last-Event-ID")
    if last_event_id:
        headers["Last-Event-ID"] = last_event_id[:64]  # resume after a reconnect
    upstream = context.api.stream(
        "GET", "/notifications/stream", headers=headers, read_timeout=STREAM_SECONDS
    )
    if upstream.status == 401:
        upstream.close()
        raise SignInRequired()
    if upstream.status in (429, 503):
        upstream.close()
        return _refused(upstream.status, upstream.headers.get("Retry-After"))
    if upstream.status != 200:
        upstream.close()
        # 204 tells EventSource not to reconnect: there is no stream to follow.
        return Response(status=204)
    response = Response(_relay(upstream), content_type="text/event-stream; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"
    return response


def _refused(status: int, retry_after: str | None) -> Response:
    """Too many streams (the user's 429, a full process's 503); EventSource stops here."""
    response = Response(status=status)
    if retry_after:
        response.headers["Retry-After"] = retry_after
    return response


def _relay(upstream: StreamedResponse) -> Iterator[bytes]:
    deadline = time.monotonic() + STREAM_SECONDS
    chunks = upstream.chunks(size=1)
    pending = bytearray()
    try:
        for chunk in chunks:
            pending += chunk
            # Events end with a blank line; forward whole events so none arrives torn.
            if pending.endswith(b"\n\n"):
                yield bytes(pending)
                pending.clear()
            if time.monotonic() >= deadline:
                break
    finally:
        upstream.close()


def _submitted(context: Context) -> tuple[bool, list[str]]:
    """Whether every notification is meant, else the well-formed ids (at most 100)."""
    if context.request.mimetype == "application/json":
        body: Any = context.json_body()
        if not isinstance(body, dict):
            raise PageError(400)
        if body.get("all") is True:
            return True, []
        raw = body.get("ids")
        if not isinstance(raw, list):
            raise PageError(400)
    else:
        form = context.form()
        if form.get("all") == "1":
            return True, []
        raw = form.getlist("ids")
    ids = [value for value in raw if isinstance(value, str)][:MARK_READ_MAX_IDS]
    return False, [value.lower() for value in ids if UUID_SHAPE.fullmatch(value)]


def _unread_count(context: Context) -> int:
    response: BackendResponse = context.api.get("/notifications/unread-count")
    body = response.json() if response.ok else None
    count = body.get("count") if isinstance(body, dict) else None
    return count if isinstance(count, int) else 0
