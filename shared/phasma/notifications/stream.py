"""`GET /notifications/stream`: Server-Sent Events for the signed-in user (docs/api.md).

The stream sends the unread count on connect, then each new notification
(`event: notification`, `id:` its public id) and the count whenever it changes
(`event: unread-count`), with a comment line as heartbeat every 15 s of silence.

Where "new" comes from: each open stream polls PostgreSQL once a second, two
index reads on the recipient's rows (their newest notifications, the partial
unread index). LISTEN/NOTIFY cannot pass the transaction pooler (docs/operations.md
§5), and a Redis channel would need the worker to reach the cache and a cache
connection per open stream, while still losing messages sent during a
reconnect. Polling also sees every change of the count: a read in another tab,
a notification removed by an unlike.

A notification's `created` is the start of the transaction that inserted it, so
it may commit after a poll has already looked past that time. Each poll
therefore looks back `LOOKBACK_SECONDS` and skips what it has sent.

A stream ends before the function's request timeout (Knative would cut it); the
`retry:` hint makes the browser reconnect within a second, sending the last
`id:` it saw as `Last-Event-ID`, and the new stream resumes after that
notification (up to `RESUME_WINDOW_SECONDS` back). Each open stream holds one
request thread of the function for its lifetime, so two bounds admit it: a slot of
the process (`Runtime.stream_slots`, three quarters of its threads; full → 503) and
a lease of the user (`phasma.streams`, at most 5 across replicas; the 6th → 429),
renewed while the stream runs. Both are given back when the server closes the
response, whether the stream ended, the client left or it never started.
"""

from __future__ import annotations

import contextvars
import json
import logging
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from uuid import UUID

from werkzeug import Response
from werkzeug.wsgi import ClosingIterator

from phasma.db.pool import Database, Executor
from phasma.failures import DependencyUnavailable
from phasma.http.context import RequestContext
from phasma.http.errors import ServiceUnavailable
from phasma.notifications import queries
from phasma.notifications.models import Notification, notification_json
from phasma.streams import RENEW_SECONDS, Lease, unchecked_lease

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
LOOKBACK_SECONDS = 10.0
RESUME_WINDOW_SECONDS = 60.0
RECONNECT_MILLISECONDS = 1000
# Ends the stream this long before the function's request timeout.
TIMEOUT_MARGIN_SECONDS = 5.0
BATCH = 50
# A process whose stream slots are all taken: most streams end within 30 s.
SLOTS_RETRY_AFTER_SECONDS = 5
CONTENT_TYPE = "text/event-stream"


def count_event(count: int) -> str:
    return f"event: unread-count\ndata: {json.dumps({'count': count})}\n\n"


def notification_event(notification: Notification) -> str:
    data = json.dumps(notification_json(notification), separators=(",", ":"))
    return f"id: {notification.id}\nevent: notification\ndata: {data}\n\n"


class NotificationStream:
    """What one open stream has sent; `poll` reads what is new, `advance` records it."""

    def __init__(self, user_id: int, since: datetime, count: int) -> None:
        self.user_id = user_id
        # The earliest `created` any poll looks at, and the database time of the last
        # poll (before the first: `since`, so the first poll starts exactly there).
        self.since = since
        self.clock = since
        self.count = count
        self.sent: dict[UUID, datetime] = {}

    def floor(self, clock: datetime) -> datetime:
        return max(self.since, clock - timedelta(seconds=LOOKBACK_SECONDS))

    def poll(self, executor: Executor) -> tuple[datetime, int, list[Notification]]:
        """The database time, the unread count and the unsent notifications, oldest first.

        Reads only, so the pool may retry it.
        """
        clock, count = queries.stream_clock(executor, self.user_id)
        floor = self.floor(self.clock)
        sent = list(self.sent)
        fresh: list[Notification] = []
        while True:
            batch = queries.created_since(executor, self.user_id, floor, sent, BATCH)
            fresh += batch
            sent += [notification.id for notification in batch]
            if len(batch) < BATCH:
                return clock, count, fresh

    def advance(self, clock: datetime, count: int, fresh: list[Notification]) -> list[str]:
        """Record a poll's result; the events it makes due."""
        events = [notification_event(notification) for notification in fresh]
        self.sent.update((notification.id, notification.created) for notification in fresh)
        if count != self.count:
            self.count = count
            events.append(count_event(count))
        self.clock = clock
        # Nothing older than the next poll's floor can be returned again.
        floor = self.floor(clock)
        self.sent = {key: created for key, created in self.sent.items() if created >= floor}
        return events


