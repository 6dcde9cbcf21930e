"""Hashtags as places over HTTP against the real stack (docs/api.md §F): a tag, its posts,
following it, and followed tags' posts in the feed (merged when the feed is read)."""

from __future__ import annotations

import secrets
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from phasma.config import Limits
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


def fresh_tag(stem: str = "sunset") -> str:
    """A tag no other test uses (the database is shared by the session)."""
    return f"{stem}{secrets.token_hex(4)}"


def tag_posts(database: Database, name: str, public_ids: list[str]) -> None:
    """Tag SQL-made posts with `name` as `POST /posts` would: count, link at the post's time."""
    database.rows(
        """
        INSERT INTO hashtags (name, post_count) VALUES (:name, 0)
        ON CONFLICT (name) DO NOTHING
        """,
        name=name,
    )
    database.rows(
        """
        WITH linked AS (
            INSERT INTO post_hashtags (post_id, hashtag_id, created)
            SELECT p.id, h.id, p.created FROM posts p, hashtags h
            WHERE p.public_id = ANY(CAST(:ids AS uuid[])) AND h.name = :name
            RETURNING hashtag_id
        )
        UPDATE hashtags SET post_count = post_count + (SELECT count(*) FROM linked)
        WHERE name = :name
        """,
        ids=public_ids,
        name=name,
    )


def follows_of(database: Database, username: str) -> list[str]:
    rows = database.rows(
        "SELECT h.name FROM hashtag_follows hf JOIN hashtags h ON h.id = hf.hashtag_id "
        "JOIN users u ON u.id = hf.user_id WHERE u.username = :u ORDER BY h.name",
        u=username,
    )
    return [name for [name] in rows]


def follow_state(database: Database) -> dict[str, Any]:
    """What a follow or unfollow may write: its rows, and the outbox (it writes no event)."""
    return database.counts("hashtag_follows", "hashtags", "outbox")


def feed_ids(client: Api, **params: object) -> list[str]:
    response = client.get("/feed", params=params)
    assert response.status_code == 200, response.text
    return [item["publicId"] for item in response.json()["items"]]


def ids_of(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["publicId"] for item in response.json()["items"]]


@pytest.fixture
def feed_worker(event_function) -> Worker:
    return Worker(event_function("feed-worker"))


@pytest.fixture
def sunset(make_account, database: Database, bucket: Bucket) -> tuple[str, list[str]]:
    """A fresh tag on two posts by a stranger: (name, publicIds newest first)."""
    name = fresh_tag()
    author = make_account()
    first = new_post(author, database, bucket, f"evening #{name}")
    second = new_post(author, database, bucket, f"again #{name.upper()} and #other")
    return name, [second, first]


# -- GET /hashtags/{name} -------------------------------------------------------------


def test_a_tag_has_its_post_count_and_the_viewers_following(
    api: Api, account: Account, sunset: tuple[str, list[str]]
) -> None:
    name, _ = sunset
    response = account.client.get(f"/hashtags/{name}")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {"name": name, "postCount": 2, "following": False}

    assert_no_content(account.client.put(f"/hashtags/{name}/follow"))
    assert account.client.get(f"/hashtags/{name}").json()["following"] is True
    # Anonymous readers see the tag; `following` is only ever the viewer's own.
    assert api.get(f"/hashtags/{name}").json() == {"name": name, "postCount": 2, "following": False}


def test_a_tag_is_looked_up_lowercased(account: Account, sunset: tuple[str, list[str]]) -> None:
    name, _ = sunset
    assert account.client.get(f"/hashtags/{name.upper()}").json()["name"] == name


def test_a_tag_whose_posts_are_gone_stays_with_a_count_of_0(
    account: Account, database: Database, bucket: Bucket
) -> None:
    name = fresh_tag()
    public_id = new_post(account, database, bucket, f"#{name}")
    assert_no_content(account.client.delete(f"/posts/{public_id}"))
    assert account.client.get(f"/hashtags/{name}").json()["postCount"] == 0
    assert ids_of(account.client.get(f"/hashtags/{name}/posts")) == []


@pytest.mark.parametrize("suffix", ["", "/posts"])
def test_an_unknown_tag_is_a_404(api: Api, account: Account, suffix: str) -> None:
    for client in (api, account.client):
        assert_error(client.get(f"/hashtags/{fresh_tag('nothing')}{suffix}"), 404)


