"""Bookmarks over HTTP against the real stack (docs/api.md §F): save, unsave, the saved list."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.conftest import Account, Api, Bucket, Database
from tests.api.posting import (
    BAD_PAGINATION,
    POST_FIELDS,
    assert_error,
    assert_no_content,
    content_state,
    new_post,
    outbox_position,
    sql_posts,
    user_id,
    walk,
)

SAVED = "/users/me/bookmarks"


def bookmarks_of(database: Database, username: str) -> list[str]:
    """The publicIds `username` saved, newest bookmark first (straight from the table)."""
    rows = database.rows(
        "SELECT p.public_id::text FROM bookmarks b JOIN posts p ON p.id = b.post_id "
        "JOIN users u ON u.id = b.user_id WHERE u.username = :u "
        "ORDER BY b.created DESC, b.post_id DESC",
        u=username,
    )
    return [public_id for [public_id] in rows]


def bookmark_time(database: Database, public_id: str) -> Any:
    return database.value(
        "SELECT b.created FROM bookmarks b JOIN posts p ON p.id = b.post_id "
        "WHERE p.public_id = CAST(:p AS uuid)",
        p=public_id,
    )


def saved_ids(account: Account) -> list[str]:
    response = account.client.get(SAVED, params={"limit": 50})
    assert response.status_code == 200, response.text
    return [item["publicId"] for item in response.json()["items"]]


@pytest.fixture
def post(make_account, database: Database, bucket: Bucket) -> tuple[Account, str]:
    """Someone's post: (author, publicId)."""
    author = make_account()
    return author, new_post(author, database, bucket)


# -- PUT and DELETE /posts/{id}/bookmark ----------------------------------------------


def test_saving_twice_keeps_one_bookmark_and_records_no_event(
    account: Account, post: tuple[Account, str], database: Database
) -> None:
    _, public_id = post
    position = outbox_position(database)
    assert_no_content(account.client.put(f"/posts/{public_id}/bookmark"))
    assert bookmarks_of(database, account.username) == [public_id]
    created = bookmark_time(database, public_id)

    # Again: the same single row with its first time, nothing else written.
    before = content_state(database)
    assert_no_content(account.client.put(f"/posts/{public_id}/bookmark"))
    assert content_state(database) == before
    assert bookmark_time(database, public_id) == created
    # Private and consequence-free: no outbox row, so no notification or feed change.
    assert outbox_position(database) == position


def test_unsaving_twice_removes_the_bookmark_once(
    account: Account, post: tuple[Account, str], database: Database
) -> None:
    _, public_id = post
    assert_no_content(account.client.put(f"/posts/{public_id}/bookmark"))
    position = outbox_position(database)
    assert_no_content(account.client.delete(f"/posts/{public_id}/bookmark"))
    assert bookmarks_of(database, account.username) == []
    before = content_state(database)
    assert_no_content(account.client.delete(f"/posts/{public_id}/bookmark"))
    assert content_state(database) == before
    assert outbox_position(database) == position


def test_bookmarks_are_per_user_and_own_posts_may_be_saved(
    account: Account, post: tuple[Account, str], database: Database
) -> None:
    author, public_id = post
    assert_no_content(author.client.put(f"/posts/{public_id}/bookmark"))
    assert_no_content(account.client.put(f"/posts/{public_id}/bookmark"))
    assert_no_content(author.client.delete(f"/posts/{public_id}/bookmark"))
    assert bookmarks_of(database, author.username) == []
    assert bookmarks_of(database, account.username) == [public_id]


def test_bookmarks_ignore_any_body_and_content_type(
    account: Account, post: tuple[Account, str], database: Database
) -> None:
    _, public_id = post
    response = account.client.put(
        f"/posts/{public_id}/bookmark", data=b"not json", headers={"Content-Type": "text/plain"}
    )
    assert_no_content(response)
    assert bookmarks_of(database, account.username) == [public_id]


