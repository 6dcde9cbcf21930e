"""Migration 0022: the `mention` type, and the post and comment a notification is about,
filled in for the rows that existed before it."""

from __future__ import annotations

from collections.abc import Iterator

import pg8000.exceptions
import pg8000.native
import pytest

from phasma.db.connect import connect
from phasma.db.migrations import DEFAULT_DIR, discover, migrate, rollback

CHECK_VIOLATION = "23514"
BLOB = "0123456789abcdef0123456789abcdef"


def _quiet(_line: str) -> None:
    """A progress callback that discards the lines."""


@pytest.fixture
def owner(migrated_database_url: str) -> Iterator[pg8000.native.Connection]:
    with connect(migrated_database_url) as connection:
        yield connection


def _roll_back_to_before_0022(database_url: str) -> None:
    steps = sum(1 for migration in discover(DEFAULT_DIR) if migration.version >= 22)
    rolled_back = rollback(database_url, steps=steps, progress=_quiet)
    assert rolled_back[-1].label == "0022_mentions"


def _user(connection: pg8000.native.Connection, username: str) -> int:
    [[user_id]] = connection.run(
        "INSERT INTO users (name, username, email, password_hash)"
        " VALUES ('Someone', :username, :email, 'hash') RETURNING id",
        username=username,
        email=f"{username}@example.com",
    )
    return user_id


def _notify(
    connection: pg8000.native.Connection, kind: str, recipient: int, actor: int, entity: str
) -> None:
    connection.run(
        "INSERT INTO notifications (external_id, user_id, actor_id, type, entity_id)"
        " VALUES (:kind || :entity, :recipient, :actor, :kind, :entity)",
        kind=kind,
        recipient=recipient,
        actor=actor,
        entity=entity,
    )


def test_existing_like_and_comment_notifications_learn_their_post_and_comment(
    migrated_database_url: str, owner: pg8000.native.Connection
) -> None:
    _roll_back_to_before_0022(migrated_database_url)
    author, fan = _user(owner, "author"), _user(owner, "fan")
    [[post_id, post_public]] = owner.run(
        "INSERT INTO posts (user_id, filename) VALUES (:user_id, :filename)"
        " RETURNING id, public_id::text",
        user_id=author,
        filename=BLOB,
    )
    [[comment_id, comment_public]] = owner.run(
        "INSERT INTO comments (post_id, user_id, body) VALUES (:post_id, :user_id, 'Nice')"
        " RETURNING id, public_id::text",
        post_id=post_id,
        user_id=fan,
    )
    [[fan_public]] = owner.run("SELECT public_id::text FROM users WHERE id = :id", id=fan)
    _notify(owner, "like", author, fan, post_public)
    _notify(owner, "comment", author, fan, comment_public)
    _notify(owner, "follow", author, fan, fan_public)
    # A like whose post is already gone (its deletion event not handled yet) stays unlinked.
    _notify(owner, "like", fan, author, "00000000-0000-4000-8000-000000000000")

    migrate(migrated_database_url, progress=_quiet)
    rows = owner.run("SELECT type, post_id, comment_id FROM notifications ORDER BY id")
    assert rows == [
        ["like", post_id, None],
        ["comment", post_id, comment_id],
        ["follow", None, None],
        ["like", None, None],
    ]


def test_a_mention_is_a_type_and_rolling_back_removes_mentions_and_the_columns(
    migrated_database_url: str, owner: pg8000.native.Connection
) -> None:
    recipient, actor = _user(owner, "named"), _user(owner, "namer")
    _notify(owner, "mention", recipient, actor, "00000000-0000-4000-8000-000000000001")
    _notify(owner, "follow", recipient, actor, "00000000-0000-4000-8000-000000000002")
    _roll_back_to_before_0022(migrated_database_url)
    assert owner.run("SELECT type FROM notifications") == [["follow"]]
    columns = owner.run(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_name = 'notifications' AND column_name IN ('post_id', 'comment_id')"
    )
    assert columns == []
    with pytest.raises(pg8000.exceptions.DatabaseError) as raised:
        _notify(owner, "mention", recipient, actor, "00000000-0000-4000-8000-000000000003")
    assert raised.value.args[0]["C"] == CHECK_VIOLATION
