"""`notifications` function over HTTP against the real stack (docs/api.md §8, §9.5, §16; the
additions `PUT /notifications/read` and `GET /notifications/stream` in docs/api.md).

Notifications are made by the real `notifications-worker` fed the real events of
likes, comments and follows, or inserted with SQL where a test needs many.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
import requests

from phasma.devstack.processes import REPOSITORY_ROOT, launch, wait_until_healthy
from phasma.http.errors import TooManyRequests
from phasma.notifications import stream
from phasma.registry import get_function
from phasma.streams import Lease, StreamLeases
from tests.api.conftest import (
    ROOMY_LIMITS,
    Account,
    Api,
    ApiStack,
    Bucket,
    Database,
    direct,
)
from tests.api.event_delivery import Worker, outbox_rows
from tests.api.posting import (
    BAD_PAGINATION,
    assert_error,
    assert_no_content,
    new_post,
    outbox_position,
    walk,
)
from tests.api.server_sent_events import open_stream

NOTIFICATION_FIELDS = {
    "id", "actorUsername", "actorName", "actorAvatar", "type", "entityId", "read", "created",
    "postId", "postFilename", "postMediaToken", "excerpt",
}  # fmt: skip
WRITES = ("notifications", "outbox")


@pytest.fixture
def notifications_worker(event_function) -> Worker:
    return Worker(event_function("notifications-worker"))


def public_user_id(database: Database, username: str) -> str:
    return str(database.value("SELECT public_id::text FROM users WHERE username = :u", u=username))


def sql_notifications(
    database: Database, recipient: str, actor: str, count: int, created: datetime
) -> list[str]:
    """`count` follow-type rows from `actor` to `recipient` at `created`; ids, oldest first."""
    tag = secrets.token_hex(6)
    rows = database.rows(
        """
        INSERT INTO notifications (external_id, user_id, actor_id, type, entity_id, created)
        SELECT 'test-' || :tag || '-' || n, recipient.id, actor.id, 'like',
               gen_random_uuid()::text, :created
        FROM users recipient, users actor, generate_series(1, :count) AS n
        WHERE recipient.username = :recipient AND actor.username = :actor
        RETURNING id, public_id
        """,
        tag=tag,
        recipient=recipient,
        actor=actor,
        count=count,
        created=created,
    )
    return [str(public_id) for _, public_id in sorted(rows)]


def read_flags(database: Database, username: str) -> list[bool]:
    rows = database.rows(
        """
        SELECT n.read FROM notifications n JOIN users u ON u.id = n.user_id
        WHERE u.username = :u ORDER BY n.id
        """,
        u=username,
    )
    return [row[0] for row in rows]


def unread(client: Api) -> int:
    response = client.get("/notifications/unread-count")
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"count"}
    count: int = response.json()["count"]
    return count


@pytest.fixture
def liked_post(
    make_account, database: Database, bucket: Bucket, notifications_worker: Worker
) -> tuple[Account, Account, str]:
    """A post liked by someone, its notification delivered: (author, liker, post id)."""
    author, liker = make_account(), make_account()
    post_id = new_post(author, database, bucket)
    position = outbox_position(database)
    assert_no_content(liker.client.post(f"/posts/{post_id}/likes"))
    notifications_worker.deliver_all(outbox_rows(database, position))
    return author, liker, post_id


# -- GET /notifications -------------------------------------------------------------------


def test_notifications_show_like_comment_and_follow_with_the_actors_current_profile(
    make_account, database: Database, bucket: Bucket, notifications_worker: Worker
) -> None:
    author, fan = make_account(), make_account()
    post_id = new_post(author, database, bucket)
    position = outbox_position(database)
    assert_no_content(fan.client.post(f"/posts/{post_id}/likes"))
    comment = fan.client.post(f"/posts/{post_id}/comments", json={"body": "Nice!"}).json()
    assert_no_content(fan.client.post(f"/users/{author.username}/follow"))
    notifications_worker.deliver_all(outbox_rows(database, position))
    renamed = {"name": "Renamed Fan", "username": fan.username, "email": fan.email}
    assert_no_content(fan.client.put("/users/me", json=renamed))

    response = author.client.get("/notifications")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["nextCursor"] is None
    items = body["items"]
    assert all(set(item) == NOTIFICATION_FIELDS for item in items)
    assert [(item["type"], item["entityId"]) for item in items] == [
        ("follow", public_user_id(database, fan.username)),
        ("comment", comment["id"]),
        ("like", post_id),
    ]
    for item in items:
        assert (item["actorUsername"], item["actorName"], item["actorAvatar"]) == (
            fan.username,
            "Renamed Fan",
            None,
        )
        assert item["read"] is False
        assert item["created"].endswith("Z")
        uuid.UUID(item["id"])
    assert fan.client.get("/notifications").json() == {"items": [], "nextCursor": None}


def test_notifications_name_their_post_its_thumbnail_and_quote_the_text(
    make_account, database: Database, bucket: Bucket, notifications_worker: Worker
) -> None:
    author, fan = make_account(), make_account()
    position = outbox_position(database)
    post_id = new_post(author, database, bucket, description=f"sunset with @{fan.username}")
    filename = database.value("SELECT filename FROM posts WHERE public_id = :id", id=post_id)
    assert_no_content(fan.client.post(f"/posts/{post_id}/likes"))
    long_body = f"@{author.username} " + "word " * 60
    comment = fan.client.post(f"/posts/{post_id}/comments", json={"body": long_body.strip()})
    assert comment.status_code == 201, comment.text
    comment_id = comment.json()["id"]
    assert_no_content(fan.client.post(f"/users/{author.username}/follow"))
    notifications_worker.deliver_all(outbox_rows(database, position))

    about = [
        (item["type"], item["entityId"], item["postId"], item["postFilename"], item["excerpt"])
        for item in author.client.get("/notifications").json()["items"]
    ]
    quote = (f"@{author.username} " + "word " * 60)[:99]
    quote = quote.rstrip() + "…"
    assert len(quote) <= 100
    assert about == [
        ("follow", public_user_id(database, fan.username), None, None, None),
        ("mention", comment_id, post_id, filename, quote),
        ("comment", comment_id, post_id, filename, quote),
        ("like", post_id, post_id, filename, None),
    ]
    # A mention in a caption quotes the caption and is about that post.
    [mention] = fan.client.get("/notifications").json()["items"]
    assert mention["type"] == "mention" and mention["actorUsername"] == author.username
    assert (mention["entityId"], mention["postId"], mention["postFilename"]) == (
        post_id,
        post_id,
        filename,
    )
    assert mention["excerpt"] == f"sunset with @{fan.username}"


def test_notification_pages_are_newest_first_and_stable_on_ties(
    make_account, database: Database
) -> None:
    recipient, actor = make_account(), make_account()
    moment = datetime.now(UTC) - timedelta(minutes=10)
    tied = sql_notifications(database, recipient.username, actor.username, 5, moment)
    older = sql_notifications(
        database, recipient.username, actor.username, 2, moment - timedelta(days=1)
    )
    expected = tied[::-1] + older[::-1]
    for limit in (1, 2, 3, 7, 50):
        pages = walk(recipient.client, "/notifications", limit)
        assert [item["id"] for page in pages for item in page] == expected


@pytest.mark.parametrize("params", BAD_PAGINATION)
def test_bad_pagination_is_a_400(
    account: Account, database: Database, params: dict[str, str]
) -> None:
    before = database.counts(*WRITES)
    assert_error(account.client.get("/notifications", params=params), 400)
    assert database.counts(*WRITES) == before


# -- unread count and read state -------------------------------------------------------


def test_marking_one_read_is_owner_only_and_repeatable(
    liked_post: tuple[Account, Account, str], database: Database
) -> None:
    author, liker, _ = liked_post
    notification_id = author.client.get("/notifications").json()["items"][0]["id"]
    assert unread(author.client) == 1

    # Someone else's id is indistinguishable from a missing one and changes nothing.
    assert_error(liker.client.put(f"/notifications/{notification_id}/read"), 404)
    assert_error(liker.client.put(f"/notifications/{uuid.uuid4()}/read"), 404)
    assert read_flags(database, author.username) == [False]

    assert_no_content(author.client.put(f"/notifications/{notification_id.upper()}/read"))
    assert read_flags(database, author.username) == [True]
    assert unread(author.client) == 0
    assert author.client.get("/notifications").json()["items"][0]["read"] is True
    # Again: still 204; a body and content type are ignored.
    response = author.client.put(
        f"/notifications/{notification_id}/read",
        data=b"not json",
        headers={"Content-Type": "text/plain"},
    )
    assert_no_content(response)


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "123", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5"])
def test_marking_read_with_a_malformed_id_is_a_400(
    liked_post: tuple[Account, Account, str], database: Database, bad_id: str
) -> None:
    author, _, _ = liked_post
    before = (database.counts(*WRITES), read_flags(database, author.username))
    assert_error(author.client.put(f"/notifications/{bad_id}/read"), 400)
    assert (database.counts(*WRITES), read_flags(database, author.username)) == before


def test_mark_all_read_touches_only_the_callers_notifications(
    make_account, database: Database
) -> None:
    recipient, other, actor = make_account(), make_account(), make_account()
    moment = datetime.now(UTC)
    sql_notifications(database, recipient.username, actor.username, 3, moment)
    sql_notifications(database, other.username, actor.username, 2, moment)
    assert (unread(recipient.client), unread(other.client)) == (3, 2)
    assert_no_content(recipient.client.put("/notifications/read"))
    assert (unread(recipient.client), unread(other.client)) == (0, 2)
    assert read_flags(database, other.username) == [False, False]
    assert_no_content(recipient.client.put("/notifications/read", json={"ignored": True}))
    assert_no_content(actor.client.put("/notifications/read"))  # none at all: still 204


def test_mark_all_read_is_put_only(account: Account) -> None:
    response = account.client.get("/notifications/read")
    assert_error(response, 405)
    assert response.headers["Allow"] == "PUT"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/notifications"),
        ("GET", "/notifications/unread-count"),
        ("GET", "/notifications/stream"),
        ("PUT", "/notifications/read"),
        ("PUT", "/notifications/6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d/read"),
        ("PUT", "/notifications/not-a-uuid/read"),
    ],
)
def test_every_route_needs_a_session(api: Api, database: Database, method: str, path: str) -> None:
    before = database.counts(*WRITES)
    assert_error(api.request(method, path), 401)
    assert database.counts(*WRITES) == before


# -- GET /notifications/stream -----------------------------------------------------------


def test_the_stream_sends_the_count_then_each_new_notification_and_count(
    make_account, database: Database, bucket: Bucket, notifications_worker: Worker
) -> None:
    author, fan = make_account(), make_account()
    post_id = new_post(author, database, bucket)
    sql_notifications(database, author.username, fan.username, 2, datetime.now(UTC))
    reader = open_stream(author.client)
    try:
        assert reader.next().retry == "1000"
        first = reader.next()
        assert (first.event, first.json) == ("unread-count", {"count": 2})

        position = outbox_position(database)
        assert_no_content(fan.client.post(f"/posts/{post_id}/likes"))
        sent_at = time.monotonic()
        notifications_worker.deliver_all(outbox_rows(database, position))
        pushed = reader.next_of("notification")
        assert time.monotonic() - sent_at < 5
        listed = author.client.get("/notifications").json()["items"][0]
        assert pushed.json == listed
        assert pushed.id == listed["id"]
        assert (listed["type"], listed["entityId"]) == ("like", post_id)
        assert reader.next_of("unread-count").json == {"count": 3}

        # Reads elsewhere (another tab) change the count on the stream too.
        assert_no_content(author.client.put("/notifications/read"))
        assert reader.next_of("unread-count").json == {"count": 0}
    finally:
        reader.response.close()


def test_the_stream_sends_only_the_callers_notifications(make_account, database: Database) -> None:
    watcher, other, actor = make_account(), make_account(), make_account()
    reader = open_stream(watcher.client)
    try:
        assert reader.next_of("unread-count").json == {"count": 0}
        sql_notifications(database, other.username, actor.username, 1, datetime.now(UTC))
        mine = sql_notifications(database, watcher.username, actor.username, 1, datetime.now(UTC))
        assert reader.next_of("notification").id == mine[0]
    finally:
        reader.response.close()


def test_a_notification_committed_late_is_still_sent(make_account, database: Database) -> None:
    # Its `created` (the inserting transaction's start) lies before the stream's last poll.
    watcher, actor = make_account(), make_account()
    reader = open_stream(watcher.client)
    connected = datetime.now(UTC)
    try:
        assert reader.next_of("unread-count").json == {"count": 0}
        time.sleep(3 * stream.POLL_SECONDS)
        late = sql_notifications(
            database, watcher.username, actor.username, 1, connected + timedelta(seconds=0.2)
        )
        assert reader.next_of("notification").id == late[0]
    finally:
        reader.response.close()


def test_the_stream_beats_ends_before_the_timeout_and_resumes_after_the_last_id(
    make_account, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    watcher, actor = make_account(), make_account()
    monkeypatch.setattr(stream, "HEARTBEAT_SECONDS", 0.5)
    # A 4-second stream: the function's 30 s timeout minus this margin.
    monkeypatch.setattr(stream, "TIMEOUT_MARGIN_SECONDS", 26.0)
    reader = open_stream(watcher.client)
    started = time.monotonic()
    seen = sql_notifications(database, watcher.username, actor.username, 1, datetime.now(UTC))
    assert reader.next_of("notification").id == seen[0]
    assert reader.next().json == {"count": 1}
    assert reader.next().comment == "heartbeat"
    with pytest.raises(EOFError):
        while True:
            reader.next()
    assert time.monotonic() - started < 10

    # Missed while reconnecting: sent first by a stream resuming after the last id seen.
    missed = sql_notifications(database, watcher.username, actor.username, 2, datetime.now(UTC))
    resumed = open_stream(watcher.client, **{"Last-Event-ID": seen[0]})
    try:
        assert resumed.next().retry == "1000"
        assert resumed.next().json == {"count": 3}
        assert [resumed.next_of("notification").id for _ in missed] == missed
    finally:
        resumed.response.close()


def test_a_foreign_or_malformed_last_event_id_starts_afresh(
    make_account, database: Database
) -> None:
    watcher, other, actor = make_account(), make_account(), make_account()
    sql_notifications(database, watcher.username, actor.username, 1, datetime.now(UTC))
    foreign = sql_notifications(database, other.username, actor.username, 1, datetime.now(UTC))
    for last_id in (foreign[0], "not-an-id"):
        count = unread(watcher.client)
        reader = open_stream(watcher.client, **{"Last-Event-ID": last_id})
        try:
            assert reader.next().retry == "1000"
            assert reader.next().json == {"count": count}
            fresh = sql_notifications(
                database, watcher.username, actor.username, 1, datetime.now(UTC)
            )
            # Nothing from before the connection, then the new one.
            assert reader.next_of("notification").id == fresh[0]
        finally:
            reader.response.close()


# -- the caps on open streams (docs/api.md §A.8) ---------------------------


def stream_status(client: Api) -> requests.Response:
    """Ask for a stream; a refusal is read whole, an open stream closed at once."""
    response = client.http.get(
        client.base_url + "/notifications/stream", stream=True, timeout=(5, 10)
    )
    if response.status_code != 200:
        _ = response.content
    response.close()
    return response


def test_a_user_may_hold_five_streams_the_sixth_is_429_and_closing_one_frees_a_slot(
    make_account, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Heartbeats every poll, so the server notices a closed connection within a second.
    monkeypatch.setattr(stream, "HEARTBEAT_SECONDS", 0.1)
    watcher, other = make_account(), make_account()
    readers = [open_stream(watcher.client) for _ in range(5)]
    try:
        refused = stream_status(watcher.client)
        assert refused.status_code == 429
        assert refused.json() == {"message": "At most 5 notification streams may be open at once"}
        assert int(refused.headers["Retry-After"]) > 0
        # The cap is per user: another account streams as usual.
        other_reader = open_stream(other.client)
        assert other_reader.next().retry == "1000"
        other_reader.response.close()

        readers.pop().response.close()
        deadline = time.monotonic() + 10
        while (status := stream_status(watcher.client).status_code) == 429:
            assert time.monotonic() < deadline, "the closed stream's slot never came back"
            time.sleep(0.2)
        assert status == 200
    finally:
        for reader in readers:
            reader.response.close()


def test_a_stream_never_started_gives_its_slots_back(account: Account, api_stack: ApiStack) -> None:
    """A body the server closes unread (the client left before the first byte) still
    releases the process slot and the user's lease."""
    notifications = direct(api_stack, "notifications")
    slots = api_stack.functions["notifications"].runtime.stream_slots
    token = account.client.session_token
    assert token is not None
    notifications.set_cookie("session", token)
    for _ in range(10):
        response = notifications.get("/notifications/stream", buffered=False)
        assert response.status_code == 200
        response.close()
    assert slots.acquire()  # not all taken: every slot above came back
    slots.release()


