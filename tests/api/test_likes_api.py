"""`likes` function over HTTP against the real stack (docs/api.md §8, §14.2; docs/domain.md §5)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from phasma.likes import actions
from tests.api.conftest import Account, Api, Bucket, Database
from tests.api.posting import (
    BAD_PAGINATION,
    POST_FIELDS,
    assert_error,
    assert_no_content,
    content_state,
    events_since,
    new_post,
    outbox_position,
    sql_posts,
    user_id,
    walk,
)


def like_count(database: Database, public_id: str) -> int:
    return int(
        database.value(
            "SELECT like_count FROM posts WHERE public_id = CAST(:p AS uuid)", p=public_id
        )
    )


def likes_of(database: Database, public_id: str) -> int:
    return int(
        database.value(
            "SELECT count(*) FROM likes l JOIN posts p ON p.id = l.post_id "
            "WHERE p.public_id = CAST(:p AS uuid)",
            p=public_id,
        )
    )


def public_user_id(database: Database, username: str) -> str:
    return str(database.value("SELECT public_id::text FROM users WHERE username = :u", u=username))


@pytest.fixture
def post(make_account, database: Database, bucket: Bucket) -> tuple[Account, str]:
    """Someone's post: (author, publicId)."""
    author = make_account()
    return author, new_post(author, database, bucket)


def test_like_counts_once_and_emits_one_event(
    account: Account, post: tuple[Account, str], database: Database
) -> None:
    author, public_id = post
    position = outbox_position(database)
    assert_no_content(account.client.post(f"/posts/{public_id}/likes"))
    assert (like_count(database, public_id), likes_of(database, public_id)) == (1, 1)
    events = events_since(database, position)
    assert len(events) == 1
    event = events[0]
    assert (event["type"], event["topic"], event["source"]) == (
        "phasma.post.liked",
        "activity",
        "/phasma/likes",
    )
    assert event["subject"] == event["partition_key"] == public_id
    assert event["payload"] == {
        "postId": public_id,
        "actorId": public_user_id(database, account.username),
        "recipientId": public_user_id(database, author.username),
    }

    # Liking again is a no-op: no row, no counter change, no event.
    before = content_state(database)
    assert_no_content(account.client.post(f"/posts/{public_id}/likes"))
    assert content_state(database) == before


def test_unlike_removes_the_like_once_and_emits_one_event(
    account: Account, post: tuple[Account, str], database: Database
) -> None:
    author, public_id = post
    assert_no_content(account.client.post(f"/posts/{public_id}/likes"))
    position = outbox_position(database)
    assert_no_content(account.client.delete(f"/posts/{public_id}/likes"))
    assert (like_count(database, public_id), likes_of(database, public_id)) == (0, 0)
    events = events_since(database, position)
    assert [(event["type"], event["topic"]) for event in events] == [
        ("phasma.post.unliked", "activity")
    ]
    assert events[0]["payload"] == {
        "postId": public_id,
        "actorId": public_user_id(database, account.username),
        "recipientId": public_user_id(database, author.username),
    }

    # Unliking what is not liked is a no-op.
    before = content_state(database)
    assert_no_content(account.client.delete(f"/posts/{public_id}/likes"))
    assert content_state(database) == before