BAD_NAMES = ["sun-set", "sun.set", "s%C3%BCn", "x" * 51, "%23sunset", "sun%20set"]


@pytest.mark.parametrize("name", BAD_NAMES)
@pytest.mark.parametrize("suffix", ["", "/posts"])
def test_a_name_that_cannot_be_a_tag_is_a_400(account: Account, name: str, suffix: str) -> None:
    assert_error(account.client.get(f"/hashtags/{name}{suffix}"), 400)


def test_the_typeahead_keeps_its_literal_path(account: Account) -> None:
    # `/hashtags/search` is the search function's typeahead, not a tag called "search".
    response = account.client.get("/hashtags/search", params={"q": "sun"})
    assert response.status_code == 200
    assert isinstance(response.json(), list)


# -- GET /hashtags/{name}/posts -------------------------------------------------------


def test_a_tags_posts_are_listed_newest_first_for_anyone(
    api: Api, account: Account, sunset: tuple[str, list[str]]
) -> None:
    name, expected = sunset
    response = account.client.get(f"/hashtags/{name}/posts")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["nextCursor"] is None
    assert [item["publicId"] for item in body["items"]] == expected
    assert all(set(item) == POST_FIELDS for item in body["items"])
    assert ids_of(api.get(f"/hashtags/{name}/posts")) == expected


def test_a_tags_posts_carry_the_viewers_likes(
    api: Api, account: Account, sunset: tuple[str, list[str]]
) -> None:
    name, [newest, _] = sunset
    assert_no_content(account.client.post(f"/posts/{newest}/likes"))
    liked = {
        item["publicId"]: item["liked"]
        for item in account.client.get(f"/hashtags/{name}/posts").json()["items"]
    }
    assert liked[newest] is True
    assert all(not item["liked"] for item in api.get(f"/hashtags/{name}/posts").json()["items"])


def test_a_tags_posts_page_by_post_time_with_ties_broken_stably(
    account: Account, make_account, database: Database
) -> None:
    name = fresh_tag()
    author, other = make_account(), make_account()
    moment = datetime.now(UTC) - timedelta(hours=1)
    tied = sql_posts(database, author.username, 4, moment) + sql_posts(
        database, other.username, 2, moment
    )
    older = sql_posts(database, author.username, 2, moment - timedelta(days=400))
    newer = sql_posts(database, other.username, 1, moment + timedelta(minutes=5))
    sql_posts(database, author.username, 3, moment)  # untagged: never listed
    tag_posts(database, name, tied + older + newer)
    expected = newer + tied[::-1] + older[::-1]
    for limit in (1, 2, 4, 50):
        pages = walk(account.client, f"/hashtags/{name}/posts", limit)
        assert [item["publicId"] for page in pages for item in page] == expected, limit


def test_an_edit_that_adds_a_tag_lists_the_post_at_its_own_time(
    account: Account, database: Database, bucket: Bucket
) -> None:
    name = fresh_tag()
    older = new_post(account, database, bucket, "no tag yet")
    newer = new_post(account, database, bucket, f"#{name}")
    edited = account.client.patch(f"/posts/{older}", json={"description": f"now #{name}"})
    assert edited.status_code == 200, edited.text
    # The link carries the post's time, not the edit's: the older post stays second.
    assert ids_of(account.client.get(f"/hashtags/{name}/posts")) == [newer, older]
    assert database.value(
        "SELECT bool_and(ph.created = p.created) FROM post_hashtags ph "
        "JOIN posts p ON p.id = ph.post_id WHERE p.public_id = CAST(:p AS uuid)",
        p=older,
    )


def test_a_tags_posts_limit_defaults_to_10_and_clamps_to_50(
    api: Api, make_account, database: Database
) -> None:
    name = fresh_tag()
    author = make_account()
    tag_posts(database, name, sql_posts(database, author.username, 52, datetime.now(UTC)))
    default = api.get(f"/hashtags/{name}/posts").json()
    assert len(default["items"]) == 10 and default["nextCursor"]
    clamped = api.get(f"/hashtags/{name}/posts", params={"limit": 51}).json()
    assert len(clamped["items"]) == 50 and clamped["nextCursor"]


@pytest.mark.parametrize("params", BAD_PAGINATION)
def test_a_tags_posts_reject_bad_pagination(
    api: Api, sunset: tuple[str, list[str]], params: dict[str, str]
) -> None:
    name, _ = sunset
    assert_error(api.get(f"/hashtags/{name}/posts", params=params), 400)