def _last_event_id(raw: str | None) -> UUID | None:
    """The `Last-Event-ID` a reconnecting browser sends: our own notification id, or None."""
    if not raw:
        return None
    try:
        return UUID(raw.strip())
    except ValueError:
        return None


def _start(
    executor: Executor, user_id: int, resume_after: UUID | None
) -> tuple[NotificationStream, bool]:
    """A stream starting now, or right after `resume_after` when that is the user's
    notification (at most `RESUME_WINDOW_SECONDS` back); and whether it resumes."""
    clock, count = queries.stream_clock(executor, user_id)
    if resume_after is not None:
        resumed = queries.created_time_of(executor, user_id, resume_after)
        if resumed is not None:
            window_start = clock - timedelta(seconds=RESUME_WINDOW_SECONDS)
            stream = NotificationStream(user_id, max(resumed, window_start), count)
            stream.sent[resume_after] = resumed
            return stream, True
    return NotificationStream(user_id, clock, count), False


def open_stream(context: RequestContext) -> Response:
    """Take a slot of the process and a lease of the user, read the starting point (a
    database outage is still a 503 here), then stream."""
    runtime = context.runtime
    if not runtime.stream_slots.acquire():
        raise ServiceUnavailable(headers={"Retry-After": str(SLOTS_RETRY_AFTER_SECONDS)})
    lease: Lease | None = None
    try:
        viewer = context.signed_in
        leases = runtime.stream_leases
        lease = leases.open(viewer.user_public_id) if leases is not None else unchecked_lease()
        resume_after = _last_event_id(context.request.headers.get("Last-Event-ID"))
        user_id = viewer.user_id
        database = runtime.db
        stream, resuming = database.read(lambda executor: _start(executor, user_id, resume_after))
    except BaseException:
        if lease is not None:
            lease.release()
        runtime.stream_slots.release()
        raise
    held = lease

    def finished() -> None:
        held.release()
        runtime.stream_slots.release()

    lifetime = runtime.function.scaling.timeout_seconds - TIMEOUT_MARGIN_SECONDS
    events = _in_request_context(_events(database, stream, lifetime, resuming, held))
    # The server closes the body when the stream ends or the client goes, started or not.
    # werkzeug types ClosingIterator's iterable as bytes only; it wraps any iterable, and
    # Response encodes the text it yields.
    body = ClosingIterator(events, finished)  # type: ignore[arg-type]
    response = Response(body, content_type=CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response


def _in_request_context(iterator: Iterator[str]) -> Iterator[str]:
    """`iterator` stepped in the handler's context: the body runs after the pipeline
    returned, and its Notifications sign private images (`phasma.media_urls`) as the
    list does."""
    context = contextvars.copy_context()
    while True:
        try:
            yield context.run(next, iterator)
        except StopIteration:
            return


def _events(
    database: Database, stream: NotificationStream, lifetime: float, resuming: bool, lease: Lease
) -> Iterator[str]:
    deadline = time.monotonic() + lifetime
    renewed = time.monotonic()
    yield f"retry: {RECONNECT_MILLISECONDS}\n\n"
    yield count_event(stream.count)
    last_write = time.monotonic()
    # A resumed stream catches up at once; a fresh one waits for something new.
    if not resuming:
        time.sleep(POLL_SECONDS)
    while time.monotonic() < deadline:
        if time.monotonic() - renewed >= RENEW_SECONDS:
            if not lease.renew():
                log.warning("notification stream ended: its lease lapsed")
                return  # the browser reconnects and asks for a new lease
            renewed = time.monotonic()
        try:
            events = stream.advance(*database.read(stream.poll))
        except DependencyUnavailable as error:
            # The browser reconnects; a database still down answers that with a 503.
            log.warning("notification stream ended: %s", error)
            return
        if events:
            yield "".join(events)
            last_write = time.monotonic()
        elif time.monotonic() - last_write >= HEARTBEAT_SECONDS:
            yield ": heartbeat\n\n"
            last_write = time.monotonic()
        time.sleep(POLL_SECONDS)