def test_a_like_that_fails_to_record_its_event_writes_nothing(
    account: Account,
    post: tuple[Account, str],
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, public_id = post

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("injected after the like row and the counter were written")

    monkeypatch.setattr(actions, "record_event", fail)
    before = content_state(database)
    assert_error(account.client.post(f"/posts/{public_id}/likes"), 500)
    assert content_state(database) == before


def test_authors_may_like_their_own_posts(
    account: Account, database: Database, bucket: Bucket
) -> None:
    public_id = new_post(account, database, bucket)
    assert_no_content(account.client.post(f"/posts/{public_id}/likes"))
    assert like_count(database, public_id) == 1
    assert account.client.get(f"/posts/{public_id}").json()["liked"] is True


def test_likes_ignore_any_body_and_content_type(
    account: Account, post: tuple[Account, str], database: Database
) -> None:
    _, public_id = post
    response = account.client.post(
        f"/posts/{public_id}/likes", data=b"not json", headers={"Content-Type": "text/plain"}
    )
    assert_no_content(response)
    assert like_count(database, public_id) == 1


def test_concurrent_likes_by_one_user_count_once(
    account: Account, post: tuple[Account, str], database: Database
) -> None:
    _, public_id = post
    statuses: list[int] = []
    start = threading.Barrier(6)  # all six requests leave together

    def like() -> None:
        start.wait()
        statuses.append(account.client.post(f"/posts/{public_id}/likes").status_code)

    threads = [threading.Thread(target=like) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [204] * 6
    assert (like_count(database, public_id), likes_of(database, public_id)) == (1, 1)


def test_unlike_never_takes_the_counter_below_zero(
    account: Account, post: tuple[Account, str], database: Database
) -> None:
    _, public_id = post
    assert_no_content(account.client.post(f"/posts/{public_id}/likes"))
    database.rows("UPDATE posts SET like_count = 0 WHERE public_id = CAST(:p AS uuid)", p=public_id)
    assert_no_content(account.client.delete(f"/posts/{public_id}/likes"))
    assert like_count(database, public_id) == 0


@pytest.mark.parametrize("method", ["POST", "DELETE"])
@pytest.mark.parametrize(
    ("post_id", "status"),
    [("not-a-uuid", 400), ("1234", 400), ("9f1c2d3e-4b5a-4c6d-8e7f-a0b1c2d3e4f5", 404)],
)
def test_likes_reject_malformed_and_unknown_post_ids(
    account: Account, database: Database, method: str, post_id: str, status: int
) -> None:
    before = content_state(database)
    assert_error(account.client.request(method, f"/posts/{post_id}/likes"), status)
    assert content_state(database) == before


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_likes_require_a_session(
    api: Api, post: tuple[Account, str], database: Database, method: str
) -> None:
    _, public_id = post
    before = content_state(database)
    assert_error(api.request(method, f"/posts/{public_id}/likes"), 401)
    assert content_state(database) == before


# -- GET /users/{username}/likes ------------------------------------------------------


def test_liked_posts_are_listed_by_like_time_newest_first(
    account: Account, make_account, database: Database, bucket: Bucket
) -> None:
    author = make_account()
    first, second = new_post(author, database, bucket), new_post(author, database, bucket)
    for public_id in (second, first):  # like order differs from post order
        assert_no_content(account.client.post(f"/posts/{public_id}/likes"))
    response = account.client.get(f"/users/{account.username}/likes")
    assert response.status_code == 200
    body = response.json()
    assert body["nextCursor"] is None
    assert [item["publicId"] for item in body["items"]] == [first, second]
    assert all(set(item) == POST_FIELDS for item in body["items"])
    assert body["items"][0]["username"] == author.username
    assert body["items"][0]["liked"] is True


def test_liked_posts_break_like_time_ties_by_post_and_page_stably(
    account: Account, make_account, database: Database
) -> None:
    author = make_account()
    posts = sql_posts(database, author.username, 7, datetime.now(UTC))
    moment = datetime(2026, 4, 1, 8, 30, 0, 250000, tzinfo=UTC)
    liker = user_id(database, account.username)
    for index, public_id in enumerate(posts):
        created = moment if index < 5 else moment - timedelta(minutes=index)
        database.rows(
            "INSERT INTO likes (post_id, user_id, created) "
            "SELECT id, :u, :c FROM posts WHERE public_id = CAST(:p AS uuid)",
            u=liker,
            c=created,
            p=public_id,
        )
    expected = posts[4::-1] + posts[5:]
    for limit in (1, 2, 3, 50):
        pages = walk(account.client, f"/users/{account.username}/likes", limit)
        assert [post["publicId"] for page in pages for post in page] == expected, limit


def test_a_users_likes_are_private_to_that_user(
    account: Account, make_account, database: Database, bucket: Bucket
) -> None:
    author, viewer = make_account(), make_account()
    public_id = new_post(author, database, bucket)
    assert_no_content(account.client.post(f"/posts/{public_id}/likes"))
    for path in (f"/users/{account.username}/likes", f"/users/{account.username.upper()}/likes"):
        response = viewer.client.get(path)
        assert response.status_code == 403
        assert response.json() == {"message": "Likes are visible to their owner only"}
    own = account.client.get(f"/users/{account.username.upper()}/likes").json()["items"]
    assert [item["publicId"] for item in own] == [public_id]
    # The count on the profile stays public.
    assert viewer.client.get(f"/users/{account.username}").json()["likes"] == 1


def test_a_deleted_post_leaves_the_likes_list(
    account: Account, make_account, database: Database, bucket: Bucket
) -> None:
    author = make_account()
    public_id = new_post(author, database, bucket)
    assert_no_content(account.client.post(f"/posts/{public_id}/likes"))
    assert_no_content(author.client.delete(f"/posts/{public_id}"))
    body = account.client.get(f"/users/{account.username}/likes").json()
    assert body == {"items": [], "nextCursor": None}


def test_liked_list_limit_defaults_to_10_and_clamps_to_50(
    account: Account, make_account, database: Database
) -> None:
    author = make_account()
    sql_posts(database, author.username, 52, datetime.now(UTC))
    database.rows(
        "INSERT INTO likes (post_id, user_id) SELECT p.id, :u FROM posts p "
        "JOIN users a ON a.id = p.user_id WHERE a.username = :a",
        u=user_id(database, account.username),
        a=author.username,
    )
    path = f"/users/{account.username}/likes"
    default: dict[str, Any] = account.client.get(path).json()
    assert len(default["items"]) == 10 and default["nextCursor"]
    clamped = account.client.get(path, params={"limit": 51}).json()
    assert len(clamped["items"]) == 50 and clamped["nextCursor"]


@pytest.mark.parametrize("name", ["nobody_here_at_all", "a!", "ab", "x" * 31])
def test_likes_of_unknown_or_impossible_users_are_404(account: Account, name: str) -> None:
    assert_error(account.client.get(f"/users/{name}/likes"), 404)


@pytest.mark.parametrize("params", BAD_PAGINATION)
def test_liked_list_rejects_bad_pagination(account: Account, params: dict[str, str]) -> None:
    assert_error(account.client.get(f"/users/{account.username}/likes", params=params), 400)


def test_liked_list_requires_a_session(api: Api, account: Account) -> None:
    response = api.get(f"/users/{account.username}/likes")
    assert (response.status_code, response.json()) == (401, {"message": "Unauthorized"})
