"""Blocks over HTTP against the real stack (docs/api.md §D): the write side and the list."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.audience import block_rows, follows, make_private
from tests.api.conftest import Account, Api, Bucket, Database
from tests.api.posting import (
    BAD_PAGINATION,
    assert_error,
    assert_no_content,
    content_state,
    events_since,
    new_post,
    outbox_position,
    user_id,
    walk,
)


def follower_count(database: Database, username: str) -> int:
    return int(database.value("SELECT follower_count FROM users WHERE username = :u", u=username))


def public_id(database: Database, username: str) -> str:
    return str(database.value("SELECT public_id::text FROM users WHERE username = :u", u=username))


def safety_state(database: Database) -> dict[str, Any]:
    """Everything a block or mute may write: rows, counters, events."""
    return {
        **database.counts("blocks", "mutes", "follows", "outbox"),
        "follower_total": database.value("SELECT coalesce(sum(follower_count), 0) FROM users"),
    }


# -- PUT /users/{username}/block ---------------------------------------------------------


def test_blocking_ends_follows_both_ways_as_two_unfollows(
    account: Account, make_account, database: Database
) -> None:
    other = make_account()
    assert_no_content(account.client.post(f"/users/{other.username}/follow"))
    assert_no_content(other.client.post(f"/users/{account.username}/follow"))
    assert (
        follower_count(database, account.username),
        follower_count(database, other.username),
    ) == (
        1,
        1,
    )
    position = outbox_position(database)

    assert_no_content(account.client.put(f"/users/{other.username}/block"))

    assert block_rows(database, account.username, other.username) == 1
    assert not follows(database, account.username, other.username)
    assert not follows(database, other.username, account.username)
    assert (
        follower_count(database, account.username),
        follower_count(database, other.username),
    ) == (
        0,
        0,
    )
    me, them = public_id(database, account.username), public_id(database, other.username)
    events = [
        (event["type"], event["source"], event["subject"], event["payload"])
        for event in events_since(database, position)
    ]
    # Exactly what the two unfollows would have written, and nothing else.
    assert sorted(events, key=lambda event: event[2]) == sorted(
        [
            (
                "phasma.user.unfollowed",
                "/phasma/follows",
                them,
                {"actorId": me, "recipientId": them},
            ),
            ("phasma.user.unfollowed", "/phasma/follows", me, {"actorId": them, "recipientId": me}),
        ],
        key=lambda event: event[2],
    )


def test_blocking_withdraws_pending_follow_requests_both_ways(
    account: Account, make_account, database: Database
) -> None:
    other = make_account()
    make_private(account)
    make_private(other)
    assert account.client.post(f"/users/{other.username}/follow").status_code == 202
    assert other.client.post(f"/users/{account.username}/follow").status_code == 202
    position = outbox_position(database)

    assert_no_content(account.client.put(f"/users/{other.username}/block"))

    assert not database.rows(
        """
        SELECT 1 FROM follow_requests r
        JOIN users a ON a.id = r.requester_id JOIN users b ON b.id = r.target_id
        WHERE (a.username, b.username) IN ((:a, :b), (:b, :a))
        """,
        a=account.username,
        b=other.username,
    )
    me, them = public_id(database, account.username), public_id(database, other.username)
    closed = sorted(
        (event["payload"]["actorId"], event["payload"]["recipientId"])
        for event in events_since(database, position)
        if event["type"] == "phasma.user.follow_request_closed"
    )
    assert closed == sorted([(me, them), (them, me)])
    # Neither sees the other's request any more.
    for owner in (account, other):
        assert owner.client.get("/users/me/follow-requests").json()["items"] == []


def test_blocking_without_follows_writes_only_the_block(
    account: Account, make_account, database: Database
) -> None:
    other = make_account()
    before = safety_state(database)
    assert_no_content(account.client.put(f"/users/{other.username.upper()}/block"))
    after = safety_state(database)
    assert after == {**before, "blocks": before["blocks"] + 1}


def test_blocking_again_is_a_no_op(account: Account, make_account, database: Database) -> None:
    other = make_account()
    assert_no_content(account.client.put(f"/users/{other.username}/block"))
    created = database.value("SELECT max(created) FROM blocks")
    before = safety_state(database)
    assert_no_content(account.client.put(f"/users/{other.username}/block"))
    assert safety_state(database) == before
    assert database.value("SELECT max(created) FROM blocks") == created


def test_unblocking_removes_the_block_and_brings_no_follow_back(
    account: Account, make_account, database: Database
) -> None:
    other = make_account()
    assert_no_content(account.client.post(f"/users/{other.username}/follow"))
    assert_no_content(account.client.put(f"/users/{other.username}/block"))
    position = outbox_position(database)
    assert_no_content(account.client.delete(f"/users/{other.username}/block"))
    assert block_rows(database, account.username, other.username) == 0
    assert not follows(database, account.username, other.username)
    assert events_since(database, position) == []
    # Unblocking again, or someone never blocked, changes nothing.
    stranger = make_account()
    before = safety_state(database)
    assert_no_content(account.client.delete(f"/users/{other.username}/block"))
    assert_no_content(account.client.delete(f"/users/{stranger.username}/block"))
    assert safety_state(database) == before
    # And following works again.
    assert_no_content(account.client.post(f"/users/{other.username}/follow"))


def test_unblocking_lifts_only_ones_own_block(
    account: Account, make_account, database: Database
) -> None:
    other = make_account()
    assert_no_content(other.client.put(f"/users/{account.username}/block"))
    assert_no_content(account.client.delete(f"/users/{other.username}/block"))
    assert block_rows(database, other.username, account.username) == 1
    assert_error(account.client.post(f"/users/{other.username}/follow"), 403)


@pytest.mark.parametrize("method", ["put", "delete"])
def test_blocking_oneself_is_a_400_and_writes_nothing(
    account: Account, database: Database, method: str
) -> None:
    before = database.every_count()
    response = getattr(account.client, method)(f"/users/{account.username}/block")
    assert_error(response, 400)
    assert (
        response.json()["message"]
        == f"you cannot {'block' if method == 'put' else 'unblock'} yourself"
    )
    assert database.every_count() == before


@pytest.mark.parametrize("method", ["put", "delete"])
@pytest.mark.parametrize("name", ["no", "bad-name", "x" * 31, "me%20too"])
def test_a_name_no_account_can_have_is_a_400(
    account: Account, database: Database, method: str, name: str
) -> None:
    before = database.every_count()
    assert_error(getattr(account.client, method)(f"/users/{name}/block"), 400)
    assert database.every_count() == before


@pytest.mark.parametrize("method", ["put", "delete"])
def test_an_unknown_or_deleted_account_is_a_404(
    account: Account, make_account, database: Database, method: str
) -> None:
    gone = make_account()
    response = gone.client.request("DELETE", "/users/me", json={"password": gone.password})
    assert response.status_code == 202, response.text
    before = database.every_count()
    for name in ("nobody_here_at_all", gone.username):
        assert_error(getattr(account.client, method)(f"/users/{name}/block"), 404)
    assert database.every_count() == before


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_anonymous_block_is_a_401(
    api: Api, account: Account, database: Database, method: str
) -> None:
    before = database.every_count()
    assert_error(api.request(method, f"/users/{account.username}/block"), 401)
    assert_error(api.get("/users/me/blocks"), 401)
    assert database.every_count() == before


# -- 403 across a block ------------------------------------------------------------------


@pytest.mark.parametrize("who_blocks", ["viewer", "author"])
def test_following_liking_and_commenting_across_a_block_is_a_403(
    account: Account, make_account, database: Database, bucket: Bucket, who_blocks: str
) -> None:
    author = make_account()
    post_id = new_post(author, database, bucket)
    if who_blocks == "viewer":
        assert_no_content(account.client.put(f"/users/{author.username}/block"))
    else:
        assert_no_content(author.client.put(f"/users/{account.username}/block"))
    before = {**content_state(database), **safety_state(database)}

    assert_error(account.client.post(f"/users/{author.username}/follow"), 403)
    assert_error(account.client.post(f"/posts/{post_id}/likes"), 403)
    assert_error(account.client.post(f"/posts/{post_id}/comments", json={"body": "hi"}), 403)
    # The other way round too: the block stands between both accounts.
    assert_error(author.client.post(f"/users/{account.username}/follow"), 403)

    assert {**content_state(database), **safety_state(database)} == before


def test_unliking_and_deleting_ones_comment_stay_allowed_across_a_block(
    account: Account, make_account, database: Database, bucket: Bucket
) -> None:
    author = make_account()
    post_id = new_post(author, database, bucket)
    assert_no_content(account.client.post(f"/posts/{post_id}/likes"))
    comment = account.client.post(f"/posts/{post_id}/comments", json={"body": "hi"})
    assert comment.status_code == 201, comment.text
    assert_no_content(author.client.put(f"/users/{account.username}/block"))

    assert_no_content(account.client.delete(f"/posts/{post_id}/likes"))
    assert_no_content(account.client.delete(f"/posts/{post_id}/comments/{comment.json()['id']}"))
    assert (
        database.value(
            "SELECT like_count + comment_count FROM posts WHERE public_id = :p", p=post_id
        )
        == 0
    )


def race(*requests: tuple[Api, str, str]) -> list[int]:
    """Send the requests at once (started on one barrier); their statuses."""
    start = threading.Barrier(len(requests))
    statuses: list[int] = []

    def run(client: Api, method: str, path: str) -> None:
        start.wait()
        statuses.append(client.request(method, path).status_code)

    threads = [threading.Thread(target=run, args=request) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_a_block_racing_follows_leaves_no_follow_behind(make_account, database: Database) -> None:
    """The follow locks its followee and the block both accounts, so whichever commits
    first, the other sees it: no follow across a block, counters match the rows."""
    for _ in range(10):
        blocker, other = make_account(), make_account()
        statuses = race(
            (blocker.client, "PUT", f"/users/{other.username}/block"),
            (other.client, "POST", f"/users/{blocker.username}/follow"),
            (blocker.client, "POST", f"/users/{other.username}/follow"),
        )
        assert set(statuses) <= {204, 403}, statuses
        assert not follows(database, other.username, blocker.username)
        assert not follows(database, blocker.username, other.username)
        assert follower_count(database, blocker.username) == 0
        assert follower_count(database, other.username) == 0


# -- GET /users/me/blocks ----------------------------------------------------------------


def test_the_block_list_pages_newest_first(
    account: Account, make_account, database: Database
) -> None:
    others = [make_account() for _ in range(5)]
    for other in others:
        assert_no_content(account.client.put(f"/users/{other.username}/block"))
    # Two blocks at the same instant: the keyset's id tie-break keeps them apart.
    same = datetime.now(UTC) - timedelta(days=1)
    database.rows(
        """
        UPDATE blocks SET created = :same
        WHERE blocker_id = :me AND blocked_id IN (:a, :b)
        """,
        same=same,
        me=user_id(database, account.username),
        a=user_id(database, others[0].username),
        b=user_id(database, others[1].username),
    )
    # Someone who blocked the viewer is not on the viewer's list.
    assert_no_content(make_account().client.put(f"/users/{account.username}/block"))

    pages = walk(account.client, "/users/me/blocks", 2)
    assert [len(page) for page in pages] == [2, 2, 1]
    listed = [user["username"] for page in pages for user in page]
    older = sorted(others[:2], key=lambda other: user_id(database, other.username), reverse=True)
    assert listed == [other.username for other in reversed(others[2:])] + [
        other.username for other in older
    ]
    first = pages[0][0]
    assert first["email"] == "" and first["isFollowing"] is False
    assert {"id", "name", "username", "followers", "following", "posts"} <= set(first)
    # A blocked account that is then deleted leaves the list at once.
    gone = others[4]
    response = gone.client.request("DELETE", "/users/me", json={"password": gone.password})
    assert response.status_code == 202
    remaining = [
        user["username"] for page in walk(account.client, "/users/me/blocks", 50) for user in page
    ]
    assert gone.username not in remaining and len(remaining) == 4


def test_the_block_list_of_someone_with_none_is_empty(account: Account) -> None:
    response = account.client.get("/users/me/blocks")
    assert response.status_code == 200, response.text
    assert response.json() == {"items": [], "nextCursor": None}


@pytest.mark.parametrize("params", BAD_PAGINATION)
def test_the_block_list_rejects_bad_pagination(account: Account, params: dict[str, str]) -> None:
    assert_error(account.client.get("/users/me/blocks", params=params), 400)
