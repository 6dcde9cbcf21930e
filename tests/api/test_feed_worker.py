"""`feed-worker` through its real entry point, fed the events of real changes (docs/domain.md §3.2).

Changes are made over HTTP; the events they wrote are delivered to the worker as
binary-mode CloudEvents, once, twice, late or out of order.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest

from tests.api.conftest import Account, Bucket, Database
from tests.api.event_delivery import Worker, one_event, outbox_rows, with_payload
from tests.api.posting import assert_no_content, new_post, outbox_position, sql_posts


@pytest.fixture
def feed_worker(event_function) -> Worker:
    return Worker(event_function("feed-worker"))


def feed_of(database: Database, username: str) -> list[str]:
    """The public ids of the posts materialised in the user's feed, newest first."""
    rows = database.rows(
        """
        SELECT p.public_id::text FROM feed f
        JOIN posts p ON p.id = f.post_id JOIN users u ON u.id = f.user_id
        WHERE u.username = :username
        ORDER BY f.created DESC, f.post_id DESC
        """,
        username=username,
    )
    return [row[0] for row in rows]


def feed_rows_of_post(database: Database, public_id: str) -> dict[str, datetime]:
    """Owner username -> feed `created` of every row of the post."""
    rows = database.rows(
        """
        SELECT u.username, f.created FROM feed f
        JOIN posts p ON p.id = f.post_id JOIN users u ON u.id = f.user_id
        WHERE p.public_id = CAST(:post AS uuid)
        """,
        post=public_id,
    )
    return {username: created for username, created in rows}


def post_created(database: Database, public_id: str) -> datetime:
    return database.value(
        "SELECT created FROM posts WHERE public_id = CAST(:p AS uuid)", p=public_id
    )


def follow(follower: Account, followee: Account) -> None:
    assert_no_content(follower.client.post(f"/users/{followee.username}/follow"))


def unfollow(follower: Account, followee: Account) -> None:
    assert_no_content(follower.client.delete(f"/users/{followee.username}/follow"))


def make_celebrity(database: Database, username: str) -> None:
    database.rows("UPDATE users SET is_celebrity = true WHERE username = :u", u=username)


def bulk_followers(database: Database, username: str, count: int) -> None:
    """`count` new users following `username`, written with SQL."""
    tag = secrets.token_hex(4)
    database.rows(
        """
        WITH created AS (
            INSERT INTO users (name, username, email, password_hash)
            SELECT 'Follower', 'f' || :tag || '_' || n, 'f' || :tag || '_' || n || '@example.com',
                   'not-a-hash'
            FROM generate_series(1, :count) AS n
            RETURNING id
        )
        INSERT INTO follows (follower_id, followee_id)
        SELECT created.id, followee.id FROM created, users followee
        WHERE followee.username = :username
        """,
        tag=tag,
        count=count,
        username=username,
    )


# -- phasma.post.created: fan-out -------------------------------------------------------


def test_a_post_is_fanned_out_to_its_author_and_every_follower_once(
    make_account, database: Database, bucket: Bucket, feed_worker: Worker
) -> None:
    author, stranger = make_account(), make_account()
    followers = [make_account() for _ in range(3)]
    for follower in followers:
        follow(follower, author)
    position = outbox_position(database)
    public_id = new_post(author, database, bucket)
    event = one_event(database, position, "phasma.post.created")

    assert feed_worker.deliver(event) == "applied"
    rows = feed_rows_of_post(database, public_id)
    assert set(rows) == {author.username, *(follower.username for follower in followers)}
    assert stranger.username not in rows
    assert set(rows.values()) == {post_created(database, public_id)}

    # Redelivery (at-least-once) changes nothing.
    before = database.counts("feed")
    assert feed_worker.deliver(event) == "skipped"
    assert database.counts("feed") == before


def test_fan_out_covers_followers_beyond_one_batch(
    account: Account, database: Database, bucket: Bucket, feed_worker: Worker
) -> None:
    # 5,000 rows per statement: 5,100 followers plus the author take two batches.
    bulk_followers(database, account.username, 5_100)
    position = outbox_position(database)
    public_id = new_post(account, database, bucket)
    assert feed_worker.deliver(one_event(database, position, "phasma.post.created")) == "applied"
    assert len(feed_rows_of_post(database, public_id)) == 5_101


