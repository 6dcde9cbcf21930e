"""Migration 0018: hashtag follows, and links stamped with their post's time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pg8000.native
import pytest

from phasma.db.connect import connect
from phasma.db.migrations import DEFAULT_DIR, discover, migrate, rollback

BLOB = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def owner(migrated_database_url: str) -> Iterator[pg8000.native.Connection]:
    with connect(migrated_database_url) as connection:
        yield connection


def _user(connection: pg8000.native.Connection, username: str) -> int:
    [[user_id]] = connection.run(
        "INSERT INTO users (name, username, email, password_hash)"
        " VALUES ('Someone', :username, :email, 'hash') RETURNING id",
        username=username,
        email=f"{username}@example.com",
    )
    return user_id


def _steps_from_0018() -> int:
    return sum(1 for migration in discover(DEFAULT_DIR) if migration.version >= 18)


def test_follows_cascade_from_their_user_and_their_tag(owner: pg8000.native.Connection) -> None:
    follower, other = _user(owner, "follower"), _user(owner, "other")
    [[kept]], [[dropped]] = (
        owner.run("INSERT INTO hashtags (name) VALUES (:n) RETURNING id", n=name)
        for name in ("kept", "dropped")
    )
    for user_id in (follower, other):
        for hashtag_id in (kept, dropped):
            owner.run(
                "INSERT INTO hashtag_follows (user_id, hashtag_id) VALUES (:u, :h)",
                u=user_id,
                h=hashtag_id,
            )
    owner.run("DELETE FROM hashtags WHERE id = :h", h=dropped)
    owner.run("DELETE FROM users WHERE id = :u", u=other)
    assert owner.run("SELECT user_id, hashtag_id FROM hashtag_follows") == [[follower, kept]]


def test_migrating_stamps_each_link_with_its_posts_time(migrated_database_url: str) -> None:
    rollback(migrated_database_url, steps=_steps_from_0018(), progress=lambda _line: None)
    posted = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    with connect(migrated_database_url) as connection:
        author = _user(connection, "author")
        [[post_id]] = connection.run(
            "INSERT INTO posts (user_id, filename, created) VALUES (:u, :f, :c) RETURNING id",
            u=author,
            f=BLOB,
            c=posted,
        )
        [[hashtag_id]] = connection.run("INSERT INTO hashtags (name) VALUES ('late') RETURNING id")
        # As an edit before 0018 linked it: at the edit's time.
        connection.run(
            "INSERT INTO post_hashtags (post_id, hashtag_id, created) VALUES (:p, :h, :c)",
            p=post_id,
            h=hashtag_id,
            c=posted + timedelta(days=3),
        )
    migrate(migrated_database_url, progress=lambda _line: None)
    with connect(migrated_database_url) as connection:
        assert connection.run("SELECT created FROM post_hashtags") == [[posted]]


def test_rolling_back_restores_the_tag_index_and_drops_the_follows(
    migrated_database_url: str, owner: pg8000.native.Connection
) -> None:
    rolled_back = rollback(
        migrated_database_url, steps=_steps_from_0018(), progress=lambda _line: None
    )
    assert rolled_back[-1].label == "0018_hashtag_follows"
    assert owner.run("SELECT 1 FROM pg_tables WHERE tablename = 'hashtag_follows'") == []
    indexes = owner.run("SELECT indexname FROM pg_indexes WHERE tablename = 'post_hashtags'")
    assert {name for [name] in indexes} == {"post_hashtags_pkey", "post_hashtags_hashtag_id_idx"}
