"""Mutes over HTTP against the real stack (docs/api.md §D): the write side and the list."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.audience import mute_rows
from tests.api.conftest import Account, Api, Bucket, Database
from tests.api.posting import (
    BAD_PAGINATION,
    assert_error,
    assert_no_content,
    events_since,
    new_post,
    outbox_position,
    walk,
)


def mute_state(database: Database) -> dict[str, Any]:
    return {
        **database.counts("mutes", "blocks", "follows", "outbox"),
        "follower_total": database.value("SELECT coalesce(sum(follower_count), 0) FROM users"),
    }


def test_muting_writes_the_mute_and_nothing_else(
    account: Account, make_account, database: Database
) -> None:
    other = make_account()
    assert_no_content(account.client.post(f"/users/{other.username}/follow"))
    assert_no_content(other.client.post(f"/users/{account.username}/follow"))
    before = mute_state(database)
    position = outbox_position(database)

    assert_no_content(account.client.put(f"/users/{other.username.upper()}/mute"))

    assert mute_rows(database, account.username, other.username) == 1
    # Follows, counters and events are untouched: the muted account cannot tell.
    assert mute_state(database) == {**before, "mutes": before["mutes"] + 1}
    assert events_since(database, position) == []
    profile = other.client.get(f"/users/{account.username}").json()
    assert profile["isFollowing"] is True


def test_a_muted_account_can_still_follow_like_and_comment(
    account: Account, make_account, database: Database, bucket: Bucket
) -> None:
    other = make_account()
    post_id = new_post(account, database, bucket)
    assert_no_content(account.client.put(f"/users/{other.username}/mute"))
    assert_no_content(other.client.post(f"/users/{account.username}/follow"))
    assert_no_content(other.client.post(f"/posts/{post_id}/likes"))
    assert other.client.post(f"/posts/{post_id}/comments", json={"body": "hi"}).status_code == 201


def test_muting_again_and_unmuting_are_idempotent(
    account: Account, make_account, database: Database
) -> None:
    other = make_account()
    assert_no_content(account.client.put(f"/users/{other.username}/mute"))
    created = database.value("SELECT max(created) FROM mutes")
    before = mute_state(database)
    assert_no_content(account.client.put(f"/users/{other.username}/mute"))
    assert mute_state(database) == before
    assert database.value("SELECT max(created) FROM mutes") == created

    assert_no_content(account.client.delete(f"/users/{other.username}/mute"))
    assert mute_rows(database, account.username, other.username) == 0
    after = mute_state(database)
    assert_no_content(account.client.delete(f"/users/{other.username}/mute"))
    assert mute_state(database) == after


@pytest.mark.parametrize("method", ["put", "delete"])
def test_muting_oneself_is_a_400(account: Account, database: Database, method: str) -> None:
    before = database.every_count()
    response = getattr(account.client, method)(f"/users/{account.username}/mute")
    assert_error(response, 400)
    verb = "mute" if method == "put" else "unmute"
    assert response.json()["message"] == f"you cannot {verb} yourself"
    assert database.every_count() == before


@pytest.mark.parametrize("method", ["put", "delete"])
def test_bad_and_unknown_names(account: Account, database: Database, method: str) -> None:
    before = database.every_count()
    assert_error(getattr(account.client, method)("/users/bad-name/mute"), 400)
    assert_error(getattr(account.client, method)("/users/nobody_here_at_all/mute"), 404)
    assert database.every_count() == before


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_anonymous_mute_is_a_401(
    api: Api, account: Account, database: Database, method: str
) -> None:
    before = database.every_count()
    assert_error(api.request(method, f"/users/{account.username}/mute"), 401)
    assert_error(api.get("/users/me/mutes"), 401)
    assert database.every_count() == before


def test_the_mute_list_pages_newest_first_and_is_the_callers_own(
    account: Account, make_account
) -> None:
    others = [make_account() for _ in range(3)]
    for other in others:
        assert_no_content(account.client.put(f"/users/{other.username}/mute"))
    assert_no_content(make_account().client.put(f"/users/{account.username}/mute"))
    # Blocks are a separate list.
    assert_no_content(account.client.put(f"/users/{make_account().username}/block"))

    pages = walk(account.client, "/users/me/mutes", 2)
    assert [len(page) for page in pages] == [2, 1]
    assert [user["username"] for page in pages for user in page] == [
        other.username for other in reversed(others)
    ]
    assert others[0].client.get("/users/me/mutes").json() == {"items": [], "nextCursor": None}


@pytest.mark.parametrize("params", BAD_PAGINATION)
def test_the_mute_list_rejects_bad_pagination(account: Account, params: dict[str, str]) -> None:
    assert_error(account.client.get("/users/me/mutes", params=params), 400)
