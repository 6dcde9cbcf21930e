"""The migrated schema enforces the data model's rules and the roles' privileges."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from functools import partial
from urllib.parse import quote, urlsplit, urlunsplit

import pg8000.exceptions
import pg8000.native
import pytest

from phasma.config import Settings
from phasma.db.connect import connect
from phasma.db.migrations import ensure_login_user
from phasma.db.pool import Database
from phasma.search import document_queries
from phasma.search.documents import INDEX_UIDS

CHECK_VIOLATION = "23514"
UNIQUE_VIOLATION = "23505"
INSUFFICIENT_PRIVILEGE = "42501"

BLOB = "0123456789abcdef0123456789abcdef"

TABLES = {
    "users",
    "sessions",
    "uploads",
    "posts",
    "likes",
    "hashtags",
    "post_hashtags",
    "comments",
    "follows",
    "feed",
    "notifications",
    "outbox",
    "audit_log",
    "recent_searches",
    "bookmarks",
    "mail_tokens",
    "mail_deliveries",
    "verification_requests",
    "hashtag_follows",
    "exports",
    "post_images",
    "blocks",
    "mutes",
    "reports",
    "follow_requests",
}


@pytest.fixture
def owner(migrated_database_url: str) -> Iterator[pg8000.native.Connection]:
    """A superuser connection to a freshly migrated database."""
    with connect(migrated_database_url) as connection:
        yield connection


def _sqlstate(connection: pg8000.native.Connection, sql: str, **parameters: object) -> str:
    """Run ``sql`` expecting PostgreSQL to reject it; return the SQLSTATE."""
    with pytest.raises(pg8000.exceptions.DatabaseError) as raised:
        connection.run(sql, **parameters)
    return raised.value.args[0]["C"]


def _insert_user(connection: pg8000.native.Connection, username: str) -> int:
    [[user_id]] = connection.run(
        "INSERT INTO users (name, username, email, password_hash)"
        " VALUES ('Someone', :username, :email, 'hash') RETURNING id",
        username=username,
        email=f"{username}@example.com",
    )
    return user_id


def _insert_post(connection: pg8000.native.Connection, user_id: int, filename: str = BLOB) -> int:
    [[post_id]] = connection.run(
        "INSERT INTO posts (user_id, filename) VALUES (:user_id, :filename) RETURNING id",
        user_id=user_id,
        filename=filename,
    )
    return post_id


# --- structure -------------------------------------------------------------------


def test_every_table_of_the_data_model_exists(owner: pg8000.native.Connection) -> None:
    rows = owner.run("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")

    assert {name for [name] in rows} == TABLES | {"schema_migrations"}


def test_btree_indexes_are_those_of_the_data_model(owner: pg8000.native.Connection) -> None:
    # Indexes behind PRIMARY KEY and UNIQUE constraints are left out, as in docs/domain.md §1.2.
    rows = owner.run(
        "SELECT tablename, indexdef FROM pg_indexes AS i WHERE schemaname = 'public'"
        " AND indexdef LIKE '%USING btree%'"
        " AND NOT EXISTS (SELECT FROM pg_constraint WHERE conname = i.indexname)"
    )
    definitions = {(table, definition.split(" USING btree ")[1]) for table, definition in rows}

    assert definitions == {
        ("users", "(id) WHERE is_celebrity"),
        ("users", "(avatar) WHERE (avatar IS NOT NULL)"),
        # Migration 0009, beyond the baseline: serves GET /users/suggested in order.
        (
            "users",
            '(follower_count DESC, post_count DESC, username COLLATE "C")'
            " WHERE ((follower_count > 0) OR (post_count > 0))",
        ),
        ("sessions", "(user_id, created DESC)"),
        ("sessions", "(expires_at)"),
        ("uploads", "(user_id, created)"),
        ("uploads", "(created)"),
        ("posts", "(created DESC, id DESC)"),
        ("posts", "(user_id, created DESC, id DESC)"),
        # Migration 0013, beyond the baseline: what `./taskw media:backfill-renditions` has left.
        ("posts", "(id) WHERE (renditions IS NULL)"),
        ("likes", "(user_id, created DESC, post_id DESC)"),
        # Migration 0018: a tag's posts in order (links carry their post's time).
        ("post_hashtags", "(hashtag_id, created DESC, post_id DESC)"),
        ("comments", "(post_id, created DESC, id DESC)"),
        ("follows", "(followee_id, created DESC, follower_id DESC)"),
        ("follows", "(follower_id, created DESC, followee_id DESC)"),
        ("feed", "(user_id, created DESC, post_id DESC)"),
        ("feed", "(post_id)"),
        ("notifications", "(user_id, created DESC, id DESC)"),
        ("notifications", "(user_id) WHERE (NOT read)"),
        ("notifications", "(type, entity_id)"),
        ("notifications", "(post_id) WHERE (post_id IS NOT NULL)"),
        ("notifications", "(comment_id) WHERE (comment_id IS NOT NULL)"),
        ("outbox", "(id) WHERE (published_at IS NULL)"),
        ("outbox", "(created)"),
        ("audit_log", "(user_id)"),
        ("recent_searches", "(user_id, created DESC, id DESC)"),
        # Migration 0015, beyond the baseline: the saved list in order; post deletions cascade.
        ("bookmarks", "(user_id, created DESC, post_id DESC)"),
        ("bookmarks", "(post_id)"),
        # Migrations 0016 and 0017 (docs/api.md §B): tokens by account, and the janitor's ages;
        # mail requests counted per account and purpose within the hour.
        ("mail_tokens", "(user_id, purpose)"),
        ("mail_tokens", "(expires)"),
        ("mail_deliveries", "(sent)"),
        ("verification_requests", "(user_id, purpose, created)"),
        # Migration 0018, beyond the baseline: the feed merges a viewer's latest followed tags.
        ("hashtag_follows", "(user_id, created DESC, hashtag_id DESC)"),
        # Migration 0019, beyond the baseline: one pending export per account; the settings list;
        # the janitor's expiry sweep.
        ("exports", "(user_id) WHERE ((status)::text = 'pending'::text)"),
        ("exports", "(user_id, created DESC)"),
        ("exports", "(expires) WHERE (expires IS NOT NULL)"),
        # Migration 0021, beyond the baseline: unfinished account removals; a user's comments and
        # the notifications they caused, which the account-remover deletes by these keys.
        ("users", "(deleted_at) WHERE (deleted_at IS NOT NULL)"),
        ("comments", "(user_id)"),
        ("notifications", "(actor_id)"),
        # Migration 0023: a block probed from the blocked side; the lists of
        # blocks and mutes, newest first; a muted account's removal.
        ("blocks", "(blocked_id, blocker_id)"),
        ("blocks", "(blocker_id, created DESC, blocked_id DESC)"),
        ("mutes", "(muted_id)"),
        ("mutes", "(muter_id, created DESC, muted_id DESC)"),
        # Migration 0024: one open report per reporter and subject; the open
        # queue oldest first and each subject's open group; the closed list; the accounts'
        # foreign keys.
        (
            "reports",
            "(reporter_id, subject_type, subject_id) WHERE ((status)::text = 'open'::text)",
        ),
        ("reports", "(created, id) WHERE ((status)::text = 'open'::text)"),
        (
            "reports",
            "(subject_type, subject_id, created, id) WHERE ((status)::text = 'open'::text)",
        ),
        ("reports", "(decided DESC, id DESC) WHERE ((status)::text = 'closed'::text)"),
        ("reports", "(author_id)"),
        ("reports", "(moderator_id) WHERE (moderator_id IS NOT NULL)"),
        # Migration 0025: a private account's pending follow requests,
        # newest first.
        ("follow_requests", "(target_id, created DESC, requester_id DESC)"),
    }


def test_search_indexes_use_trigrams_and_full_text(owner: pg8000.native.Connection) -> None:
    rows = owner.run(
        "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'public'"
        " AND indexdef LIKE '%USING gin%'"
    )
    definitions = {(table, definition.split(" USING gin ")[1]) for table, definition in rows}

    assert definitions == {
        ("users", "(username gin_trgm_ops)"),
        ("users", "(name gin_trgm_ops)"),
        ("hashtags", "(name gin_trgm_ops)"),
        # to_tsvector('simple', coalesce(description, '')), stored by migration 0010.
        ("posts", "(search_vector)"),
    }


def test_identity_keys_and_public_ids(owner: pg8000.native.Connection) -> None:
    user_id = _insert_user(owner, "identity.check")

    [[public_id]] = owner.run("SELECT public_id FROM users WHERE id = :id", id=user_id)

    assert isinstance(public_id, uuid.UUID)
    # GENERATED ALWAYS: the application cannot choose internal keys.
    assert (
        _sqlstate(
            owner,
            "INSERT INTO users (id, name, username, email, password_hash)"
            " VALUES (999, 'x', 'chosen_id', 'chosen@example.com', 'hash')",
        )
        == "428C9"
    )


# --- CHECK constraints -----------------------------------------------------------


@pytest.mark.parametrize("username", ["ab", "Upper", "with space", "trailing\n", "a" * 31, "café"])
def test_username_check_rejects(owner: pg8000.native.Connection, username: str) -> None:
    assert _sqlstate(
        owner,
        "INSERT INTO users (name, username, email, password_hash)"
        " VALUES ('x', :username, 'x@example.com', 'hash')",
        username=username,
    ) in (CHECK_VIOLATION, "22001")  # 22001: too long for varchar(30)


def test_username_check_accepts_the_allowed_alphabet(owner: pg8000.native.Connection) -> None:
    _insert_user(owner, "a.b_c9")
    _insert_user(owner, "z" * 30)


@pytest.mark.parametrize("blob", ["0123456789ABCDEF0123456789ABCDEF", "abc", BLOB[:-1] + "g"])
def test_blob_check_rejects(owner: pg8000.native.Connection, blob: str) -> None:
    user_id = _insert_user(owner, "blob.owner")

    assert (
        _sqlstate(owner, "UPDATE users SET avatar = :blob WHERE id = :id", blob=blob, id=user_id)
        == CHECK_VIOLATION
    )
    assert (
        _sqlstate(
            owner,
            "INSERT INTO uploads (filename, user_id) VALUES (:blob, :id)",
            blob=blob,
            id=user_id,
        )
        == CHECK_VIOLATION
    )
    assert (
        _sqlstate(
            owner,
            "INSERT INTO posts (filename, user_id) VALUES (:blob, :id)",
            blob=blob,
            id=user_id,
        )
        == CHECK_VIOLATION
    )


@pytest.mark.parametrize(
    ("table", "counter"),
    [
        ("users", "follower_count"),
        ("users", "post_count"),
        ("posts", "like_count"),
        ("posts", "comment_count"),
        ("hashtags", "post_count"),
    ],
)
def test_counters_cannot_go_negative(
    owner: pg8000.native.Connection, table: str, counter: str
) -> None:
    _insert_post(owner, _insert_user(owner, "counter.owner"))
    owner.run("INSERT INTO hashtags (name) VALUES ('tag')")

    # Table and column come from the parameter list above, not from input.
    assert _sqlstate(owner, f"UPDATE {table} SET {counter} = {counter} - 1") == CHECK_VIOLATION


def test_a_user_cannot_follow_themselves(owner: pg8000.native.Connection) -> None:
    user_id = _insert_user(owner, "narcissus")
    other_id = _insert_user(owner, "echo")

    owner.run(
        "INSERT INTO follows (follower_id, followee_id) VALUES (:a, :b)", a=other_id, b=user_id
    )
    assert (
        _sqlstate(
            owner, "INSERT INTO follows (follower_id, followee_id) VALUES (:id, :id)", id=user_id
        )
        == CHECK_VIOLATION
    )


def test_notification_types_are_closed(owner: pg8000.native.Connection) -> None:
    recipient = _insert_user(owner, "recipient")
    actor = _insert_user(owner, "actor")
    insert = (
        "INSERT INTO notifications (external_id, user_id, actor_id, type, entity_id)"
        " VALUES (:external_id, :recipient, :actor, :type, 'entity')"
    )

    owner.run(insert, external_id="event-1", recipient=recipient, actor=actor, type="follow")
    owner.run(insert, external_id="event-2", recipient=recipient, actor=actor, type="mention")
    owner.run(insert, external_id="event-4", recipient=recipient, actor=actor, type="export_ready")
    assert (
        _sqlstate(
            owner, insert, external_id="event-3", recipient=recipient, actor=actor, type="repost"
        )
        == CHECK_VIOLATION
    )


def test_other_closed_vocabularies(owner: pg8000.native.Connection) -> None:
    user_id = _insert_user(owner, "vocabulary")
    post_id = _insert_post(owner, user_id)

    assert _sqlstate(owner, "INSERT INTO hashtags (name) VALUES ('Not-A-Tag')") == CHECK_VIOLATION
    assert (
        _sqlstate(
            owner,
            "INSERT INTO comments (post_id, user_id, body) VALUES (:post, :user, '')",
            post=post_id,
            user=user_id,
        )
        == CHECK_VIOLATION
    )
    assert (
        _sqlstate(
            owner,
            "INSERT INTO recent_searches (user_id, entity_type, reference)"
            " VALUES (:id, 'tags', 'x')",
            id=user_id,
        )
        == CHECK_VIOLATION
    )
    assert (
        _sqlstate(
            owner,
            "INSERT INTO outbox (topic, type, source, subject, partition_key, payload)"
            " VALUES ('elsewhere', 't', 's', 'x', 'k', '{}')",
        )
        == CHECK_VIOLATION
    )


# --- cascades --------------------------------------------------------------------


def test_deleting_a_user_cascades(owner: pg8000.native.Connection) -> None:
    author = _insert_user(owner, "leaving")
    reader = _insert_user(owner, "staying")
    post_id = _insert_post(owner, author)
    owner.run(
        "INSERT INTO sessions (id, user_id, expires_at)"
        " VALUES (:id, :user, now() + interval '1 day')",
        id="f" * 64,
        user=author,
    )
    owner.run(
        "INSERT INTO likes (post_id, user_id) VALUES (:post, :user)", post=post_id, user=reader
    )
    owner.run(
        "INSERT INTO feed (user_id, post_id, created) VALUES (:user, :post, now())",
        user=reader,
        post=post_id,
    )
    owner.run(
        "INSERT INTO bookmarks (user_id, post_id) VALUES (:user, :post)", user=reader, post=post_id
    )

    owner.run("DELETE FROM users WHERE id = :id", id=author)

    for table in ("sessions", "posts", "likes", "feed", "bookmarks"):
        assert owner.run(f"SELECT count(*) FROM {table}") == [[0]], table
    assert owner.run("SELECT count(*) FROM users") == [[1]]


def test_bookmarks_cascade_from_their_post_and_their_user(
    owner: pg8000.native.Connection,
) -> None:
    author = _insert_user(owner, "saved_author")
    saver = _insert_user(owner, "saver")
    kept, deleted = _insert_post(owner, author), _insert_post(owner, author, "f" * 32)
    for post_id in (kept, deleted):
        owner.run(
            "INSERT INTO bookmarks (user_id, post_id) VALUES (:user, :post)",
            user=saver,
            post=post_id,
        )

    owner.run("DELETE FROM posts WHERE id = :id", id=deleted)
    assert owner.run("SELECT post_id FROM bookmarks") == [[kept]]
    owner.run("DELETE FROM users WHERE id = :id", id=saver)
    assert owner.run("SELECT count(*) FROM bookmarks") == [[0]]
    assert owner.run("SELECT count(*) FROM posts") == [[1]]


def test_album_images_cascade_with_their_post_and_keep_one_row_per_place(
    owner: pg8000.native.Connection,
) -> None:
    post_id = _insert_post(owner, _insert_user(owner, "album_author"))
    insert = "INSERT INTO post_images (post_id, position, filename) VALUES (:post, :at, :name)"
    owner.run(insert, post=post_id, at=1, name="a" * 32)

    # Position 0 is the post's own image; an album has at most ten.
    for position in (0, 10):
        assert _sqlstate(owner, insert, post=post_id, at=position, name="b" * 32) == (
            CHECK_VIOLATION
        )
    assert _sqlstate(owner, insert, post=post_id, at=1, name="b" * 32) == UNIQUE_VIOLATION
    assert _sqlstate(owner, insert, post=post_id, at=2, name="a" * 32) == UNIQUE_VIOLATION
    assert _sqlstate(owner, insert, post=post_id, at=2, name="not-a-blob") == CHECK_VIOLATION

    owner.run("DELETE FROM posts WHERE id = :id", id=post_id)
    assert owner.run("SELECT count(*) FROM post_images") == [[0]]


# --- roles -----------------------------------------------------------------------


@pytest.fixture
def login_url_as(migrated_database_url: str) -> Iterator[Callable[[str], str]]:
    """The URL of a new login user who is a member of the given role."""
    created: list[str] = []

    def login_url(role: str) -> str:
        name = f"phasma_test_{role}_{uuid.uuid4().hex[:12]}"
        password = uuid.uuid4().hex
        ensure_login_user(migrated_database_url, name, password, role)
        created.append(name)
        parts = urlsplit(migrated_database_url)
        netloc = f"{quote(name)}:{quote(password)}@{parts.hostname}:{parts.port or 5432}"
        return urlunsplit(parts._replace(netloc=netloc))

    yield login_url
    with connect(migrated_database_url) as owner_connection:
        for name in created:
            owner_connection.run(f'DROP ROLE "{name}"')


@pytest.fixture
def login_as(
    login_url_as: Callable[[str], str],
) -> Iterator[Callable[[str], pg8000.native.Connection]]:
    """Connect as a new login user who is a member of the given role."""
    connections: list[pg8000.native.Connection] = []

    def login(role: str) -> pg8000.native.Connection:
        connection = connect(login_url_as(role))
        connections.append(connection)
        return connection

    yield login
    for connection in connections:
        connection.close()


def test_app_role_reads_and_writes_but_has_no_ddl(
    login_as: Callable[[str], pg8000.native.Connection],
) -> None:
    app = login_as("phasma_app")

    user_id = _insert_user(app, "app.user")
    _insert_post(app, user_id)
    assert app.run("UPDATE users SET bio = 'hi' WHERE id = :id RETURNING id", id=user_id)
    assert app.run("SELECT count(*) FROM posts") == [[1]]

    assert _sqlstate(app, "CREATE TABLE sneaky (id int)") == INSUFFICIENT_PRIVILEGE
    assert _sqlstate(app, "DROP TABLE audit_log") == INSUFFICIENT_PRIVILEGE
    assert _sqlstate(app, "SELECT count(*) FROM schema_migrations") == INSUFFICIENT_PRIVILEGE


def test_indexer_role_reads_only_what_it_indexes(
    owner: pg8000.native.Connection,
    login_as: Callable[[str], pg8000.native.Connection],
) -> None:
    _insert_post(owner, _insert_user(owner, "indexed"))
    indexer = login_as("phasma_indexer")

    for table in ("outbox", "users", "posts", "hashtags", "post_hashtags"):
        indexer.run(f"SELECT count(*) FROM {table}")
    assert indexer.run("SELECT count(*) FROM posts") == [[1]]

    for table in TABLES - {"outbox", "users", "posts", "hashtags", "post_hashtags"}:
        assert _sqlstate(indexer, f"SELECT count(*) FROM {table}") == INSUFFICIENT_PRIVILEGE, table
    assert _sqlstate(indexer, "UPDATE posts SET description = 'x'") == INSUFFICIENT_PRIVILEGE


def test_indexer_role_cannot_read_secret_columns_but_its_document_queries_work(
    owner: pg8000.native.Connection,
    login_url_as: Callable[[str], str],
) -> None:
    user_id = _insert_user(owner, "indexed")
    _insert_post(owner, user_id)
    indexer_url = login_url_as("phasma_indexer")
    indexer = connect(indexer_url)
    pool = Database(Settings(_env_file=None, database_url=indexer_url))
    try:
        _indexer_reads_documents_only(indexer, pool)
    finally:
        pool.close()
        indexer.close()


def _indexer_reads_documents_only(indexer: pg8000.native.Connection, pool: Database) -> None:

    for column in ("password_hash", "email", "bio", "is_celebrity"):
        sql = f"SELECT {column} FROM users"
        assert _sqlstate(indexer, sql) == INSUFFICIENT_PRIVILEGE, column
    assert _sqlstate(indexer, "SELECT * FROM users") == INSUFFICIENT_PRIVILEGE
    assert _sqlstate(indexer, "SELECT like_count FROM posts") == INSUFFICIENT_PRIVILEGE

    # Every statement of document_queries, as the indexer and the re-index run them.
    [user] = pool.read(lambda executor: document_queries.users_after(executor, 0, 10))[0]
    assert user["username"] == "indexed"
    [post] = pool.read(lambda executor: document_queries.posts_after(executor, 0, 10))[0]
    assert post["username"] == "indexed"
    post_id, author_id = uuid.UUID(post["postId"]), uuid.UUID(user["userId"])
    assert pool.read(lambda executor: document_queries.post(executor, post_id)) == post
    assert pool.read(lambda executor: document_queries.user(executor, author_id)) == user
    by_author = pool.read(
        lambda executor: document_queries.posts_by_author_after(executor, author_id, 0, 10)
    )
    assert by_author[0] == [post]
    assert pool.read(lambda executor: document_queries.hashtags_after(executor, 0, 10)) == ([], 0)
    assert pool.read(lambda executor: document_queries.hashtag(executor, "none")) is None
    counts = [pool.read(partial(document_queries.count, index=index)) for index in INDEX_UIDS]
    assert counts == [1, 1, 0]


def test_audit_log_is_append_only_for_the_app_role(
    owner: pg8000.native.Connection,
    login_as: Callable[[str], pg8000.native.Connection],
) -> None:
    user_id = _insert_user(owner, "audited")
    app = login_as("phasma_app")

    app.run("INSERT INTO audit_log (user_id, action) VALUES (:id, 'password_changed')", id=user_id)

    for statement in (
        "UPDATE audit_log SET action = 'nothing'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "SELECT action FROM audit_log",
    ):
        assert _sqlstate(app, statement) == INSUFFICIENT_PRIVILEGE, statement
    assert owner.run("SELECT user_id, action FROM audit_log") == [[user_id, "password_changed"]]
    # A removed account's history stays, naming it by public id only (migration 0021).
    [[public_id]] = owner.run("SELECT public_id FROM users WHERE id = :id", id=user_id)
    app.run("DELETE FROM users WHERE id = :id", id=user_id)
    assert owner.run("SELECT user_id, user_public_id, action FROM audit_log") == [
        [None, public_id, "password_changed"]
    ]
