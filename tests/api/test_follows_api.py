"""`follows` function over HTTP against the real stack.

The rules: docs/api.md §8 and §12; docs/domain.md §2.7 and §3.1.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.conftest import Account, Api, Database

FOLLOW_EVENTS = ("phasma.user.followed", "phasma.user.unfollowed")


def graph_state(database: Database) -> dict[str, Any]:
    """Everything a follow or unfollow may write: rows, counters, latches, events."""
    return {
        **database.counts("follows", "outbox"),
        "follower_total": database.value("SELECT coalesce(sum(follower_count), 0) FROM users"),
        "celebrities": database.value("SELECT count(*) FROM users WHERE is_celebrity"),
    }


def user_row(database: Database, username: str) -> dict[str, Any]:
    row = database.rows(
        "SELECT id, public_id, follower_count, is_celebrity FROM users WHERE username = :u",
        u=username,
    )[0]
    return dict(zip(("id", "public_id", "follower_count", "is_celebrity"), row, strict=True))


def follow_events(database: Database, followee: str) -> list[dict[str, Any]]:
    """The follow/unfollow outbox rows about `followee`, oldest first."""
    rows = database.rows(
        """
        SELECT o.type, o.topic, o.source, o.subject, o.partition_key, o.payload
        FROM outbox o JOIN users u ON o.subject = u.public_id::text
        WHERE u.username = :u AND o.type IN ('phasma.user.followed', 'phasma.user.unfollowed')
        ORDER BY o.id
        """,
        u=followee,
    )
    names = ("type", "topic", "source", "subject", "partition_key", "payload")
    return [dict(zip(names, row, strict=True)) for row in rows]


def assert_no_content(response: Any) -> None:
    assert response.status_code == 204, response.text
    assert response.content == b"" and "content-type" not in response.headers


def assert_error(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"message"} and isinstance(body["message"], str) and body["message"]


# -- follow / unfollow -------------------------------------------------------


def test_follow_counts_the_follower_and_emits_one_event(
    account: Account, make_account, database: Database
) -> None:
    followee = make_account()
    assert_no_content(account.client.post(f"/users/{followee.username}/follow"))

    target = user_row(database, followee.username)
    follower = user_row(database, account.username)
    assert target["follower_count"] == 1
    assert (
        database.value(
            "SELECT count(*) FROM follows WHERE follower_id = :a AND followee_id = :b",
            a=follower["id"],
            b=target["id"],
        )
        == 1
    )
    [event] = follow_events(database, followee.username)
    assert event["type"] == "phasma.user.followed"
    assert (event["topic"], event["source"]) == ("activity", "/phasma/follows")
    assert event["subject"] == event["partition_key"] == str(target["public_id"])
    assert event["payload"] == {
        "actorId": str(follower["public_id"]),
        "recipientId": str(target["public_id"]),
    }

    profile = account.client.get(f"/users/{followee.username}").json()
    assert (profile["followers"], profile["isFollowing"]) == (1, True)
    assert account.client.get("/users/me").json()["following"] == 1


def test_repeat_follow_is_a_no_op_without_an_event(
    account: Account, make_account, database: Database
) -> None:
    followee = make_account()
    assert_no_content(account.client.post(f"/users/{followee.username}/follow"))
    before = graph_state(database)
    assert_no_content(account.client.post(f"/users/{followee.username.upper()}/follow"))
    assert graph_state(database) == before
    assert user_row(database, followee.username)["follower_count"] == 1
    assert len(follow_events(database, followee.username)) == 1


def test_unfollow_removes_the_follow_and_emits_one_event(
    account: Account, make_account, database: Database
) -> None:
    followee = make_account()
    assert_no_content(account.client.post(f"/users/{followee.username}/follow"))
    assert_no_content(account.client.delete(f"/users/{followee.username}/follow"))

    target = user_row(database, followee.username)
    assert target["follower_count"] == 0
    remaining = database.value(
        "SELECT count(*) FROM follows WHERE followee_id = :b", b=target["id"]
    )
    assert remaining == 0
    events = follow_events(database, followee.username)
    assert [event["type"] for event in events] == list(FOLLOW_EVENTS)
    assert events[1]["payload"] == events[0]["payload"]
    assert events[1]["topic"] == "activity" and events[1]["source"] == "/phasma/follows"
    profile = account.client.get(f"/users/{followee.username}").json()
    assert (profile["followers"], profile["isFollowing"]) == (0, False)

    before = graph_state(database)
    assert_no_content(account.client.delete(f"/users/{followee.username}/follow"))
    assert graph_state(database) == before


def test_unfollowing_someone_never_followed_or_oneself_is_a_no_op(
    account: Account, make_account, database: Database
) -> None:
    stranger = make_account()
    before = graph_state(database)
    assert_no_content(account.client.delete(f"/users/{stranger.username}/follow"))
    assert_no_content(account.client.delete(f"/users/{account.username}/follow"))
    assert_no_content(account.client.delete(f"/users/{account.username.upper()}/follow"))
    assert graph_state(database) == before


@pytest.mark.parametrize("case", ["same", "upper"])
def test_following_oneself_is_rejected_and_writes_nothing(
    account: Account, database: Database, case: str
) -> None:
    username = account.username.upper() if case == "upper" else account.username
    before = graph_state(database)
    assert_error(account.client.post(f"/users/{username}/follow"), 400)
    assert graph_state(database) == before


@pytest.mark.parametrize("method", ["POST", "DELETE"])
@pytest.mark.parametrize(
    "username",
    ["ab", "a" * 31, "bad-name", "al!ce", "ali%0Ace", "ali%20ce", "%C3%A4bc", "alice%0A"],
)
def test_follow_routes_reject_names_no_account_can_have(
    account: Account, database: Database, method: str, username: str
) -> None:
    before = graph_state(database)
    assert_error(account.client.request(method, f"/users/{username}/follow"), 400)
    assert graph_state(database) == before


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_follow_routes_answer_404_for_unknown_users(
    account: Account, database: Database, method: str
) -> None:
    before = graph_state(database)
    response = account.client.request(method, f"/users/nobody_{secrets.token_hex(4)}/follow")
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}
    assert graph_state(database) == before


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_following_and_unfollowing_require_a_session(
    api: Api, account: Account, database: Database, method: str
) -> None:
    before = graph_state(database)
    response = api.request(method, f"/users/{account.username}/follow")
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}
    assert graph_state(database) == before


def test_follow_ignores_any_body_and_content_type(
    account: Account, make_account, database: Database
) -> None:
    followee = make_account()
    headers = {"Content-Type": "text/plain"}
    response = account.client.post(
        f"/users/{followee.username}/follow", data=b"\xff not json", headers=headers
    )
    assert_no_content(response)
    response = account.client.delete(
        f"/users/{followee.username}/follow", data=b"{", headers=headers
    )
    assert_no_content(response)
    assert len(follow_events(database, followee.username)) == 2


def test_concurrent_follows_of_one_pair_count_once(
    account: Account, make_account, database: Database
) -> None:
    followee = make_account()
    statuses: list[int] = []
    start = threading.Barrier(6)  # all six requests leave together

    def follow() -> None:
        start.wait()
        statuses.append(account.client.post(f"/users/{followee.username}/follow").status_code)

    threads = [threading.Thread(target=follow) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [204] * 6
    assert user_row(database, followee.username)["follower_count"] == 1
    assert len(follow_events(database, followee.username)) == 1


def test_unfollow_never_takes_the_counter_below_zero(
    account: Account, make_account, database: Database
) -> None:
    followee = make_account()
    assert_no_content(account.client.post(f"/users/{followee.username}/follow"))
    # A counter that drifted below the real count (reconciliation fixes it hourly).
    database.rows("UPDATE users SET follower_count = 0 WHERE username = :u", u=followee.username)
    assert_no_content(account.client.delete(f"/users/{followee.username}/follow"))
    assert user_row(database, followee.username)["follower_count"] == 0
    assert [event["type"] for event in follow_events(database, followee.username)] == list(
        FOLLOW_EVENTS
    )


def test_the_10001st_follower_latches_the_celebrity_flag_for_good(
    account: Account, make_account, database: Database
) -> None:
    followee = make_account()
    database.rows(
        "UPDATE users SET follower_count = 10000 WHERE username = :u", u=followee.username
    )
    assert_no_content(account.client.post(f"/users/{followee.username}/follow"))
    row = user_row(database, followee.username)
    assert (row["follower_count"], row["is_celebrity"]) == (10001, True)

    assert_no_content(account.client.delete(f"/users/{followee.username}/follow"))
    row = user_row(database, followee.username)
    assert (row["follower_count"], row["is_celebrity"]) == (10000, True)


def test_the_10000th_follower_does_not_latch(
    account: Account, make_account, database: Database
) -> None:
    followee = make_account()
    database.rows("UPDATE users SET follower_count = 9999 WHERE username = :u", u=followee.username)
    assert_no_content(account.client.post(f"/users/{followee.username}/follow"))
    row = user_row(database, followee.username)
    assert (row["follower_count"], row["is_celebrity"]) == (10000, False)


# -- follower and following lists ----------------------------------------------


def sql_users(database: Database, count: int) -> list[tuple[int, str]]:
    """`count` accounts inserted directly (no password hashing): [(id, username)] by id."""
    prefix = f"fl{secrets.token_hex(4)}_"
    rows = database.rows(
        """
        INSERT INTO users (name, username, email, password_hash)
        SELECT 'Listed ' || n, :prefix || lpad(n::text, 3, '0'),
               :prefix || n || '@example.com', 'not a password hash'
        FROM generate_series(1, CAST(:count AS int)) AS n
        RETURNING id, username
        """,
        prefix=prefix,
        count=count,
    )
    return sorted((row[0], row[1]) for row in rows)


def sql_follow(database: Database, follower_id: int, followee_id: int, created: datetime) -> None:
    database.rows(
        "INSERT INTO follows (follower_id, followee_id, created) VALUES (:a, :b, :created)",
        a=follower_id,
        b=followee_id,
        created=created,
    )


def account_id(database: Database, account: Account) -> int:
    return database.value("SELECT id FROM users WHERE username = :u", u=account.username)


def walk(client: Api, path: str, limit: int) -> list[list[str]]:
    """Usernames of every page of a list, following `nextCursor` to the end."""
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        response = client.get(path, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"items", "nextCursor"}
        pages.append([item["username"] for item in body["items"]])
        cursor = body["nextCursor"]
        if cursor is None:
            return pages
        assert len(pages) < 100


@pytest.mark.parametrize("direction", ["followers", "following"])
def test_lists_order_by_follow_time_then_user_id_across_pages(
    account: Account, database: Database, direction: str
) -> None:
    me = account_id(database, account)
    others = sql_users(database, 7)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    # Three follows share one timestamp: the user id (descending) breaks the tie.
    times = [base + timedelta(seconds=n) for n in (1, 2, 5, 5, 5, 3, 4)]
    for (other_id, _), created in zip(others, times, strict=True):
        if direction == "followers":
            sql_follow(database, other_id, me, created)
        else:
            sql_follow(database, me, other_id, created)
    expected = [
        username
        for (_, username), _created in sorted(
            zip(others, times, strict=True), key=lambda pair: (pair[1], pair[0][0]), reverse=True
        )
    ]
    path = f"/users/{account.username}/{direction}"
    for limit in (1, 2, 3, 7, 50):
        pages = walk(account.client, path, limit)
        assert [name for page in pages for name in page] == expected
        assert all(len(page) == limit for page in pages[:-1])
        assert len(pages[-1]) <= limit and (len(pages[-1]) > 0 or len(pages) == 1)
    assert len(walk(account.client, path, 7)) == 1  # exactly a page: no empty extra page


def test_list_limit_defaults_to_10_and_clamps_to_50(account: Account, database: Database) -> None:
    me = account_id(database, account)
    created = datetime(2026, 2, 1, tzinfo=UTC)
    for follower_id, _ in sql_users(database, 55):
        sql_follow(database, follower_id, me, created)
    path = f"/users/{account.username}/followers"
    default = account.client.get(path).json()
    assert len(default["items"]) == 10 and default["nextCursor"]
    clamped = account.client.get(path, params={"limit": 500}).json()
    assert len(clamped["items"]) == 50 and clamped["nextCursor"]
    rest = account.client.get(path, params={"limit": 50, "cursor": clamped["nextCursor"]}).json()
    assert len(rest["items"]) == 5 and rest["nextCursor"] is None


def test_an_empty_list_is_an_empty_page(account: Account) -> None:
    for direction in ("followers", "following"):
        response = account.client.get(f"/users/{account.username}/{direction}")
        assert response.status_code == 200
        assert response.json() == {"items": [], "nextCursor": None}


def _cursor(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


BAD_PAGINATION = [
    {"page": "2"},
    {"page": ""},
    {"limit": "0"},
    {"limit": "-3"},
    {"limit": "ten"},
    {"limit": "1.5"},
    {"limit": ""},
    {"cursor": ""},
    {"cursor": "not base64!"},
    {"cursor": "A" * 513},
    {"cursor": _cursor([1, 2])},
    {"cursor": _cursor({"created": "2026-01-01T00:00:00Z"})},
    {"cursor": _cursor({"id": 5})},
    {"cursor": _cursor({"created": "2026-01-01T00:00:00Z", "id": 0})},
    {"cursor": _cursor({"created": "2026-01-01T00:00:00Z", "id": "5"})},
    {"cursor": _cursor({"created": "2026-01-01T00:00:00Z", "id": 1.5})},
    {"cursor": _cursor({"created": "2026-01-01", "id": 5})},
    {"cursor": _cursor({"created": "2026-01-01T00:00:00", "id": 5})},
    {"cursor": _cursor({"created": "yesterday", "id": 5})},
    {"cursor": base64.urlsafe_b64encode(b"\xff\xfe").decode()},
]


@pytest.mark.parametrize("direction", ["followers", "following"])
@pytest.mark.parametrize("params", BAD_PAGINATION)
def test_lists_reject_bad_pagination(
    account: Account, direction: str, params: dict[str, str]
) -> None:
    response = account.client.get(f"/users/{account.username}/{direction}", params=params)
    assert_error(response, 400)


@pytest.mark.parametrize("direction", ["followers", "following"])
@pytest.mark.parametrize("username", ["nobody_{token}", "a!", "x", "bad-name", "%C3%A4bc"])
def test_lists_of_unknown_users_are_404_even_for_invalid_names(
    account: Account, direction: str, username: str
) -> None:
    path = f"/users/{username.format(token=secrets.token_hex(4))}/{direction}"
    response = account.client.get(path)
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}


def test_list_path_is_lowercased(account: Account, make_account) -> None:
    follower = make_account()
    assert_no_content(follower.client.post(f"/users/{account.username}/follow"))
    response = account.client.get(f"/users/{account.username.upper()}/followers")
    assert response.status_code == 200
    assert [item["username"] for item in response.json()["items"]] == [follower.username]


def test_lists_personalise_is_following_and_email_per_viewer(make_account) -> None:
    alice, bob, carol = make_account(), make_account(), make_account()
    for follower, followee in ((alice, carol), (bob, carol), (alice, bob), (carol, alice)):
        assert_no_content(follower.client.post(f"/users/{followee.username}/follow"))

    def followers_of(viewer: Account, owner: Account) -> dict[str, dict[str, Any]]:
        response = viewer.client.get(f"/users/{owner.username}/followers")
        assert response.status_code == 200
        return {item["username"]: item for item in response.json()["items"]}

    # Carol's followers, newest follow first: bob, then alice.
    response = alice.client.get(f"/users/{carol.username}/followers")
    assert [item["username"] for item in response.json()["items"]] == [
        bob.username,
        alice.username,
    ]

    seen_by_alice = followers_of(alice, carol)
    assert seen_by_alice[alice.username]["email"] == alice.email
    assert seen_by_alice[alice.username]["isFollowing"] is False  # never oneself
    assert seen_by_alice[bob.username]["email"] == ""
    assert seen_by_alice[bob.username]["isFollowing"] is True

    seen_by_bob = followers_of(bob, carol)
    assert seen_by_bob[bob.username]["email"] == bob.email
    assert seen_by_bob[alice.username]["email"] == ""
    assert seen_by_bob[alice.username]["isFollowing"] is False

    seen_by_carol = followers_of(carol, carol)
    assert seen_by_carol[alice.username]["isFollowing"] is True
    assert seen_by_carol[bob.username]["isFollowing"] is False
    assert {item["email"] for item in seen_by_carol.values()} == {""}

    # The full User shape with live counts: alice follows carol and bob, carol follows her.
    entry = seen_by_carol[alice.username]
    assert set(entry) == {
        "id", "name", "username", "email", "avatar", "bio", "posts", "likes",
        "followers", "following", "isFollowing", "created", "private", "followRequested",
    }  # fmt: skip
    assert (entry["followers"], entry["following"], entry["posts"]) == (1, 2, 0)
    assert entry["created"].endswith("Z")

    following = bob.client.get(f"/users/{alice.username}/following").json()
    assert [item["username"] for item in following["items"]] == [bob.username, carol.username]
    assert [item["isFollowing"] for item in following["items"]] == [False, True]
    assert [item["email"] for item in following["items"]] == [bob.email, ""]


def test_anonymous_visitors_read_both_lists_with_is_following_false(api: Api, make_account) -> None:
    """Public reading (docs/api.md §F): the lists are optional-session; nobody is followed, no
    email is shown, and neither a missing nor an unknown cookie is refused or cleared."""
    alice, bob, carol = make_account(), make_account(), make_account()
    for follower, followee in ((alice, carol), (bob, carol), (alice, bob)):
        assert_no_content(follower.client.post(f"/users/{followee.username}/follow"))
    for owner, direction, expected in (
        (carol, "followers", [bob, alice]),
        (alice, "following", [bob, carol]),
    ):
        path = f"/users/{owner.username}/{direction}"
        # Alice follows bob, so her own view of these lists is personalised.
        seen_by_alice = alice.client.get(path).json()["items"]
        assert any(item["isFollowing"] for item in seen_by_alice)
        for cookies in ({}, {"session": "x" * 28}):
            response = api.get(path, cookies=cookies)
            assert response.status_code == 200
            assert "set-cookie" not in response.headers
            items = response.json()["items"]
            assert [item["username"] for item in items] == [user.username for user in expected]
            assert not any(item["isFollowing"] for item in items)
            assert {item["email"] for item in items} == {""}
            assert [item["followers"] for item in items] == [
                item["followers"] for item in seen_by_alice
            ]


@pytest.mark.parametrize("direction", ["followers", "following"])
def test_anonymous_list_reads_of_unknown_users_are_404(api: Api, direction: str) -> None:
    response = api.get(f"/users/nobody_{secrets.token_hex(4)}/{direction}")
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}


def test_lists_answer_head_like_get(account: Account) -> None:
    response = account.client.request("HEAD", f"/users/{account.username}/followers")
    assert response.status_code == 200
    assert response.content == b""
