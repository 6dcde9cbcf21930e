"""`GET /users/suggested` over HTTP against the real stack (docs/api.md §10, docs/domain.md §2.7).

Suggestions are global, so each test first makes the viewer follow (with plain SQL)
every account that is already a candidate: what remains are the accounts the test
creates, and the expected list is exact whatever other tests left behind.
"""

from __future__ import annotations

import pytest

from tests.api.conftest import Account, Api, Database


def follow_every_current_candidate(database: Database, viewer: Account) -> None:
    database.rows(
        """
        INSERT INTO follows (follower_id, followee_id)
        SELECT viewer.id, u.id FROM users u, users viewer
        WHERE viewer.username = :viewer AND u.id <> viewer.id
          AND (u.follower_count > 0 OR u.post_count > 0)
        ON CONFLICT DO NOTHING
        """,
        viewer=viewer.username,
    )


def set_counts(database: Database, account: Account, *, followers: int, posts: int) -> None:
    database.rows(
        "UPDATE users SET follower_count = :f, post_count = :p WHERE username = :u",
        f=followers,
        p=posts,
        u=account.username,
    )


def rename(database: Database, account: Account, username: str) -> Account:
    database.rows(
        "UPDATE users SET username = :new WHERE username = :old",
        new=username,
        old=account.username,
    )
    account.username = username
    return account


def suggested(viewer: Account) -> list[dict[str, object]]:
    response = viewer.client.get("/users/suggested")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"items"}
    return body["items"]


def test_suggested_is_session_required_and_wins_over_the_profile_route(api: Api) -> None:
    # GET /users/{username} is optional-session: reaching it would answer 200 or 404.
    response = api.get("/users/suggested")
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}
    assert api.request("HEAD", "/users/suggested").status_code == 401


def test_candidates_have_a_follower_or_a_post_and_exclude_viewer_and_followees(
    make_account, database: Database
) -> None:
    viewer = make_account()
    follow_every_current_candidate(database, viewer)
    nobody, poster, followed, already_followed = (make_account() for _ in range(4))
    set_counts(database, poster, followers=0, posts=1)
    # Real follows: by a third account, and by the viewer (which excludes that account).
    assert make_account().client.post(f"/users/{followed.username}/follow").status_code == 204
    assert viewer.client.post(f"/users/{already_followed.username}/follow").status_code == 204
    set_counts(database, viewer, followers=50, posts=50)  # never suggested to oneself

    items = suggested(viewer)
    assert [item["username"] for item in items] == [followed.username, poster.username]
    assert nobody.username not in {item["username"] for item in items}
    for item in items:
        assert item["email"] == ""
        assert item["isFollowing"] is False
    assert set(items[0]) == {
        "id", "name", "username", "email", "avatar", "bio", "posts", "likes",
        "followers", "following", "isFollowing", "created", "private", "followRequested",
    }  # fmt: skip
    assert (items[0]["followers"], items[0]["posts"]) == (1, 0)
    assert (items[1]["followers"], items[1]["posts"]) == (0, 1)


def test_following_a_suggestion_removes_it(make_account, database: Database) -> None:
    viewer = make_account()
    follow_every_current_candidate(database, viewer)
    candidate = make_account()
    set_counts(database, candidate, followers=0, posts=3)
    assert [item["username"] for item in suggested(viewer)] == [candidate.username]
    assert viewer.client.post(f"/users/{candidate.username}/follow").status_code == 204
    assert suggested(viewer) == []


def test_order_is_followers_then_posts_then_username_and_at_most_five(
    make_account, database: Database
) -> None:
    viewer = make_account()
    follow_every_current_candidate(database, viewer)
    accounts = [make_account() for _ in range(7)]
    stem = accounts[0].username[:12]
    # The username tie-break is code-point order: "." sorts before letters (a linguistic
    # collation would ignore it).
    names = [f"{stem}{tail}" for tail in ("_b", "_a", "0", "a", ".a", "b", "c")]
    counts = [(9, 0), (7, 2), (7, 5), (3, 0), (3, 0), (3, 0), (3, 0)]
    for account, name, (followers, posts) in zip(accounts, names, counts, strict=True):
        rename(database, account, name)
        set_counts(database, account, followers=followers, posts=posts)

    usernames = [item["username"] for item in suggested(viewer)]
    assert usernames == [
        f"{stem}_b",  # most followers
        f"{stem}0",  # 7 followers, more posts
        f"{stem}_a",  # 7 followers, fewer posts
        f"{stem}.a",  # 3 followers each: username ascending, cut at five
        f"{stem}a",
    ]


@pytest.mark.parametrize("viewer_has_counts", [False, True])
def test_email_is_always_hidden(make_account, database: Database, viewer_has_counts: bool) -> None:
    viewer = make_account()
    follow_every_current_candidate(database, viewer)
    if viewer_has_counts:
        set_counts(database, viewer, followers=10**6, posts=10**6)
    candidate = make_account()
    set_counts(database, candidate, followers=1, posts=0)
    items = suggested(viewer)
    assert [(item["username"], item["email"]) for item in items] == [(candidate.username, "")]
