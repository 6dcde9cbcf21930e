"""Private accounts over HTTP against the real stack (docs/api.md §E): the setting, follow
requests and their list, accepting and declining, and turning public again."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.api.audience import follows, make_private
from tests.api.conftest import Account, Api, Database
from tests.api.event_delivery import Worker, outbox_rows
from tests.api.posting import outbox_position

REQUEST_EVENTS = ("phasma.user.follow_requested", "phasma.user.follow_request_closed")
FOLLOW_EVENTS = ("phasma.user.followed", "phasma.user.unfollowed")


@pytest.fixture
def notifications_worker(event_function) -> Worker:
    return Worker(event_function("notifications-worker"))


def profile(account: Account, **changes: object) -> dict[str, object]:
    return {"name": account.name, "username": account.username, "email": account.email, **changes}


def graph_state(database: Database) -> dict[str, Any]:
    """Everything a follow, a request or a privacy switch may write."""
    return {
        **database.counts("follows", "follow_requests", "outbox", "notifications"),
        "follower_total": database.value("SELECT coalesce(sum(follower_count), 0) FROM users"),
        "private": database.value("SELECT count(*) FROM users WHERE private"),
    }


def requests_to(database: Database, username: str) -> list[str]:
    rows = database.rows(
        """
        SELECT requester.username FROM follow_requests r
        JOIN users requester ON requester.id = r.requester_id
        JOIN users target ON target.id = r.target_id
        WHERE target.username = :u ORDER BY r.created, requester.username
        """,
        u=username,
    )
    return [row[0] for row in rows]


def follower_count(database: Database, username: str) -> int:
    return int(database.value("SELECT follower_count FROM users WHERE username = :u", u=username))


def event_types(database: Database, position: int) -> list[tuple[str, dict[str, Any]]]:
    return [
        (row.type, row.payload)
        for row in outbox_rows(database, position, *REQUEST_EVENTS, *FOLLOW_EVENTS)
    ]


def public_id(database: Database, username: str) -> str:
    return str(database.value("SELECT public_id::text FROM users WHERE username = :u", u=username))


def assert_error(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"message"} and isinstance(body["message"], str) and body["message"]


def assert_no_content(response: Any) -> None:
    assert response.status_code == 204, response.text
    assert response.content == b""


# -- the setting --------------------------------------------------------------------------


def test_private_is_a_profile_setting_shown_on_the_user_shape(
    account: Account, make_account, api: Api
) -> None:
    assert account.client.get("/users/me").json()["private"] is False
    make_private(account)

    assert account.client.get("/users/me").json()["private"] is True
    seen = make_account().client.get(f"/users/{account.username}").json()
    assert (seen["private"], seen["followRequested"], seen["isFollowing"]) == (True, False, False)
    anonymous = api.get(f"/users/{account.username}")
    assert anonymous.status_code == 200 and anonymous.json()["private"] is True
    # Saving the profile without the field keeps the setting (older clients).
    assert_no_content(account.client.put("/users/me", json=profile(account, bio="hi")))
    assert account.client.get("/users/me").json()["private"] is True


@pytest.mark.parametrize("value", ["yes", 1, 0, "true", [], {}])
def test_a_private_that_is_not_a_boolean_is_400_and_writes_nothing(
    account: Account, database: Database, value: object
) -> None:
    before = database.every_count()
    response = account.client.put("/users/me", json=profile(account, private=value, bio="new"))

    assert_error(response, 400)
    assert response.json() == {"message": "private has the wrong type"}
    assert database.every_count() == before
    assert database.value("SELECT bio FROM users WHERE username = :u", u=account.username) is None
    assert account.client.get("/users/me").json()["private"] is False


# -- requesting ---------------------------------------------------------------------------


def test_following_a_private_account_is_a_request(
    account: Account, make_account, database: Database
) -> None:
    owner = make_account()
    make_private(owner)
    position = outbox_position(database)
    before = graph_state(database)

    response = account.client.post(f"/users/{owner.username}/follow")

    assert response.status_code == 202, response.text
    assert response.json() == {"status": "requested"}
    assert requests_to(database, owner.username) == [account.username]
    assert not follows(database, account.username, owner.username)
    assert follower_count(database, owner.username) == 0
    assert event_types(database, position) == [
        (
            "phasma.user.follow_requested",
            {
                "actorId": public_id(database, account.username),
                "recipientId": public_id(database, owner.username),
            },
        )
    ]
    after = graph_state(database)
    assert after["follow_requests"] == before["follow_requests"] + 1
    assert after["follows"] == before["follows"]
    # The User shape says so, to the requester only; a request is not a follow.
    seen = account.client.get(f"/users/{owner.username}").json()
    assert (seen["followRequested"], seen["isFollowing"], seen["followers"]) == (True, False, 0)
    assert owner.client.get(f"/users/{account.username}").json()["followRequested"] is False


def test_a_repeated_request_is_idempotent(
    account: Account, make_account, database: Database
) -> None:
    owner = make_account()
    make_private(owner)
    assert account.client.post(f"/users/{owner.username}/follow").status_code == 202
    before = graph_state(database)

    again = account.client.post(f"/users/{owner.username}/follow")

    assert again.status_code == 202 and again.json() == {"status": "requested"}
    assert graph_state(database) == before


def test_concurrent_requests_leave_one_request_and_one_event(
    account: Account, make_account, database: Database
) -> None:
    owner = make_account()
    make_private(owner)
    position = outbox_position(database)
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def request() -> None:
        barrier.wait()
        statuses.append(account.client.post(f"/users/{owner.username}/follow").status_code)

    threads = [threading.Thread(target=request) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [202] * 6
    assert requests_to(database, owner.username) == [account.username]
    assert [kind for kind, _ in event_types(database, position)] == ["phasma.user.follow_requested"]


def test_a_follower_of_a_private_account_still_follows(
    account: Account, make_account, database: Database
) -> None:
    owner = make_account()
    assert_no_content(account.client.post(f"/users/{owner.username}/follow"))
    make_private(owner)
    before = graph_state(database)

    assert_no_content(account.client.post(f"/users/{owner.username}/follow"))

    assert graph_state(database) == before
    assert requests_to(database, owner.username) == []


def test_withdrawing_a_request(account: Account, make_account, database: Database) -> None:
    owner = make_account()
    make_private(owner)
    assert account.client.post(f"/users/{owner.username}/follow").status_code == 202
    position = outbox_position(database)

    assert_no_content(account.client.delete(f"/users/{owner.username}/follow"))

    assert requests_to(database, owner.username) == []
    assert [kind for kind, _ in event_types(database, position)] == [
        "phasma.user.follow_request_closed"
    ]
    assert account.client.get(f"/users/{owner.username}").json()["followRequested"] is False
    # Withdrawing again, with nothing pending, is a no-op.
    before = graph_state(database)
    assert_no_content(account.client.delete(f"/users/{owner.username}/follow"))
    assert graph_state(database) == before


# -- the owner's list ---------------------------------------------------------------------


def test_the_owner_lists_requests_newest_first_in_pages(
    account: Account, make_account, database: Database
) -> None:
    make_private(account)
    requesters = [make_account() for _ in range(3)]
    for requester in requesters:
        assert requester.client.post(f"/users/{account.username}/follow").status_code == 202

    first = account.client.get("/users/me/follow-requests", params={"limit": 2})
    assert first.status_code == 200, first.text
    body = first.json()
    assert set(body) == {"items", "nextCursor"}
    assert [user["username"] for user in body["items"]] == [
        requesters[2].username,
        requesters[1].username,
    ]
    item = body["items"][0]
    assert set(item) == {
        "id", "name", "username", "email", "avatar", "bio", "posts", "likes",
        "followers", "following", "isFollowing", "created", "private", "followRequested",
    }  # fmt: skip
    assert (item["email"], item["isFollowing"], item["followRequested"]) == ("", False, False)
    rest = account.client.get(
        "/users/me/follow-requests", params={"limit": 2, "cursor": body["nextCursor"]}
    ).json()
    assert [user["username"] for user in rest["items"]] == [requesters[0].username]
    assert rest["nextCursor"] is None
    # Nobody else's requests: another account's list is its own (empty).
    assert requesters[0].client.get("/users/me/follow-requests").json() == {
        "items": [],
        "nextCursor": None,
    }


def test_a_bad_cursor_is_400(account: Account) -> None:
    response = account.client.get("/users/me/follow-requests", params={"cursor": "nope"})
    assert_error(response, 400)


# -- accept and decline -------------------------------------------------------------------


def test_accepting_makes_the_follow_with_its_counter_and_events(
    account: Account, make_account, database: Database
) -> None:
    make_private(account)
    requester = make_account()
    assert requester.client.post(f"/users/{account.username}/follow").status_code == 202
    position = outbox_position(database)

    assert_no_content(account.client.post(f"/users/me/follow-requests/{requester.username}"))

    assert follows(database, requester.username, account.username)
    assert requests_to(database, account.username) == []
    assert follower_count(database, account.username) == 1
    ids = {
        "actorId": public_id(database, requester.username),
        "recipientId": public_id(database, account.username),
    }
    assert event_types(database, position) == [
        ("phasma.user.follow_request_closed", ids),
        ("phasma.user.followed", ids),
    ]
    seen = requester.client.get(f"/users/{account.username}").json()
    assert (seen["isFollowing"], seen["followRequested"], seen["followers"]) == (True, False, 1)


def test_declining_removes_the_request_and_makes_no_follow(
    account: Account, make_account, database: Database
) -> None:
    make_private(account)
    requester = make_account()
    assert requester.client.post(f"/users/{account.username}/follow").status_code == 202
    position = outbox_position(database)

    assert_no_content(account.client.delete(f"/users/me/follow-requests/{requester.username}"))

    assert requests_to(database, account.username) == []
    assert not follows(database, requester.username, account.username)
    assert follower_count(database, account.username) == 0
    assert [kind for kind, _ in event_types(database, position)] == [
        "phasma.user.follow_request_closed"
    ]
    # The requester may ask again.
    assert requester.client.post(f"/users/{account.username}/follow").status_code == 202


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_no_request_is_404_and_writes_nothing(
    account: Account, make_account, database: Database, method: str
) -> None:
    make_private(account)
    stranger = make_account()
    # The request goes the other way: it is the stranger's to answer, not the account's.
    make_private(stranger)
    assert account.client.post(f"/users/{stranger.username}/follow").status_code == 202
    before = database.every_count()

    for username in (stranger.username, "nobody_here_at_all", "Not A Name!", account.username):
        response = account.client.request(method, f"/users/me/follow-requests/{username}")
        assert_error(response, 404)
    assert database.every_count() == before
    assert requests_to(database, stranger.username) == [account.username]


def test_accepting_twice_is_404_the_second_time(
    account: Account, make_account, database: Database
) -> None:
    make_private(account)
    requester = make_account()
    assert requester.client.post(f"/users/{account.username}/follow").status_code == 202
    assert_no_content(account.client.post(f"/users/me/follow-requests/{requester.username}"))
    before = graph_state(database)

    assert_error(account.client.post(f"/users/me/follow-requests/{requester.username}"), 404)
    assert graph_state(database) == before


# -- turning public -----------------------------------------------------------------------


def test_switching_to_public_accepts_every_pending_request(
    account: Account, make_account, database: Database
) -> None:
    make_private(account)
    requesters = [make_account() for _ in range(3)]
    for requester in requesters:
        assert requester.client.post(f"/users/{account.username}/follow").status_code == 202
    position = outbox_position(database)

    response = account.client.put("/users/me", json=profile(account, private=False))

    assert_no_content(response)
    assert account.client.get("/users/me").json()["private"] is False
    assert requests_to(database, account.username) == []
    assert all(follows(database, r.username, account.username) for r in requesters)
    assert follower_count(database, account.username) == 3
    kinds = [kind for kind, _ in event_types(database, position)]
    assert kinds.count("phasma.user.followed") == 3
    assert kinds.count("phasma.user.follow_request_closed") == 3
    followed = {
        payload["actorId"]
        for kind, payload in event_types(database, position)
        if kind == "phasma.user.followed"
    }
    assert followed == {public_id(database, r.username) for r in requesters}
    # Public now: a new follow is a follow at once.
    late = make_account()
    assert_no_content(late.client.post(f"/users/{account.username}/follow"))
    assert follower_count(database, account.username) == 4


def test_a_request_racing_the_switch_to_public_is_never_left_pending(
    account: Account, make_account, database: Database
) -> None:
    make_private(account)
    requesters = [make_account() for _ in range(6)]
    barrier = threading.Barrier(len(requesters) + 1)

    def request(requester: Account) -> None:
        barrier.wait()
        status = requester.client.post(f"/users/{account.username}/follow").status_code
        assert status in (202, 204)

    threads = [threading.Thread(target=request, args=(r,)) for r in requesters]
    for thread in threads:
        thread.start()
    barrier.wait()
    assert_no_content(account.client.put("/users/me", json=profile(account, private=False)))
    for thread in threads:
        thread.join()

    # Each requester either follows (accepted by the switch, or followed a public
    # account); none is left with a request to an account that is public.
    assert requests_to(database, account.username) == []
    assert all(follows(database, r.username, account.username) for r in requesters)
    assert follower_count(database, account.username) == len(requesters)


# -- notifications ------------------------------------------------------------------------


def test_a_request_notifies_the_owner_and_answering_it_removes_the_notification(
    account: Account, make_account, database: Database, notifications_worker: Worker
) -> None:
    make_private(account)
    requester = make_account()
    position = outbox_position(database)
    assert requester.client.post(f"/users/{account.username}/follow").status_code == 202
    assert notifications_worker.deliver_all(outbox_rows(database, position)) == ["applied"]

    items = account.client.get("/notifications").json()["items"]
    assert [(n["type"], n["actorUsername"], n["entityId"]) for n in items] == [
        ("follow_request", requester.username, public_id(database, requester.username))
    ]
    assert items[0]["postId"] is None and items[0]["postFilename"] is None

    position = outbox_position(database)
    assert_no_content(account.client.post(f"/users/me/follow-requests/{requester.username}"))
    # The request's notification goes; the follow that results notifies as any follow.
    assert notifications_worker.deliver_all(outbox_rows(database, position)) == [
        "applied",
        "applied",
    ]
    items = account.client.get("/notifications").json()["items"]
    assert [(n["type"], n["actorUsername"]) for n in items] == [("follow", requester.username)]


def test_a_withdrawn_request_leaves_no_notification_even_delivered_late(
    account: Account, make_account, database: Database, notifications_worker: Worker
) -> None:
    make_private(account)
    requester = make_account()
    position = outbox_position(database)
    assert requester.client.post(f"/users/{account.username}/follow").status_code == 202
    assert_no_content(requester.client.delete(f"/users/{account.username}/follow"))
    requested, closed = outbox_rows(database, position)

    # Delivered in either order, the state check leaves nothing behind.
    assert notifications_worker.deliver(closed) == "skipped"
    assert notifications_worker.deliver(requested) == "skipped"
    assert account.client.get("/notifications").json()["items"] == []


# -- access ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/users/me/follow-requests"),
        ("POST", "/users/me/follow-requests/someone"),
        ("DELETE", "/users/me/follow-requests/someone"),
        ("POST", "/users/someone/follow"),
    ],
)
def test_anonymous_is_401_and_writes_nothing(
    api: Api, database: Database, method: str, path: str
) -> None:
    before = database.every_count()
    assert_error(api.request(method, path), 401)
    assert database.every_count() == before