def test_a_celebrity_post_is_written_to_the_author_only(
    make_account, database: Database, bucket: Bucket, feed_worker: Worker
) -> None:
    author, follower = make_account(), make_account()
    follow(follower, author)
    make_celebrity(database, author.username)
    position = outbox_position(database)
    public_id = new_post(author, database, bucket)
    event = one_event(database, position, "phasma.post.created")
    assert event.payload["authorIsCelebrity"] is True

    assert feed_worker.deliver(event) == "applied"
    assert set(feed_rows_of_post(database, public_id)) == {author.username}


def test_the_latch_read_at_creation_decides_even_if_the_flag_says_otherwise(
    make_account, database: Database, bucket: Bucket, feed_worker: Worker
) -> None:
    # Either the payload's latch or the current flag makes the author a celebrity.
    author, follower = make_account(), make_account()
    follow(follower, author)
    position = outbox_position(database)
    public_id = new_post(author, database, bucket)
    event = one_event(database, position, "phasma.post.created")
    assert event.payload["authorIsCelebrity"] is False

    assert feed_worker.deliver(with_payload(event, authorIsCelebrity=True)) == "applied"
    assert set(feed_rows_of_post(database, public_id)) == {author.username}


def test_a_post_deleted_before_its_event_arrives_is_skipped(
    make_account, database: Database, bucket: Bucket, feed_worker: Worker
) -> None:
    author, follower = make_account(), make_account()
    follow(follower, author)
    position = outbox_position(database)
    public_id = new_post(author, database, bucket)
    assert_no_content(author.client.delete(f"/posts/{public_id}"))
    before = database.counts("feed")
    events = outbox_rows(database, position, "phasma.post.created", "phasma.post.deleted")
    assert [event.type for event in events] == ["phasma.post.created", "phasma.post.deleted"]
    assert feed_worker.deliver_all(events) == ["skipped", "skipped"]
    assert database.counts("feed") == before


def test_post_deletion_cascades_its_feed_rows(
    make_account, database: Database, bucket: Bucket, feed_worker: Worker
) -> None:
    author, follower = make_account(), make_account()
    follow(follower, author)
    position = outbox_position(database)
    public_id = new_post(author, database, bucket)
    feed_worker.deliver(one_event(database, position, "phasma.post.created"))
    assert feed_of(database, follower.username) == [public_id]
    assert_no_content(author.client.delete(f"/posts/{public_id}"))
    assert feed_of(database, follower.username) == []
    assert feed_of(database, author.username) == []


# -- phasma.user.followed: backfill ---------------------------------------------------


def test_a_follow_backfills_the_followees_50_most_recent_posts(
    make_account, database: Database, feed_worker: Worker
) -> None:
    followee, follower = make_account(), make_account()
    start = datetime.now(UTC) - timedelta(days=400)
    posts: list[str] = []
    for day in range(60):  # one post a day, oldest first; backfill ignores the 90-day window
        posts += sql_posts(database, followee.username, 1, start + timedelta(days=day))
    position = outbox_position(database)
    follow(follower, followee)
    event = one_event(database, position, "phasma.user.followed")

    assert feed_worker.deliver(event) == "applied"
    assert feed_of(database, follower.username) == posts[::-1][:50]
    assert feed_worker.deliver(event) == "skipped"
    assert len(feed_of(database, follower.username)) == 50


def test_following_a_celebrity_backfills_nothing(
    make_account, database: Database, feed_worker: Worker
) -> None:
    followee, follower = make_account(), make_account()
    sql_posts(database, followee.username, 3, datetime.now(UTC))
    make_celebrity(database, followee.username)
    position = outbox_position(database)
    follow(follower, followee)
    assert feed_worker.deliver(one_event(database, position, "phasma.user.followed")) == "skipped"
    assert feed_of(database, follower.username) == []


