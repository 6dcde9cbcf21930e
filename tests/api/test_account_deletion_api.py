"""`DELETE /users/me` (docs/api.md §C): the account is gone at once, then removed by events.

The removal is driven as the KafkaSource would drive it: the outbox's real
`phasma.user.deleted` event is POSTed to the `account-remover` (and the activity
events to the `notifications-worker`, so there are notifications to remove). The
crash tests inject the one fault a real server cannot produce on demand: the
remover dying halfway, after some batches committed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis

from phasma.blobs import image_keys
from phasma.devstack.services import DependencyUrls
from phasma.events.cloudevents import to_cloudevent
from phasma.janitor.tasks import run as run_janitor
from phasma.removal import actions as removal
from tests.api.conftest import Account, Api, Bucket, Database, deliver, new_identity
from tests.api.event_delivery import Worker, one_event, outbox_rows
from tests.api.posting import new_post, new_upload, outbox_position

# Every table that holds a user's rows, and the columns naming the user.
USER_COLUMNS: dict[str, tuple[str, ...]] = {
    "sessions": ("user_id",),
    "uploads": ("user_id",),
    "posts": ("user_id",),
    "likes": ("user_id",),
    "comments": ("user_id",),
    "bookmarks": ("user_id",),
    "follows": ("follower_id", "followee_id"),
    "feed": ("user_id",),
    "notifications": ("user_id", "actor_id"),
    "recent_searches": ("user_id",),
    "mail_tokens": ("user_id",),
    "verification_requests": ("user_id",),
}


@pytest.fixture
def cache(dependencies: DependencyUrls) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(dependencies.cache_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def account_remover(event_function) -> Worker:
    return Worker(event_function("account-remover"))


@pytest.fixture
def notifications_worker(event_function) -> Worker:
    return Worker(event_function("notifications-worker"))


@dataclass
class Scene:
    """The account to delete, with a bit of everything, and another user around it."""

    leaver: Account
    other: Account
    leaver_id: int
    leaver_posts: list[str]
    other_post: str
    filenames: list[str]  # every image the leaver has: posts, avatar, pending upload


def _user_id(database: Database, username: str) -> int:
    return int(database.value("SELECT id FROM users WHERE username = :u", u=username))


def _filename_of(database: Database, post_id: str) -> str:
    return str(database.value("SELECT filename FROM posts WHERE public_id = :p", p=post_id))


@pytest.fixture
def scene(make_account, database: Database, bucket: Bucket, notifications_worker: Worker) -> Scene:
    leaver, other = make_account(), make_account()
    start = outbox_position(database)
    leaver_posts = [
        new_post(leaver, database, bucket, "shared #farewell_tag"),
        new_post(leaver, database, bucket, "only mine"),
    ]
    other_post = new_post(other, database, bucket, "also #farewell_tag")
    avatar = new_upload(leaver, database, bucket)
    profile = {"name": leaver.name, "username": leaver.username, "email": leaver.email}
    assert leaver.client.put("/users/me", json={**profile, "avatar": avatar}).status_code == 204
    pending = new_upload(leaver, database, bucket)
    # The leaver's activity on the other's post, and the other's on the leaver's.
    assert leaver.client.post(f"/posts/{other_post}/likes").ok
    assert leaver.client.post(f"/posts/{other_post}/comments", json={"body": "bye"}).ok
    assert leaver.client.post(f"/posts/{other_post}/comments", json={"body": "again"}).ok
    assert leaver.client.put(f"/posts/{other_post}/bookmark").ok
    assert leaver.client.post(f"/users/{other.username}/follow").ok
    assert other.client.post(f"/users/{leaver.username}/follow").ok
    assert other.client.post(f"/posts/{leaver_posts[0]}/likes").ok
    assert other.client.post(f"/posts/{leaver_posts[0]}/comments", json={"body": "hi"}).ok
    leaver.client.post("/search/recent", json={"type": "hashtags", "reference": "farewell_tag"})
    notifications_worker.deliver_all(
        outbox_rows(
            database,
            start,
            "phasma.post.liked",
            "phasma.comment.created",
            "phasma.user.followed",
        )
    )
    leaver_id = _user_id(database, leaver.username)
    assert (
        database.value(
            "SELECT count(*) FROM notifications WHERE user_id = :u OR actor_id = :u", u=leaver_id
        )
        >= 4
    )
    filenames = [_filename_of(database, post) for post in leaver_posts] + [avatar, pending]
    stored = bucket.keys()
    assert all(filename in stored for filename in filenames)
    return Scene(leaver, other, leaver_id, leaver_posts, other_post, filenames)


def _delete(account: Account, password: str | None) -> Any:
    body = {} if password is None else {"password": password}
    return account.client.delete("/users/me", json=body)


def _traces(database: Database, user_id: int) -> dict[str, int]:
    """Rows naming `user_id` in every table that holds a user's rows."""
    traces = {}
    for table, columns in USER_COLUMNS.items():
        condition = " OR ".join(f"{column} = :user_id" for column in columns)
        traces[table] = database.value(
            f"SELECT count(*) FROM {table} WHERE {condition}", user_id=user_id
        )
    traces["users"] = database.value("SELECT count(*) FROM users WHERE id = :u", u=user_id)
    return {table: count for table, count in traces.items() if count}


