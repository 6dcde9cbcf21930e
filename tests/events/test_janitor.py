"""The janitor's tasks against real PostgreSQL and S3, and its advisory-lock skip."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterator

import pytest

from phasma.blobs import image_keys, rendition_key, thumbnail_key
from phasma.db.connect import connect
from phasma.devstack.eventing import ping_event
from phasma.devstack.services import free_port
from phasma.events.worker import OUTCOME_HEADER, EventFunction
from phasma.janitor.tasks import TaskResult, mail_delivery_retention_days, run
from tests.api.conftest import Bucket, Database, deliver


def task(name: str):
    return ping_event("janitor-hourly", f'{{"task":"{name}"}}')


@pytest.fixture
def janitor(host: Callable[..., EventFunction]) -> EventFunction:
    return host("janitor")


def insert_user(database: Database, username: str | None = None) -> int:
    username = username or f"janitor_{secrets.token_hex(5)}"
    return database.value(
        """
        INSERT INTO users (name, username, email, password_hash)
        VALUES ('Janitor Test', :username, :email, 'x')
        RETURNING id
        """,
        username=username,
        email=f"{username}@example.com",
    )


def insert_session(database: Database, user_id: int, *, age: str, expires_in: str) -> str:
    key = secrets.token_hex(32)
    database.rows(
        """
        INSERT INTO sessions (id, user_id, created, expires_at)
        VALUES (:key, :user_id, now() - CAST(:age AS interval), now() + CAST(:expires AS interval))
        """,
        key=key,
        user_id=user_id,
        age=age,
        expires=expires_in,
    )
    return key


def existing(database: Database, table: str, column: str, values: list[str]) -> set[str]:
    rows = database.rows(
        f"SELECT {column} FROM {table} WHERE {column} = ANY(:values)", values=values
    )
    return {row[0] for row in rows}


def test_expired_sessions_go_by_either_expiry(janitor: EventFunction, database: Database) -> None:
    user = insert_user(database)
    valid = insert_session(database, user, age="1 day", expires_in="6 days")
    slid_out = insert_session(database, user, age="10 days", expires_in="-1 minute")
    too_old = insert_session(database, user, age="31 days", expires_in="6 days")

    response = deliver(janitor, task("expired-sessions"))

    assert response.status_code == 204
    assert response.headers[OUTCOME_HEADER] == "applied"
    assert existing(database, "sessions", "id", [valid, slid_out, too_old]) == {valid}


def test_published_outbox_rows_go_after_the_retention(
    janitor: EventFunction, database: Database
) -> None:
    ids = [
        database.value(
            """
            INSERT INTO outbox (topic, type, source, subject, partition_key, payload, created,
                                published_at)
            VALUES ('activity', 'phasma.post.liked', '/phasma/likes', 's', 's', '{}',
                    now() - CAST(:age AS interval),
                    CASE WHEN :published THEN now() - CAST(:age AS interval) END)
            RETURNING id
            """,
            age=age,
            published=published,
        )
        for age, published in (("8 days", True), ("6 days", True), ("8 days", False))
    ]
    assert deliver(janitor, task("outbox-retention")).status_code == 204
    remaining = {
        row[0] for row in database.rows("SELECT id FROM outbox WHERE id = ANY(:ids)", ids=ids)
    }
    # The old published row goes; a recent one and an unpublished one stay.
    assert remaining == {ids[1], ids[2]}


def test_expired_uploads_go_with_their_blobs(
    janitor: EventFunction, database: Database, bucket: Bucket
) -> None:
    user = insert_user(database)
    expired, blobless, fresh = (secrets.token_hex(16) for _ in range(3))
    for filename, age in ((expired, "61 minutes"), (blobless, "2 hours"), (fresh, "59 minutes")):
        database.rows(
            """
            INSERT INTO uploads (filename, user_id, created)
            VALUES (:filename, :user_id, now() - CAST(:age AS interval))
            """,
            filename=filename,
            user_id=user,
            age=age,
        )
    for filename in (expired, fresh):
        bucket.put(filename, b"jpeg bytes")
        bucket.put(thumbnail_key(filename), b"thumbnail bytes")
        for width in (640, 1080):
            bucket.put(rendition_key(filename, width), b"rendition bytes")

    assert deliver(janitor, task("expired-uploads")).status_code == 204

    # A blob already missing counts as deleted: its row goes too.
    assert existing(database, "uploads", "filename", [expired, blobless, fresh]) == {fresh}
    keys = bucket.keys()
    assert len(image_keys(expired)) == 4  # original, thumbnail, 640 and 1080
    assert not set(image_keys(expired)) & keys
    assert set(image_keys(fresh)) <= keys


def test_an_unreachable_blob_store_keeps_the_expired_uploads(
    host: Callable[..., EventFunction], database: Database
) -> None:
    user = insert_user(database)
    filename = secrets.token_hex(16)
    database.rows(
        """
        INSERT INTO uploads (filename, user_id, created)
        VALUES (:filename, :user_id, now() - interval '2 hours')
        """,
        filename=filename,
        user_id=user,
    )
    janitor = host("janitor", s3_endpoint=f"http://127.0.0.1:{free_port()}")
    response = deliver(janitor, task("expired-uploads"))
    assert response.status_code == 503
    assert response.get_json() == {"message": "Service unavailable"}
    assert existing(database, "uploads", "filename", [filename]) == {filename}
    database.rows("DELETE FROM uploads WHERE filename = :filename", filename=filename)


def insert_mail_token(
    database: Database, user_id: int, *, age: str, lifetime: str, used_after: str | None
) -> str:
    """A token row created `age` ago, expiring `lifetime` after that, spent `used_after`
    its creation (None: never)."""
    token_hmac = secrets.token_hex(32)
    database.rows(
        """
        INSERT INTO mail_tokens (token_hmac, user_id, purpose, email, created, expires, used)
        VALUES (:token_hmac, :user_id, 'verify', 'janitor@example.com',
                now() - CAST(:age AS interval),
                now() - CAST(:age AS interval) + CAST(:lifetime AS interval),
                now() - CAST(:age AS interval) + CAST(:used_after AS interval))
        """,
        token_hmac=token_hmac,
        user_id=user_id,
        age=age,
        lifetime=lifetime,
        used_after=used_after,
    )
    return token_hmac


def test_mail_tokens_go_a_day_after_they_expire_or_are_spent(
    janitor: EventFunction, database: Database
) -> None:
    user = insert_user(database)
    live = insert_mail_token(database, user, age="1 hour", lifetime="24 hours", used_after=None)
    just_spent = insert_mail_token(
        database, user, age="2 hours", lifetime="24 hours", used_after="1 hour"
    )
    just_expired = insert_mail_token(
        database, user, age="25 hours", lifetime="24 hours", used_after=None
    )
    # Spent 25 hours ago, expired only 90 minutes ago: the spending ended it.
    long_spent = insert_mail_token(
        database, user, age="25 hours 30 minutes", lifetime="24 hours", used_after="30 minutes"
    )
    long_expired = insert_mail_token(
        database, user, age="50 hours", lifetime="1 hour", used_after=None
    )
    tokens = [live, just_spent, just_expired, long_spent, long_expired]

    response = deliver(janitor, task("mail-tokens"))

    assert (response.status_code, response.headers[OUTCOME_HEADER]) == (204, "applied")
    assert existing(database, "mail_tokens", "token_hmac", tokens) == {
        live,
        just_spent,
        just_expired,
    }


def insert_mail_delivery(database: Database, age: str) -> str:
    event_id = str(uuid.uuid4())
    database.rows(
        """
        INSERT INTO mail_deliveries (event_id, sent)
        VALUES (:event_id, now() - CAST(:age AS interval))
        """,
        event_id=event_id,
        age=age,
    )
    return event_id


def test_mail_deliveries_outlive_every_way_an_event_can_come_back(
    host: Callable[..., EventFunction], janitor: EventFunction, database: Database
) -> None:
    # The dead-letter topic keeps records longest (14 days, beyond the 7 of `activity`
    # and of the outbox): a replayed dead letter must still find its delivery record.
    assert mail_delivery_retention_days(janitor.runtime) == 14
    recent, past_the_topic, past_the_dead_letters = (
        insert_mail_delivery(database, age) for age in ("1 day", "13 days", "15 days")
    )
    ids = [recent, past_the_topic, past_the_dead_letters]

    assert deliver(janitor, task("mail-deliveries")).status_code == 204
    assert existing(database, "mail_deliveries", "event_id", ids) == {recent, past_the_topic}

    # An outbox kept longer (OUTBOX_RETENTION_DAYS) keeps the records as long.
    kept_longer = host("janitor", outbox_retention_days=30)
    month_old, older = (
        insert_mail_delivery(database, "29 days"),
        insert_mail_delivery(database, "31 days"),
    )
    assert deliver(kept_longer, task("mail-deliveries")).status_code == 204
    assert existing(database, "mail_deliveries", "event_id", [month_old, older]) == {month_old}
    database.rows("DELETE FROM mail_deliveries WHERE event_id = ANY(:ids)", ids=[month_old, *ids])


def test_follower_counts_are_recounted_and_the_celebrity_latch_never_resets(
    janitor: EventFunction, database: Database
) -> None:
    star, ordinary = insert_user(database), insert_user(database)
    database.rows(
        """
        WITH fans AS (
            INSERT INTO users (name, username, email, password_hash)
            SELECT 'Fan', name, name || '@example.com', 'x'
            FROM generate_series(1, 10001) AS n, concat('fan_', CAST(:tag AS text), '_', n) AS name
            RETURNING id
        )
        INSERT INTO follows (follower_id, followee_id) SELECT id, :star FROM fans
        """,
        tag=secrets.token_hex(3),
        star=star,
    )
    database.rows(
        "INSERT INTO follows (follower_id, followee_id) VALUES (:star, :ordinary)",
        star=star,
        ordinary=ordinary,
    )
    database.rows("UPDATE users SET follower_count = 7 WHERE id = ANY(:ids)", ids=[star, ordinary])

    def counts() -> dict[int, tuple[int, bool]]:
        rows = database.rows(
            "SELECT id, follower_count, is_celebrity FROM users WHERE id = ANY(:ids)",
            ids=[star, ordinary],
        )
        return {row[0]: (row[1], row[2]) for row in rows}

    assert deliver(janitor, task("follower-counts")).status_code == 204
    assert counts() == {star: (10_001, True), ordinary: (1, False)}

    database.rows(
        """
        DELETE FROM follows WHERE followee_id = :star
          AND follower_id IN (SELECT follower_id FROM follows WHERE followee_id = :star LIMIT 5)
        """,
        star=star,
    )
    assert deliver(janitor, task("follower-counts")).status_code == 204
    assert counts()[star] == (9_996, True)


@pytest.fixture
def sessions_lock_held(events_database: tuple[str, str]) -> Iterator[None]:
    """Another run holding the expired-sessions task's lock."""
    connection = connect(events_database[0])
    connection.run("BEGIN")
    connection.run(
        "SELECT pg_advisory_xact_lock(hashtextextended('phasma.janitor.' || :task, 0))",
        task="expired-sessions",
    )
    yield
    connection.run("ROLLBACK")
    connection.close()


def test_a_task_another_run_holds_is_skipped(
    janitor: EventFunction, database: Database, sessions_lock_held: None
) -> None:
    user = insert_user(database)
    expired = insert_session(database, user, age="10 days", expires_in="-1 day")

    results = {result.task: result for result in run(janitor.runtime, "all")}

    assert results["expired-sessions"] == TaskResult("expired-sessions", 0, skipped=True)
    assert not any(result.skipped for name, result in results.items() if name != "expired-sessions")
    assert existing(database, "sessions", "id", [expired]) == {expired}


def test_an_unknown_task_is_skipped(janitor: EventFunction) -> None:
    response = deliver(janitor, task("defragment"))
    assert response.status_code == 204
    assert response.headers[OUTCOME_HEADER] == "skipped"