def test_concurrent_saves_by_one_user_keep_one_row(
    account: Account, post: tuple[Account, str], database: Database
) -> None:
    _, public_id = post
    statuses: list[int] = []
    start = threading.Barrier(6)  # all six requests leave together

    def save() -> None:
        start.wait()
        statuses.append(account.client.put(f"/posts/{public_id}/bookmark").status_code)

    threads = [threading.Thread(target=save) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [204] * 6
    assert bookmarks_of(database, account.username) == [public_id]


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
@pytest.mark.parametrize(
    ("post_id", "status"),
    [("not-a-uuid", 400), ("1234", 400), ("9f1c2d3e-4b5a-4c6d-8e7f-a0b1c2d3e4f5", 404)],
)
def test_bookmarks_reject_malformed_and_unknown_post_ids(
    account: Account, database: Database, method: str, post_id: str, status: int
) -> None:
    before = content_state(database)
    assert_error(account.client.request(method, f"/posts/{post_id}/bookmark"), status)
    assert content_state(database) == before


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_bookmarks_require_a_session(
    api: Api, post: tuple[Account, str], database: Database, method: str
) -> None:
    _, public_id = post
    before = content_state(database)
    assert_error(api.request(method, f"/posts/{public_id}/bookmark"), 401)
    assert content_state(database) == before


def test_bookmark_answers_405_to_other_methods(
    account: Account, post: tuple[Account, str], database: Database
) -> None:
    _, public_id = post
    before = content_state(database)
    response = account.client.post(f"/posts/{public_id}/bookmark")
    assert_error(response, 405)
    assert set(response.headers["allow"].replace(" ", "").split(",")) >= {"PUT", "DELETE"}
    assert content_state(database) == before


def test_deleting_a_post_deletes_its_bookmarks(
    account: Account, make_account, post: tuple[Account, str], database: Database
) -> None:
    author, public_id = post
    other = make_account()
    for saver in (account, other):
        assert_no_content(saver.client.put(f"/posts/{public_id}/bookmark"))
    assert database.counts("bookmarks")["bookmarks"] >= 2
    assert_no_content(author.client.delete(f"/posts/{public_id}"))
    assert bookmarks_of(database, account.username) == []
    assert bookmarks_of(database, other.username) == []
    assert account.client.get(SAVED).json() == {"items": [], "nextCursor": None}


# -- `bookmarked` on the Post shape -----------------------------------------------------


def test_bookmarked_is_the_viewers_own_on_the_post_page(
    api: Api, account: Account, make_account, post: tuple[Account, str]
) -> None:
    _, public_id = post
    other = make_account()
    assert_no_content(account.client.put(f"/posts/{public_id}/bookmark"))
    saved = account.client.get(f"/posts/{public_id}").json()
    assert set(saved) == POST_FIELDS
    assert saved["bookmarked"] is True
    assert other.client.get(f"/posts/{public_id}").json()["bookmarked"] is False
    assert api.get(f"/posts/{public_id}").json()["bookmarked"] is False  # anonymous
    assert_no_content(account.client.delete(f"/posts/{public_id}/bookmark"))
    assert account.client.get(f"/posts/{public_id}").json()["bookmarked"] is False


def test_bookmarked_is_carried_by_every_list_of_posts(
    api: Api, account: Account, database: Database, bucket: Bucket
) -> None:
    saved, unsaved = new_post(account, database, bucket), new_post(account, database, bucket)
    assert_no_content(account.client.put(f"/posts/{saved}/bookmark"))
    for public_id in (saved, unsaved):
        assert_no_content(account.client.post(f"/posts/{public_id}/likes"))
    # Most liked of all, so other tests' posts cannot push them out of the popular 20.
    database.rows(
        "UPDATE posts SET like_count = 1000000 WHERE public_id = ANY(CAST(:ids AS uuid[]))",
        ids=[saved, unsaved],
    )
    expected = {saved: True, unsaved: False}

    def flags(items: list[dict[str, Any]]) -> dict[str, bool]:
        assert all(set(item) == POST_FIELDS for item in items)
        return {
            item["publicId"]: item["bookmarked"] for item in items if item["publicId"] in expected
        }

    lists = {
        "feed": "/feed",
        "profile": f"/users/{account.username}/posts",
        "likes": f"/users/{account.username}/likes",
        "popular": "/posts/popular",
    }
    for name, path in lists.items():
        response = account.client.get(path)
        assert response.status_code == 200, (name, response.text)
        assert flags(response.json()["items"]) == expected, name
    anonymous = api.get(f"/users/{account.username}/posts").json()["items"]
    assert flags(anonymous) == {saved: False, unsaved: False}


# -- GET /users/me/bookmarks ----------------------------------------------------------


def test_saved_posts_are_listed_newest_bookmark_first(
    account: Account, make_account, database: Database, bucket: Bucket
) -> None:
    author = make_account()
    first, second, third = (new_post(author, database, bucket) for _ in range(3))
    for public_id in (second, third, first):  # bookmark order differs from post order
        assert_no_content(account.client.put(f"/posts/{public_id}/bookmark"))
    response = account.client.get(SAVED)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["nextCursor"] is None
    assert [item["publicId"] for item in body["items"]] == [first, third, second]
    assert all(set(item) == POST_FIELDS for item in body["items"])
    assert all(item["bookmarked"] is True for item in body["items"])
    assert body["items"][0]["username"] == author.username

    # Saving again does not move a post to the top.
    assert_no_content(account.client.put(f"/posts/{second}/bookmark"))
    assert saved_ids(account) == [first, third, second]


def test_saved_list_pages_by_bookmark_time_with_ties_broken_stably(
    account: Account, make_account, database: Database
) -> None:
    author = make_account()
    posts = sql_posts(database, author.username, 7, datetime.now(UTC))
    moment = datetime(2026, 4, 1, 8, 30, 0, 250000, tzinfo=UTC)
    saver = user_id(database, account.username)
    for index, public_id in enumerate(posts):
        created = moment if index < 5 else moment - timedelta(minutes=index)
        database.rows(
            "INSERT INTO bookmarks (user_id, post_id, created) "
            "SELECT :u, id, :c FROM posts WHERE public_id = CAST(:p AS uuid)",
            u=saver,
            c=created,
            p=public_id,
        )
    expected = posts[4::-1] + posts[5:]
    for limit in (1, 2, 3, 50):
        pages = walk(account.client, SAVED, limit)
        assert [post["publicId"] for page in pages for post in page] == expected, limit


def test_a_cursor_page_skips_what_was_saved_after_it(
    account: Account, make_account, database: Database, bucket: Bucket
) -> None:
    author = make_account()
    older, newer, latest = (new_post(author, database, bucket) for _ in range(3))
    for public_id in (older, newer):
        assert_no_content(account.client.put(f"/posts/{public_id}/bookmark"))
    first = account.client.get(SAVED, params={"limit": 1}).json()
    assert [item["publicId"] for item in first["items"]] == [newer]
    assert first["nextCursor"]
    assert_no_content(account.client.put(f"/posts/{latest}/bookmark"))
    rest = account.client.get(SAVED, params={"limit": 1, "cursor": first["nextCursor"]}).json()
    assert [item["publicId"] for item in rest["items"]] == [older]
    assert rest["nextCursor"] is None


def test_the_saved_list_is_only_the_callers(
    account: Account, make_account, post: tuple[Account, str]
) -> None:
    _, public_id = post
    other = make_account()
    assert_no_content(other.client.put(f"/posts/{public_id}/bookmark"))
    assert account.client.get(SAVED).json() == {"items": [], "nextCursor": None}
    assert saved_ids(other) == [public_id]
    # There is no way to name someone else's list: `me` is the only owner.
    assert_error(account.client.get(f"/users/{other.username}/bookmarks"), 404)


def test_saved_list_limit_defaults_to_10_and_clamps_to_50(
    account: Account, make_account, database: Database
) -> None:
    author = make_account()
    sql_posts(database, author.username, 52, datetime.now(UTC))
    database.rows(
        "INSERT INTO bookmarks (user_id, post_id) SELECT :u, p.id FROM posts p "
        "JOIN users a ON a.id = p.user_id WHERE a.username = :a",
        u=user_id(database, account.username),
        a=author.username,
    )
    default: dict[str, Any] = account.client.get(SAVED).json()
    assert len(default["items"]) == 10 and default["nextCursor"]
    clamped = account.client.get(SAVED, params={"limit": 51}).json()
    assert len(clamped["items"]) == 50 and clamped["nextCursor"]


@pytest.mark.parametrize("params", BAD_PAGINATION)
def test_saved_list_rejects_bad_pagination(account: Account, params: dict[str, str]) -> None:
    assert_error(account.client.get(SAVED, params=params), 400)


def test_saved_list_requires_a_session(api: Api) -> None:
    assert_error(api.get(SAVED), 401)