def _counters_are_true(database: Database, scene: Scene) -> None:
    """Every counter the scene's accounts, posts and tag show matches the rows it counts.

    Only the scene's: other tests in the same database set counters by hand (a post with
    a million likes), and this test is about what a removal leaves, not about them.
    """
    people = {"leaver": scene.leaver.username, "other": scene.other.username}
    assert not database.rows(
        """
        SELECT p.id FROM posts p JOIN users u ON u.id = p.user_id
        WHERE u.username IN (:leaver, :other)
          AND (like_count <> (SELECT count(*) FROM likes WHERE post_id = p.id)
            OR comment_count <> (SELECT count(*) FROM comments WHERE post_id = p.id))
        """,
        **people,
    )
    assert not database.rows(
        """
        SELECT id FROM users u
        WHERE u.username IN (:leaver, :other)
          AND follower_count <> (SELECT count(*) FROM follows WHERE followee_id = u.id)
        """,
        **people,
    )
    assert not database.rows(
        """
        SELECT id FROM hashtags h
        WHERE name = 'farewell_tag'
          AND post_count <> (SELECT count(*) FROM post_hashtags WHERE hashtag_id = h.id)
        """
    )


def _assert_removed(scene: Scene, database: Database, bucket: Bucket) -> None:
    assert _traces(database, scene.leaver_id) == {}
    keys = bucket.keys()
    assert not [key for filename in scene.filenames for key in image_keys(filename) if key in keys]
    other_post = scene.other.client.get(f"/posts/{scene.other_post}").json()
    assert other_post["likes"] == 0
    assert other_post["comments"] == 0
    other = scene.other.client.get(f"/users/{scene.other.username}").json()
    assert other["followers"] == 0
    assert other["following"] == 0
    tag = database.value("SELECT post_count FROM hashtags WHERE name = 'farewell_tag'")
    assert tag is not None and tag >= 1  # the other's post still carries it
    _counters_are_true(database, scene)
    # The audit log keeps the account's public id and the times, nothing else.
    audit = database.rows(
        """
        SELECT user_id, action FROM audit_log
        WHERE user_public_id = (
            SELECT CAST(payload->>'userId' AS uuid) FROM outbox
            WHERE type = 'phasma.user.deleted' AND payload->>'username' = :username
        )
        ORDER BY id
        """,
        username=scene.leaver.username,
    )
    assert [action for _, action in audit][-2:] == ["account_deleted", "account_removed"]
    assert all(user_id is None for user_id, _ in audit)


def _register_again(account: Account, api: Api) -> None:
    identity = {
        "name": "Someone New",
        "username": account.username,
        "email": account.email,
        "password": "another password",
    }
    assert api.post("/users", json=identity).status_code == 201


