"""`GET /feed` over HTTP against the real stack (docs/api.md §8, §14.4; docs/domain.md §3.3).

Materialised rows come from the real `feed-worker` fed the real events; the live
branch (own posts, followed celebrities) needs no worker at all.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.api.conftest import Account, Api, Bucket, Database
from tests.api.event_delivery import Worker, outbox_rows
from tests.api.posting import (
    BAD_PAGINATION,
    POST_FIELDS,
    assert_error,
    assert_no_content,
    new_post,
    outbox_position,
    sql_posts,
    walk,
)


@pytest.fixture
def feed_worker(event_function) -> Worker:
    return Worker(event_function("feed-worker"))


def feed_ids(client: Api, **params: object) -> list[str]:
    response = client.get("/feed", params=params)
    assert response.status_code == 200, response.text
    return [item["publicId"] for item in response.json()["items"]]


def follow(follower: Account, followee: Account) -> None:
    assert_no_content(follower.client.post(f"/users/{followee.username}/follow"))


def make_celebrity(database: Database, username: str) -> None:
    database.rows("UPDATE users SET is_celebrity = true WHERE username = :u", u=username)


def feed_row_count(database: Database, username: str) -> int:
    return int(
        database.value(
            "SELECT count(*) FROM feed f JOIN users u ON u.id = f.user_id WHERE u.username = :u",
            u=username,
        )
    )


def test_a_new_users_feed_is_an_empty_page(account: Account) -> None:
    response = account.client.get("/feed")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json() == {"items": [], "nextCursor": None}


def test_an_own_post_is_in_the_feed_at_once_and_only_once(
    account: Account, database: Database, bucket: Bucket, feed_worker: Worker
) -> None:
    position = outbox_position(database)
    public_id = new_post(account, database, bucket, description="hello #feed")
    # No fan-out has run: the live branch serves it.
    assert feed_row_count(database, account.username) == 0
    body = account.client.get("/feed").json()
    assert [item["publicId"] for item in body["items"]] == [public_id]
    item = body["items"][0]
    assert set(item) == POST_FIELDS
    assert (item["username"], item["description"], item["liked"]) == (
        account.username,
        "hello #feed",
        False,
    )
    assert item == account.client.get(f"/posts/{public_id}").json()
    # Once materialised, the NOT EXISTS keeps it from appearing twice.
    feed_worker.deliver_all(outbox_rows(database, position))
    assert feed_row_count(database, account.username) == 1
    assert feed_ids(account.client) == [public_id]
    assert_no_content(account.client.post(f"/posts/{public_id}/likes"))
    assert account.client.get("/feed").json()["items"][0]["liked"] is True


def test_a_followees_posts_arrive_by_fan_out_and_leave_with_the_unfollow(
    make_account, database: Database, bucket: Bucket, feed_worker: Worker
) -> None:
    reader, author = make_account(), make_account()
    follow(reader, author)
    position = outbox_position(database)
    public_id = new_post(author, database, bucket)
    assert feed_ids(reader.client) == []  # not materialised yet, and not a celebrity
    feed_worker.deliver_all(outbox_rows(database, position))
    assert feed_ids(reader.client) == [public_id]

    position = outbox_position(database)
    assert_no_content(reader.client.delete(f"/users/{author.username}/follow"))
    feed_worker.deliver_all(outbox_rows(database, position))
    assert feed_ids(reader.client) == []


def test_a_materialised_post_shows_its_edit_and_the_edit_needs_no_fan_out(
    make_account, database: Database, bucket: Bucket, feed_worker: Worker
) -> None:
    reader, author = make_account(), make_account()
    follow(reader, author)
    position = outbox_position(database)
    public_id = new_post(author, database, bucket, "first words")
    feed_worker.deliver_all(outbox_rows(database, position))
    position = outbox_position(database)
    edited = author.client.patch(f"/posts/{public_id}", json={"description": "better words"})
    assert edited.status_code == 200, edited.text
    [item] = reader.client.get("/feed").json()["items"]
    assert (item["description"], item["edited"]) == ("better words", edited.json()["edited"])
    assert item == reader.client.get(f"/posts/{public_id}").json()
    rows = feed_row_count(database, reader.username)
    outcomes = feed_worker.deliver_all(outbox_rows(database, position))
    assert outcomes == ["skipped"]  # `phasma.post.updated`: nothing to change
    assert feed_row_count(database, reader.username) == rows


def test_a_follow_backfills_earlier_posts(
    make_account, database: Database, bucket: Bucket, feed_worker: Worker
) -> None:
    reader, author = make_account(), make_account()
    earlier = [new_post(author, database, bucket) for _ in range(3)]
    position = outbox_position(database)
    follow(reader, author)
    feed_worker.deliver_all(outbox_rows(database, position))
    assert feed_ids(reader.client) == earlier[::-1]


def test_celebrity_posts_are_read_live_without_fan_out(
    make_account, database: Database, bucket: Bucket, feed_worker: Worker
) -> None:
    reader, stranger, celebrity = make_account(), make_account(), make_account()
    make_celebrity(database, celebrity.username)
    position = outbox_position(database)
    follow(reader, celebrity)
    public_id = new_post(celebrity, database, bucket)
    feed_worker.deliver_all(outbox_rows(database, position))
    assert feed_row_count(database, reader.username) == 0
    assert feed_ids(reader.client) == [public_id]
    assert feed_ids(stranger.client) == []  # only followers see it

    position = outbox_position(database)
    assert_no_content(reader.client.delete(f"/users/{celebrity.username}/follow"))
    feed_worker.deliver_all(outbox_rows(database, position))
    assert feed_ids(reader.client) == []


def test_the_live_branch_reaches_back_90_days_but_materialised_rows_do_not_expire(
    make_account, database: Database, feed_worker: Worker
) -> None:
    reader, celebrity = make_account(), make_account()
    now = datetime.now(UTC)
    own_recent, own_old = (
        sql_posts(database, reader.username, 1, now - timedelta(days=89))[0],
        sql_posts(database, reader.username, 1, now - timedelta(days=91))[0],
    )
    # Posts materialised before the latch stay, however old; the rest is read live.
    pre_latch_old = sql_posts(database, celebrity.username, 1, now - timedelta(days=200))[0]
    pre_latch_recent = sql_posts(database, celebrity.username, 1, now - timedelta(days=2))[0]
    position = outbox_position(database)
    follow(reader, celebrity)
    feed_worker.deliver_all(outbox_rows(database, position))
    make_celebrity(database, celebrity.username)
    live_recent = sql_posts(database, celebrity.username, 1, now - timedelta(days=1))[0]
    sql_posts(database, celebrity.username, 1, now - timedelta(days=120))
    assert feed_ids(reader.client) == [live_recent, pre_latch_recent, own_recent, pre_latch_old]
    assert own_old not in feed_ids(reader.client)


def test_pages_merge_both_branches_in_order_without_gaps_or_repeats(
    make_account, database: Database, feed_worker: Worker
) -> None:
    reader, followee, celebrity = make_account(), make_account(), make_account()
    make_celebrity(database, celebrity.username)
    moment = datetime.now(UTC) - timedelta(hours=1)
    # Materialised by the backfill: the followee's posts, one of them the newest.
    followee_posts = sql_posts(database, followee.username, 4, moment)
    later = sql_posts(database, followee.username, 1, moment + timedelta(minutes=1))
    position = outbox_position(database)
    follow(reader, followee)
    follow(reader, celebrity)
    feed_worker.deliver_all(outbox_rows(database, position))
    assert feed_row_count(database, reader.username) == 5
    # Read live: the celebrity's and the reader's own posts, at the same time or earlier.
    celebrity_posts = sql_posts(database, celebrity.username, 4, moment)
    own_posts = sql_posts(database, reader.username, 3, moment)
    earlier = sql_posts(database, celebrity.username, 2, moment - timedelta(minutes=1))
    # Equal times across all three sources: the internal id (creation order) breaks ties.
    expected = later + (followee_posts + celebrity_posts + own_posts)[::-1] + earlier[::-1]
    for limit in (1, 3, 5, 50):
        pages = walk(reader.client, "/feed", limit)
        assert [item["publicId"] for page in pages for item in page] == expected


def test_limit_is_clamped_to_50(account: Account, database: Database) -> None:
    sql_posts(database, account.username, 55, datetime.now(UTC) - timedelta(minutes=5))
    body = account.client.get("/feed", params={"limit": "500"}).json()
    assert len(body["items"]) == 50 and body["nextCursor"] is not None
    assert len(account.client.get("/feed").json()["items"]) == 10


@pytest.mark.parametrize("params", BAD_PAGINATION)
def test_bad_pagination_is_a_400(
    account: Account, database: Database, params: dict[str, str]
) -> None:
    before = database.counts("feed", "posts", "outbox")
    assert_error(account.client.get("/feed", params=params), 400)
    assert database.counts("feed", "posts", "outbox") == before


def test_the_feed_needs_a_session(api: Api, database: Database) -> None:
    before = database.counts("feed", "outbox")
    assert_error(api.get("/feed"), 401)
    assert_error(api.get("/feed", cookies={"session": "not-a-session"}), 401)
    assert database.counts("feed", "outbox") == before


def test_a_deleted_post_leaves_every_feed(
    make_account, database: Database, bucket: Bucket, feed_worker: Worker
) -> None:
    reader, author = make_account(), make_account()
    follow(reader, author)
    position = outbox_position(database)
    public_id = new_post(author, database, bucket)
    feed_worker.deliver_all(outbox_rows(database, position))
    assert feed_ids(reader.client) == [public_id] == feed_ids(author.client)
    assert_no_content(author.client.delete(f"/posts/{public_id}"))
    assert feed_ids(reader.client) == [] == feed_ids(author.client)
