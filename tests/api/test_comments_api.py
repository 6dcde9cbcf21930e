"""`comments` function over HTTP against the real stack.

The rules: docs/api.md §8, §9.3 and §14.3; docs/domain.md §2.5.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from phasma.comments import actions
from tests.api.conftest import Account, Api, Bucket, Database
from tests.api.posting import (
    BAD_PAGINATION,
    assert_error,
    assert_no_content,
    content_state,
    events_since,
    new_post,
    outbox_position,
    walk,
)

COMMENT_FIELDS = {"id", "username", "avatar", "body", "created"}


def comment_count(database: Database, public_id: str) -> int:
    return int(
        database.value(
            "SELECT comment_count FROM posts WHERE public_id = CAST(:p AS uuid)", p=public_id
        )
    )


def public_user_id(database: Database, username: str) -> str:
    return str(database.value("SELECT public_id::text FROM users WHERE username = :u", u=username))


def sql_comments(
    database: Database, public_id: str, username: str, count: int, created: datetime
) -> list[str]:
    """`count` comments by `username`, all at `created`; their ids, oldest id first."""
    rows = database.rows(
        """
        INSERT INTO comments (post_id, user_id, body, created)
        SELECT p.id, u.id, 'comment ' || n, :created
        FROM posts p, users u, generate_series(1, :count) AS n
        WHERE p.public_id = CAST(:post AS uuid) AND u.username = :username
        RETURNING id, public_id
        """,
        post=public_id,
        username=username,
        count=count,
        created=created,
    )
    return [str(comment_id) for _, comment_id in sorted(rows)]


@pytest.fixture
def post(make_account, database: Database, bucket: Bucket) -> tuple[Account, str]:
    """Someone's post: (author, publicId)."""
    author = make_account()
    return author, new_post(author, database, bucket)


def comment_on(client: Api, public_id: str, body: str = "Nice!") -> dict[str, Any]:
    response = client.post(f"/posts/{public_id}/comments", json={"body": body})
    assert response.status_code == 201, response.text
    comment: dict[str, Any] = response.json()
    return comment


# -- POST /posts/{id}/comments -----------------------------------------------------


def test_comment_is_created_counted_and_announced(
    account: Account, post: tuple[Account, str], database: Database
) -> None:
    author, public_id = post
    position = outbox_position(database)
    response = account.client.post(f"/posts/{public_id}/comments", json={"body": "  Nice! \n"})
    assert response.status_code == 201, response.text
    comment = response.json()
    assert set(comment) == COMMENT_FIELDS
    assert (comment["username"], comment["avatar"], comment["body"]) == (
        account.username,
        None,
        "Nice!",
    )
    assert str(uuid.UUID(comment["id"])) == comment["id"]
    assert comment["created"].endswith("Z")
    assert comment_count(database, public_id) == 1
    stored = database.value(
        "SELECT body FROM comments WHERE public_id = CAST(:c AS uuid)", c=comment["id"]
    )
    assert stored == "Nice!"
    events = events_since(database, position)
    assert len(events) == 1
    event = events[0]
    assert (event["type"], event["topic"], event["source"]) == (
        "phasma.comment.created",
        "activity",
        "/phasma/comments",
    )
    # Subject is the comment, the key the post: one post's comment events stay in order.
    assert (event["subject"], event["partition_key"]) == (comment["id"], public_id)
    assert event["payload"] == {
        "commentId": comment["id"],
        "postId": public_id,
        "actorId": public_user_id(database, account.username),
        "recipientId": public_user_id(database, author.username),
    }
    assert account.client.get(f"/posts/{public_id}").json()["comments"] == 1