def test_deleting_the_account_hides_it_at_once_then_removes_everything(
    scene: Scene, api: Api, database: Database, bucket: Bucket, account_remover: Worker
) -> None:
    leaver, other = scene.leaver, scene.other
    second = Api(leaver.client.base_url)
    login = {"email": leaver.email, "password": leaver.password}
    assert second.post("/sessions", json=login).status_code == 201
    # A data export whose ZIP is in the bucket, as the exporter leaves it.
    export = leaver.client.post("/users/me/exports")
    assert export.status_code == 202
    export_key = f"exports/{export.json()['id']}.zip"
    bucket.put(export_key, b"PK a copy of everything", "application/zip")
    start = outbox_position(database)

    response = _delete(leaver, leaver.password)

    assert response.status_code == 202
    assert response.json() == {}
    assert "session=;" in response.headers["set-cookie"]
    # At once: every session gone, the profile and posts 404, login refused, not found.
    assert (
        database.value("SELECT count(*) FROM sessions WHERE user_id = :u", u=scene.leaver_id) == 0
    )
    assert second.get("/users/me").status_code == 401
    assert api.get(f"/users/{leaver.username}").status_code == 404
    assert api.get(f"/users/{leaver.username}/posts").status_code == 404
    assert api.get(f"/posts/{scene.leaver_posts[0]}").status_code == 404
    assert other.client.post(f"/users/{leaver.username}/follow").status_code == 404
    assert api.post("/sessions", json=login).status_code == 401
    found = other.client.get("/users/search", params={"q": leaver.username}).json()
    assert leaver.username not in [user["username"] for user in found]
    blended = other.client.get("/search", params={"q": leaver.username}).json()
    assert leaver.username not in str(blended)
    followers = other.client.get(f"/users/{other.username}/followers").json()
    assert followers["items"] == []
    assert (
        api.post("/users", json={**new_identity(), "username": leaver.username}).status_code == 409
    )

    event = one_event(database, start, "phasma.user.deleted")
    assert event.payload["username"] == leaver.username
    assert account_remover.deliver(event) == "applied"

    _assert_removed(scene, database, bucket)
    left = bucket.keys()
    assert export_key not in left
    exports = "SELECT count(*) FROM exports WHERE user_id = :u"
    assert database.value(exports, u=scene.leaver_id) == 0
    deleted_posts = outbox_rows(database, start, "phasma.post.deleted")
    assert sorted(row.subject for row in deleted_posts) == sorted(scene.leaver_posts)
    # Redelivery finds nothing left to do; the username and email are free again.
    assert account_remover.deliver(event) == "applied"
    _register_again(leaver, api)


@pytest.mark.parametrize("body", [{}, {"password": ""}, {"password": "not the password"}])
def test_a_missing_or_wrong_password_deletes_nothing(
    account: Account, api: Api, database: Database, body: dict[str, str]
) -> None:
    start = outbox_position(database)
    response = account.client.delete("/users/me", json=body)
    assert response.status_code == 400
    expected = (
        "password is required" if not body.get("password") else "current password is incorrect"
    )
    assert response.json() == {"message": expected}
    assert outbox_position(database) == start
    assert (
        database.value("SELECT deleted_at FROM users WHERE username = :u", u=account.username)
        is None
    )
    assert account.client.get("/users/me").status_code == 200
    assert api.get(f"/users/{account.username}").status_code == 200


def test_deleting_needs_a_session(api: Api, database: Database) -> None:
    start = outbox_position(database)
    response = api.delete("/users/me", json={"password": "whatever it is"})
    assert response.status_code == 401
    assert response.json()["message"]
    assert outbox_position(database) == start


def test_a_session_that_outlives_the_deletion_is_no_session(
    make_account, api_stack, database: Database, bucket: Bucket
) -> None:
    """A login that checked the password just before the deletion committed inserts its
    session after it: that session must not show the account (whose `post_count` is not
    counted down during removal) nor add a like the remover would drop uncounted."""
    leaver, other = make_account(), make_account()
    post = new_post(other, database, bucket, "still here")
    new_post(leaver, database, bucket, "going")
    token = leaver.client.session_token
    saved = database.rows(
        """
        SELECT sessions.id, sessions.user_id FROM sessions
        JOIN users ON users.id = sessions.user_id WHERE users.username = :u
        """,
        u=leaver.username,
    )
    assert leaver.client.delete("/users/me", json={"password": leaver.password}).status_code == 202
    for key, user_id in saved:  # the racing login's insert, after the commit
        database.rows(
            """
            INSERT INTO sessions (id, user_id, expires_at)
            VALUES (:key, :user_id, now() + interval '1 day')
            """,
            key=key,
            user_id=user_id,
        )
    late = Api(api_stack.base_url)
    late.http.cookies.set("session", token)
    assert late.get("/users/me").status_code == 401
    assert late.post(f"/posts/{post}/likes").status_code == 401
    assert database.value("SELECT like_count FROM posts WHERE public_id = :p", p=post) == 0
    assert (
        database.value(
            "SELECT count(*) FROM likes JOIN posts ON posts.id = likes.post_id"
            " WHERE posts.public_id = :p",
            p=post,
        )
        == 0
    )