def test_leases_are_atomic_across_racing_replicas_and_lapse_after_a_crash(
    api_stack: ApiStack,
) -> None:
    cache = redis.Redis.from_url(api_stack.settings.cache_url or "", decode_responses=True)
    replicas = [
        StreamLeases(cache, fail_open=False, connection_lifetime_seconds=60) for _ in range(4)
    ]
    user = uuid.uuid4()
    won: list[Lease] = []
    refused: list[int] = []
    start = threading.Barrier(len(replicas))  # the replicas race from the same instant

    def race(leases: StreamLeases) -> None:
        start.wait()
        for _ in range(5):
            try:
                won.append(leases.open(user))
            except TooManyRequests as error:
                assert error.headers["Retry-After"] == "30"
                refused.append(1)

    threads = [threading.Thread(target=race, args=(leases,)) for leases in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(won), len(refused)) == (5, 15)
    assert all(lease.renew() for lease in won)

    # A replica that crashed never released its leases: they lapse instead.
    key = won[0].key
    cache.zadd(key, {lease.id: 1 for lease in won})  # lapsed long ago (cache clock in ms)
    assert not won[0].renew()  # a lapsed stream learns it has to end
    fresh = replicas[0].open(user)
    assert cache.zcard(key) == 1
    fresh.release()
    fresh.release()  # idempotent
    assert cache.exists(key) == 0
    for leases in replicas:
        leases.close()
    cache.close()