def test_a_comment_that_fails_to_record_its_event_writes_nothing(
    account: Account,
    post: tuple[Account, str],
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, public_id = post

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("injected after the comment row and the counter were written")

    monkeypatch.setattr(actions, "record_event", fail)
    before = content_state(database)
    assert_error(account.client.post(f"/posts/{public_id}/comments", json={"body": "hi"}), 500)
    assert content_state(database) == before


def test_a_comment_of_exactly_400_characters_is_accepted(
    account: Account, post: tuple[Account, str]
) -> None:
    _, public_id = post
    body = "é" * 400
    assert comment_on(account.client, public_id, f" {body} ")["body"] == body


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"body": ""},
        {"body": " \t\n "},
        {"body": None},
        {"body": "x" * 401},
        {"body": 42},
        {"body": ["Nice"]},
        {"body": "nul \x00 inside"},
    ],
)
def test_bad_comment_bodies_are_400_and_write_nothing(
    account: Account, post: tuple[Account, str], database: Database, body: dict[str, Any]
) -> None:
    _, public_id = post
    before = content_state(database)
    assert_error(account.client.post(f"/posts/{public_id}/comments", json=body), 400)
    assert content_state(database) == before


@pytest.mark.parametrize(
    ("headers", "data", "status"),
    [
        ({"Content-Type": "text/plain"}, b'{"body": "x"}', 415),
        ({}, None, 415),
        ({"Content-Type": "application/json"}, b"", 400),
        ({"Content-Type": "application/json"}, b"{oops", 400),
        ({"Content-Type": "application/json"}, b'"body"', 400),
        ({"Content-Type": "application/json"}, b'{"body": "' + b"x" * 102_400 + b'"}', 413),
    ],
)
def test_malformed_comment_requests_are_rejected_and_write_nothing(
    account: Account,
    post: tuple[Account, str],
    database: Database,
    headers: dict[str, str],
    data: bytes | None,
    status: int,
) -> None:
    _, public_id = post
    before = content_state(database)
    response = account.client.post(f"/posts/{public_id}/comments", data=data, headers=headers)
    assert_error(response, status)
    assert content_state(database) == before


@pytest.mark.parametrize(
    ("headers", "data"),
    [
        ({"Content-Type": "application/json"}, b'{"body": "fine"}'),
        ({"Content-Type": "text/plain"}, b"anything"),  # the id check comes before the 415
        ({"Content-Type": "application/json"}, b'{"body": "' + b"x" * 102_400 + b'"}'),
    ],
)
def test_a_malformed_post_id_is_400_before_any_body_check(
    account: Account, database: Database, headers: dict[str, str], data: bytes
) -> None:
    before = content_state(database)
    response = account.client.post("/posts/not-a-uuid/comments", data=data, headers=headers)
    assert_error(response, 400)
    assert content_state(database) == before


def test_commenting_on_an_unknown_post_is_404_after_body_checks(
    account: Account, database: Database
) -> None:
    before = content_state(database)
    path = f"/posts/{uuid.uuid4()}/comments"
    assert_error(account.client.post(path, json={"body": "hello"}), 404)
    assert_error(account.client.post(path, json={"body": " "}), 400)
    assert content_state(database) == before


def test_commenting_requires_a_session(
    api: Api, post: tuple[Account, str], database: Database
) -> None:
    _, public_id = post
    before = content_state(database)
    assert_error(api.post(f"/posts/{public_id}/comments", json={"body": "hi"}), 401)
    assert content_state(database) == before


# -- GET /posts/{id}/comments --------------------------------------------------------


def test_comments_are_newest_first_with_ids_breaking_timestamp_ties(
    account: Account, post: tuple[Account, str], database: Database
) -> None:
    _, public_id = post
    moment = datetime(2026, 5, 1, 9, 0, 0, 500, tzinfo=UTC)
    older = sql_comments(database, public_id, account.username, 2, moment - timedelta(hours=1))
    tied = sql_comments(database, public_id, account.username, 5, moment)
    expected = tied[::-1] + older[::-1]
    for limit in (1, 2, 4, 50):
        pages = walk(account.client, f"/posts/{public_id}/comments", limit)
        listed = [comment["id"] for page in pages for comment in page]
        assert listed == expected, limit
    first = walk(account.client, f"/posts/{public_id}/comments", 50)[0][0]
    assert set(first) == COMMENT_FIELDS
    assert first["username"] == account.username