def test_a_follow_undone_before_its_event_arrives_backfills_nothing(
    make_account, database: Database, feed_worker: Worker
) -> None:
    followee, follower = make_account(), make_account()
    sql_posts(database, followee.username, 3, datetime.now(UTC))
    position = outbox_position(database)
    follow(follower, followee)
    unfollow(follower, followee)
    events = outbox_rows(database, position, "phasma.user.followed", "phasma.user.unfollowed")
    # In order, and in the reverse order a redelivery could produce: nothing stays.
    assert feed_worker.deliver_all(events) == ["skipped", "skipped"]
    assert feed_worker.deliver_all(events[::-1]) == ["skipped", "skipped"]
    assert feed_of(database, follower.username) == []


# -- phasma.user.unfollowed: prune -----------------------------------------------------


def test_an_unfollow_prunes_only_the_followees_posts(
    make_account, database: Database, bucket: Bucket, feed_worker: Worker
) -> None:
    follower, kept, dropped = make_account(), make_account(), make_account()
    kept_posts = sql_posts(database, kept.username, 2, datetime.now(UTC))
    sql_posts(database, dropped.username, 2, datetime.now(UTC))
    position = outbox_position(database)
    own = new_post(follower, database, bucket)
    follow(follower, kept)
    follow(follower, dropped)
    feed_worker.deliver_all(outbox_rows(database, position))
    assert len(feed_of(database, follower.username)) == 5

    position = outbox_position(database)
    unfollow(follower, dropped)
    event = one_event(database, position, "phasma.user.unfollowed")
    assert feed_worker.deliver(event) == "applied"
    assert set(feed_of(database, follower.username)) == {own, *kept_posts}
    assert feed_worker.deliver(event) == "skipped"


def test_an_unfollow_undone_before_its_event_arrives_prunes_nothing(
    make_account, database: Database, feed_worker: Worker
) -> None:
    followee, follower = make_account(), make_account()
    posts = sql_posts(database, followee.username, 2, datetime.now(UTC))
    position = outbox_position(database)
    follow(follower, followee)
    unfollow(follower, followee)
    follow(follower, followee)
    events = outbox_rows(database, position)
    assert [event.type for event in events] == [
        "phasma.user.followed",
        "phasma.user.unfollowed",
        "phasma.user.followed",
    ]
    assert feed_worker.deliver_all(events) == ["applied", "skipped", "skipped"]
    assert set(feed_of(database, follower.username)) == set(posts)


def test_an_unfollow_prunes_posts_materialised_before_the_celebrity_latch(
    make_account, database: Database, feed_worker: Worker
) -> None:
    followee, follower = make_account(), make_account()
    sql_posts(database, followee.username, 2, datetime.now(UTC))
    position = outbox_position(database)
    follow(follower, followee)
    feed_worker.deliver(one_event(database, position, "phasma.user.followed"))
    make_celebrity(database, followee.username)
    position = outbox_position(database)
    unfollow(follower, followee)
    assert feed_worker.deliver(one_event(database, position, "phasma.user.unfollowed")) == "applied"
    assert feed_of(database, follower.username) == []


# -- what the worker does not react to ---------------------------------------------------


def test_other_events_and_undecodable_payloads_are_acknowledged_without_effect(
    make_account, database: Database, bucket: Bucket, feed_worker: Worker
) -> None:
    author, liker = make_account(), make_account()
    position = outbox_position(database)
    public_id = new_post(author, database, bucket, description="#feedworker")
    assert_no_content(liker.client.post(f"/posts/{public_id}/likes"))
    created = one_event(database, position, "phasma.post.created")
    others = outbox_rows(database, position, "phasma.hashtag.updated", "phasma.post.liked")
    assert len(others) == 2
    before = database.counts("feed")
    assert feed_worker.deliver_all(others) == ["skipped", "skipped"]
    assert feed_worker.deliver(with_payload(created, postId="not-a-uuid")) == "skipped"
    assert feed_worker.deliver(with_payload(created, authorIsCelebrity=None)) == "skipped"
    assert database.counts("feed") == before