def test_ordinary_requests_still_answer_while_the_process_stream_slots_are_full(
    make_account, api_stack: ApiStack, tmp_path: Path
) -> None:
    """The notifications function under functions-framework (gunicorn gthread) with 4
    threads: 3 streams fill its slots, the 4th is a 503, and the remaining thread serves
    the short requests. Without the bound, the 4th stream would take the last thread and
    `GET /notifications/unread-count` would wait for a stream to end (25 s)."""
    settings = api_stack.settings
    environment = {
        "THREADS": "4",
        "DATABASE_URL": settings.database_url or "",
        "CACHE_URL": settings.cache_url or "",
        "SESSION_HASH_SECRET": settings.session_hash_secret or "",
        "TRUST_PROXY": "true",
        **{name.upper(): str(value) for name, value in ROOMY_LIMITS.items()},
    }
    source = REPOSITORY_ROOT / get_function("notifications").source
    process = launch("notifications", source, environment, tmp_path)
    try:
        wait_until_healthy(process)
        accounts = [make_account() for _ in range(4)]
        clients = [Api(process.url) for _ in accounts]
        for client, owner in zip(clients, accounts, strict=True):
            client.http.cookies.set("session", owner.client.session_token or "")
        readers = [open_stream(client) for client in clients[:3]]
        try:
            full = stream_status(clients[3])
            assert full.status_code == 503
            assert full.json() == {"message": "Service unavailable"}
            assert full.headers["Retry-After"] == str(stream.SLOTS_RETRY_AFTER_SECONDS)
            for client in clients:
                started = time.monotonic()
                response = client.http.get(
                    client.base_url + "/notifications/unread-count", timeout=5
                )
                assert response.status_code == 200
                assert time.monotonic() - started < 2
        finally:
            for reader in readers:
                reader.response.close()
    finally:
        process.stop()