def test_comment_list_shows_the_commenters_current_profile(
    account: Account, post: tuple[Account, str], database: Database
) -> None:
    _, public_id = post
    comment_on(account.client, public_id)
    database.rows(
        "UPDATE users SET avatar = :a WHERE username = :u", a="b" * 32, u=account.username
    )
    items = account.client.get(f"/posts/{public_id}/comments").json()["items"]
    assert items[0]["avatar"] == "b" * 32


def test_comment_list_limit_defaults_to_10_and_clamps_to_50(
    account: Account, post: tuple[Account, str], database: Database
) -> None:
    _, public_id = post
    sql_comments(database, public_id, account.username, 53, datetime.now(UTC))
    path = f"/posts/{public_id}/comments"
    default = account.client.get(path).json()
    assert len(default["items"]) == 10 and default["nextCursor"]
    clamped = account.client.get(path, params={"limit": "1000"}).json()
    assert len(clamped["items"]) == 50 and clamped["nextCursor"]


def test_a_post_without_comments_has_an_empty_page(
    account: Account, post: tuple[Account, str]
) -> None:
    _, public_id = post
    response = account.client.get(f"/posts/{public_id}/comments")
    assert response.status_code == 200
    assert response.json() == {"items": [], "nextCursor": None}


def test_comment_list_rejects_malformed_and_unknown_posts(account: Account) -> None:
    assert_error(account.client.get("/posts/not-a-uuid/comments"), 400)
    assert_error(account.client.get(f"/posts/{uuid.uuid4()}/comments"), 404)


@pytest.mark.parametrize("params", BAD_PAGINATION)
def test_comment_list_rejects_bad_pagination(
    account: Account, post: tuple[Account, str], params: dict[str, str]
) -> None:
    _, public_id = post
    assert_error(account.client.get(f"/posts/{public_id}/comments", params=params), 400)


def test_anonymous_visitors_read_comments_as_signed_in_viewers_do(
    api: Api, account: Account, post: tuple[Account, str]
) -> None:
    """Public reading (docs/api.md §F): the list is optional-session, so a shared link works."""
    _, public_id = post
    comment_on(account.client, public_id, "First!")
    comment_on(account.client, public_id, "Second.")
    path = f"/posts/{public_id}/comments"
    signed_in = account.client.get(path)
    assert signed_in.status_code == 200
    assert "session=" in signed_in.headers["set-cookie"]
    # No cookie, and a cookie no session has: both anonymous, neither refused nor cleared.
    for cookies in ({}, {"session": "x" * 28}):
        anonymous = api.get(path, cookies=cookies)
        assert anonymous.status_code == 200
        assert anonymous.json() == signed_in.json()
        assert "set-cookie" not in anonymous.headers
    assert [item["body"] for item in signed_in.json()["items"]] == ["Second.", "First!"]


def test_anonymous_comment_reads_still_reject_malformed_and_unknown_posts(api: Api) -> None:
    assert_error(api.get("/posts/not-a-uuid/comments"), 400)
    assert_error(api.get(f"/posts/{uuid.uuid4()}/comments"), 404)


# -- DELETE /posts/{id}/comments/{commentId} --------------------------------------------


def test_the_commenter_may_delete_their_comment(
    account: Account, post: tuple[Account, str], database: Database
) -> None:
    author, public_id = post
    comment = comment_on(account.client, public_id)
    position = outbox_position(database)
    assert_no_content(account.client.delete(f"/posts/{public_id}/comments/{comment['id']}"))
    assert comment_count(database, public_id) == 0
    assert (
        database.value(
            "SELECT count(*) FROM comments WHERE public_id = CAST(:c AS uuid)", c=comment["id"]
        )
        == 0
    )
    events = events_since(database, position)
    assert len(events) == 1
    event = events[0]
    assert (event["type"], event["topic"], event["source"]) == (
        "phasma.comment.deleted",
        "activity",
        "/phasma/comments",
    )
    assert (event["subject"], event["partition_key"]) == (comment["id"], public_id)
    assert event["payload"] == {
        "commentId": comment["id"],
        "postId": public_id,
        "actorId": public_user_id(database, account.username),
        "recipientId": public_user_id(database, author.username),
    }