def test_password_guesses_are_throttled_like_logins(
    account: Account, api_stack, database: Database, cache: redis.Redis
) -> None:
    # A stolen session cookie (without the owner's device cookie) guessing the password.
    client = Api(api_stack.base_url)
    client.http.cookies.set("session", account.client.session_token)
    for _ in range(5):
        assert client.delete("/users/me", json={"password": "a wrong guess"}).status_code == 400
    start = outbox_position(database)
    blocked = client.delete("/users/me", json={"password": account.password})
    assert blocked.status_code == 429
    assert blocked.json() == {"message": "Too many password attempts; try again later"}
    assert int(blocked.headers["Retry-After"]) >= 1
    assert outbox_position(database) == start
    assert (
        database.value("SELECT deleted_at FROM users WHERE username = :u", u=account.username)
        is None
    )
    assert cache.get(f"login:email:{account.email}") is not None


class Crash(Exception):
    """The remover dying: the process is gone before its transaction commits."""


def _crash_after(monkeypatch: pytest.MonkeyPatch, batches: int) -> None:
    """Kill the remover inside its (`batches` + 1)th batch: earlier batches committed."""
    real = removal.run_batch
    done = 0

    def dying(*args: Any) -> str:
        nonlocal done
        step = real(*args)
        done += 1
        if done > batches:
            raise Crash(f"killed in batch {done} ({step})")
        return step

    monkeypatch.setattr(removal, "run_batch", dying)


def _crash_after_blobs(monkeypatch: pytest.MonkeyPatch, account_remover: Worker) -> None:
    """Kill the remover right after its first blob deletion, before the rows commit."""
    store = account_remover.runtime.blob_store
    real = store.delete_many

    def dying(keys: Any) -> None:
        real(keys)
        raise Crash("killed after deleting blobs")

    monkeypatch.setattr(store, "delete_many", dying)


@pytest.mark.parametrize("crash", ["after 3 batches", "after 9 batches", "after the blobs"])
@pytest.mark.parametrize("finish", ["redelivery", "janitor sweep"])
def test_a_removal_killed_halfway_is_finished_with_nothing_orphaned(
    scene: Scene,
    api: Api,
    database: Database,
    bucket: Bucket,
    account_remover: Worker,
    event_function,
    monkeypatch: pytest.MonkeyPatch,
    crash: str,
    finish: str,
) -> None:
    # One row per batch, so the crash lands between the steps and inside them.
    monkeypatch.setattr(removal, "BATCH_SIZE", 1)
    monkeypatch.setattr(removal, "POST_BATCH_SIZE", 1)
    start = outbox_position(database)
    assert _delete(scene.leaver, scene.leaver.password).status_code == 202
    event = one_event(database, start, "phasma.user.deleted")
    if crash == "after the blobs":
        _crash_after_blobs(monkeypatch, account_remover)
    else:
        _crash_after(monkeypatch, int(crash.split()[1]))

    crashed = deliver(account_remover.function, to_cloudevent(event))
    assert crashed.status_code == 500  # the KafkaSource redelivers it
    monkeypatch.undo()
    monkeypatch.setattr(removal, "BATCH_SIZE", 1)
    monkeypatch.setattr(removal, "POST_BATCH_SIZE", 1)

    # Halfway: every committed batch left a consistent state.
    assert _traces(database, scene.leaver_id)  # not finished
    _counters_are_true(database, scene)
    keys = bucket.keys()
    named = set(
        database.value(
            "SELECT coalesce(array_agg(filename), '{}') FROM posts WHERE user_id = :u",
            u=scene.leaver_id,
        )
    ) | set(
        database.value(
            "SELECT coalesce(array_agg(filename), '{}') FROM uploads WHERE user_id = :u",
            u=scene.leaver_id,
        )
    )
    avatar = scene.filenames[2]
    for filename in scene.filenames:
        if filename != avatar and filename not in named:
            assert filename not in keys, f"{filename} has no row left but its blob stayed"

    if finish == "redelivery":
        assert account_remover.deliver(event) == "applied"
    else:
        database.rows(
            "UPDATE users SET deleted_at = now() - interval '1 hour' WHERE id = :u",
            u=scene.leaver_id,
        )
        janitor = event_function("janitor")
        results = run_janitor(janitor.runtime, "account-removals")
        assert results[0].changed >= 1

    _assert_removed(scene, database, bucket)
    _register_again(scene.leaver, api)