# -- PUT and DELETE /hashtags/{name}/follow --------------------------------------------


def test_following_twice_keeps_one_follow_and_records_no_event(
    account: Account, sunset: tuple[str, list[str]], database: Database
) -> None:
    name, _ = sunset
    position = outbox_position(database)
    assert_no_content(account.client.put(f"/hashtags/{name}/follow"))
    assert follows_of(database, account.username) == [name]
    before = follow_state(database)
    assert_no_content(account.client.put(f"/hashtags/{name.upper()}/follow"))
    assert follow_state(database) == before
    assert outbox_position(database) == position


def test_unfollowing_twice_removes_the_follow_once(
    account: Account, sunset: tuple[str, list[str]], database: Database
) -> None:
    name, _ = sunset
    assert_no_content(account.client.put(f"/hashtags/{name}/follow"))
    assert_no_content(account.client.delete(f"/hashtags/{name}/follow"))
    assert follows_of(database, account.username) == []
    before = follow_state(database)
    assert_no_content(account.client.delete(f"/hashtags/{name}/follow"))
    assert follow_state(database) == before
    assert account.client.get(f"/hashtags/{name}").json()["following"] is False


def test_follows_are_per_user(
    account: Account, make_account, sunset: tuple[str, list[str]], database: Database
) -> None:
    name, _ = sunset
    other = make_account()
    for follower in (account, other):
        assert_no_content(follower.client.put(f"/hashtags/{name}/follow"))
    assert_no_content(other.client.delete(f"/hashtags/{name}/follow"))
    assert follows_of(database, account.username) == [name]
    assert follows_of(database, other.username) == []