def test_the_posts_author_may_delete_anyones_comment_on_it(
    account: Account, post: tuple[Account, str], database: Database
) -> None:
    author, public_id = post
    comment = comment_on(account.client, public_id)
    position = outbox_position(database)
    assert_no_content(author.client.delete(f"/posts/{public_id}/comments/{comment['id']}"))
    assert comment_count(database, public_id) == 0
    [event] = events_since(database, position)
    # The actor is whoever deleted it: here the post's author, who is also the recipient.
    author_id = public_user_id(database, author.username)
    assert (event["payload"]["actorId"], event["payload"]["recipientId"]) == (author_id, author_id)


def test_nobody_else_may_delete_a_comment(
    account: Account, make_account, post: tuple[Account, str], database: Database
) -> None:
    _, public_id = post
    comment = comment_on(account.client, public_id)
    stranger = make_account()
    before = content_state(database)
    assert_error(stranger.client.delete(f"/posts/{public_id}/comments/{comment['id']}"), 403)
    assert content_state(database) == before


def test_a_comment_is_only_found_on_its_own_post(
    account: Account, make_account, post: tuple[Account, str], database: Database, bucket: Bucket
) -> None:
    _, public_id = post
    comment = comment_on(account.client, public_id)
    own_post = new_post(account, database, bucket)  # the caller even owns this other post
    before = content_state(database)
    response = account.client.delete(f"/posts/{own_post}/comments/{comment['id']}")
    assert_error(response, 404)
    assert_error(account.client.delete(f"/posts/{public_id}/comments/{uuid.uuid4()}"), 404)
    assert_error(account.client.delete(f"/posts/{uuid.uuid4()}/comments/{comment['id']}"), 404)
    assert content_state(database) == before


@pytest.mark.parametrize(
    ("post_id", "comment_id"),
    [
        ("not-a-uuid", "3b0c8f6e-2f4d-4e1a-9c3b-5d6e7f8a9b0c"),
        ("3b0c8f6e-2f4d-4e1a-9c3b-5d6e7f8a9b0c", "not-a-uuid"),
        ("123", "456"),
    ],
)
def test_comment_delete_rejects_malformed_ids(
    account: Account, database: Database, post_id: str, comment_id: str
) -> None:
    before = content_state(database)
    assert_error(account.client.delete(f"/posts/{post_id}/comments/{comment_id}"), 400)
    assert content_state(database) == before


def test_deleting_twice_is_404_the_second_time(
    account: Account, post: tuple[Account, str], database: Database
) -> None:
    _, public_id = post
    comment = comment_on(account.client, public_id)
    path = f"/posts/{public_id}/comments/{comment['id']}"
    assert_no_content(account.client.delete(path))
    before = content_state(database)
    assert_error(account.client.delete(path), 404)
    assert content_state(database) == before


def test_comment_delete_never_takes_the_counter_below_zero(
    account: Account, post: tuple[Account, str], database: Database
) -> None:
    _, public_id = post
    comment = comment_on(account.client, public_id)
    database.rows(
        "UPDATE posts SET comment_count = 0 WHERE public_id = CAST(:p AS uuid)", p=public_id
    )
    assert_no_content(account.client.delete(f"/posts/{public_id}/comments/{comment['id']}"))
    assert comment_count(database, public_id) == 0


def test_comment_delete_requires_a_session(
    api: Api, account: Account, post: tuple[Account, str], database: Database
) -> None:
    _, public_id = post
    comment = comment_on(account.client, public_id)
    before = content_state(database)
    assert_error(api.delete(f"/posts/{public_id}/comments/{comment['id']}"), 401)
    assert content_state(database) == before