def test_concurrent_follows_by_one_user_keep_one_row(
    account: Account, sunset: tuple[str, list[str]], database: Database
) -> None:
    name, _ = sunset
    statuses: list[int] = []
    start = threading.Barrier(6)  # all six requests leave together

    def follow() -> None:
        start.wait()
        statuses.append(account.client.put(f"/hashtags/{name}/follow").status_code)

    threads = [threading.Thread(target=follow) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [204] * 6
    assert follows_of(database, account.username) == [name]


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_following_an_unknown_tag_is_a_404_and_writes_nothing(
    account: Account, database: Database, method: str
) -> None:
    name = fresh_tag("nothing")
    before = follow_state(database)
    assert_error(account.client.request(method, f"/hashtags/{name}/follow"), 404)
    assert follow_state(database) == before
    # Following does not create the tag either.
    assert_error(account.client.get(f"/hashtags/{name}"), 404)


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
@pytest.mark.parametrize("name", BAD_NAMES)
def test_following_a_name_that_cannot_be_a_tag_is_a_400_and_writes_nothing(
    account: Account, database: Database, method: str, name: str
) -> None:
    before = follow_state(database)
    assert_error(account.client.request(method, f"/hashtags/{name}/follow"), 400)
    assert follow_state(database) == before


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_following_needs_a_session(
    api: Api, sunset: tuple[str, list[str]], database: Database, method: str
) -> None:
    name, _ = sunset
    before = follow_state(database)
    assert_error(api.request(method, f"/hashtags/{name}/follow"), 401)
    assert follow_state(database) == before


def test_follow_answers_405_to_other_methods(
    account: Account, sunset: tuple[str, list[str]], database: Database
) -> None:
    name, _ = sunset
    before = follow_state(database)
    response = account.client.post(f"/hashtags/{name}/follow")
    assert_error(response, 405)
    assert set(response.headers["allow"].replace(" ", "").split(",")) >= {"PUT", "DELETE"}
    assert follow_state(database) == before


# -- followed tags in GET /feed ----------------------------------------------------------


def test_following_a_tag_brings_a_strangers_new_post_into_the_feed_until_unfollowed(
    make_account, database: Database, bucket: Bucket, feed_worker: Worker
) -> None:
    reader, stranger = make_account(), make_account()
    name = fresh_tag()
    earlier = new_post(stranger, database, bucket, f"first #{name}")
    assert feed_ids(reader.client) == []
    assert_no_content(reader.client.put(f"/hashtags/{name}/follow"))
    position = outbox_position(database)
    later = new_post(stranger, database, bucket, f"the sea at dusk #{name.upper()}")
    untagged = new_post(stranger, database, bucket, "no tag")
    # The real worker runs on every event; it materialises nothing for the reader.
    feed_worker.deliver_all(outbox_rows(database, position))
    assert feed_ids(reader.client) == [later, earlier]
    assert untagged not in feed_ids(reader.client)
    [item, _] = reader.client.get("/feed").json()["items"]
    assert item == reader.client.get(f"/posts/{later}").json()
    assert (
        database.value(
            "SELECT count(*) FROM feed f JOIN users u ON u.id = f.user_id WHERE u.username = :u",
            u=reader.username,
        )
        == 0
    )

    assert_no_content(reader.client.delete(f"/hashtags/{name}/follow"))
    assert feed_ids(reader.client) == []


def test_a_post_from_several_sources_appears_once(
    make_account, database: Database, bucket: Bucket, feed_worker: Worker
) -> None:
    reader, author, celebrity = make_account(), make_account(), make_account()
    database.rows("UPDATE users SET is_celebrity = true WHERE username = :u", u=celebrity.username)
    first, second = fresh_tag(), fresh_tag()
    for followee in (author, celebrity):
        assert_no_content(reader.client.post(f"/users/{followee.username}/follow"))
    position = outbox_position(database)
    # Materialised (followed author), live (celebrity) and the reader's own, each tagged twice.
    posts = [
        new_post(poster, database, bucket, f"#{first} #{second}")
        for poster in (author, celebrity, reader)
    ]
    feed_worker.deliver_all(outbox_rows(database, position))
    for name in (first, second):
        assert_no_content(reader.client.put(f"/hashtags/{name}/follow"))
    assert feed_ids(reader.client) == posts[::-1]
    for limit in (1, 2, 50):
        pages = walk(reader.client, "/feed", limit)
        assert [item["publicId"] for page in pages for item in page] == posts[::-1], limit


def test_pages_merge_tags_with_the_other_branches_in_order_without_gaps_or_repeats(
    make_account, database: Database, feed_worker: Worker
) -> None:
    reader, followee, stranger, other = (make_account() for _ in range(4))
    first, second = fresh_tag(), fresh_tag()
    moment = datetime.now(UTC) - timedelta(hours=1)
    followed = sql_posts(database, followee.username, 3, moment)
    position = outbox_position(database)
    assert_no_content(reader.client.post(f"/users/{followee.username}/follow"))
    feed_worker.deliver_all(outbox_rows(database, position))  # backfilled: materialised
    own = sql_posts(database, reader.username, 2, moment)
    tagged = sql_posts(database, stranger.username, 3, moment)
    both = sql_posts(database, other.username, 2, moment)
    later = sql_posts(database, stranger.username, 1, moment + timedelta(minutes=1))
    earlier = sql_posts(database, other.username, 2, moment - timedelta(minutes=1))
    old = sql_posts(database, stranger.username, 1, moment - timedelta(days=91))
    tag_posts(database, first, tagged + later + both + old + followed[:1])
    tag_posts(database, second, both + earlier + own[:1])
    for name in (first, second):
        assert_no_content(reader.client.put(f"/hashtags/{name}/follow"))
    # Equal times across every source: the internal id (creation order) breaks ties; a
    # tagged post older than the live window is not merged, as a celebrity's is not.
    expected = later + (followed + own + tagged + both)[::-1] + earlier[::-1]
    for limit in (1, 2, 3, 5, 50):
        pages = walk(reader.client, "/feed", limit)
        assert [item["publicId"] for page in pages for item in page] == expected, limit


def test_only_the_most_recently_followed_tags_are_merged(
    make_account, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader, stranger = make_account(), make_account()
    names = [fresh_tag() for _ in range(3)]
    posts = sql_posts(database, stranger.username, 3, datetime.now(UTC) - timedelta(hours=1))
    for name, public_id in zip(names, posts, strict=True):
        tag_posts(database, name, [public_id])
    reader_id = database.value("SELECT id FROM users WHERE username = :u", u=reader.username)
    for age, name in enumerate(names):  # names[0] followed last
        database.rows(
            "INSERT INTO hashtag_follows (user_id, hashtag_id, created) "
            "SELECT :u, id, now() - make_interval(mins => :age) FROM hashtags WHERE name = :n",
            u=reader_id,
            age=age,
            n=name,
        )
    assert feed_ids(reader.client) == posts[::-1]
    monkeypatch.setattr(Limits, "FEED_FOLLOWED_HASHTAGS_MERGED", 2)
    assert feed_ids(reader.client) == posts[1::-1]
