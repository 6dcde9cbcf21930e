"""`search-indexer` against the API tests' database (docs/domain.md §5.5, docs/operations.md §2.2).

Without `MEILI_URL` every delivery is acknowledged and skipped. The reactions
themselves run against the real database with a writer that records what it
would send to Meilisearch (no server is available here; the live suite in
tests/search runs them against one).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from cloudevents.http import CloudEvent

from phasma.config import Settings
from phasma.db.migrations import ensure_login_user
from phasma.db.pool import Database as Pool
from phasma.db.pool import Executor
from phasma.devstack.stack import with_credentials
from phasma.events.worker import OUTCOME_HEADER, ReceivedEvent, Skip
from phasma.search import document_queries
from phasma.search.indexer import apply
from phasma.search.reindex import Batch
from tests.api.conftest import Database, deliver


@dataclass
class RecordingWriter:
    """What the indexer sent, in order: ("upsert", index, documents) or ("delete", index, id)."""

    calls: list[tuple[str, str, Any]] = field(default_factory=list)

    def upsert(self, index: str, documents: list[dict[str, Any]]) -> None:
        if documents:
            self.calls.append(("upsert", index, documents))

    def delete(self, index: str, document_id: str) -> None:
        self.calls.append(("delete", index, document_id))

    def delete_posts_of(self, author_id: uuid.UUID) -> None:
        self.calls.append(("delete_posts_of", "posts", author_id))


def event(event_type: str, data: dict[str, Any]) -> ReceivedEvent:
    return ReceivedEvent(
        id=str(secrets.randbelow(10**9)),
        type=event_type,
        source="/phasma/tests",
        subject=None,
        time=datetime.now(UTC),
        data=data,
    )


@pytest.fixture
def pool(event_function) -> Pool:
    """The database pool of a hosted `search-indexer` (the app login in these tests)."""
    return event_function("search-indexer").runtime.db


@dataclass
class Author:
    id: int
    public_id: uuid.UUID
    username: str


def make_author(database: Database) -> Author:
    username = "ix" + secrets.token_hex(5)
    [[user_id, public_id]] = database.rows(
        """
        INSERT INTO users (name, username, email, password_hash)
        VALUES ('Indexed Person', :username, :email, 'x') RETURNING id, public_id
        """,
        username=username,
        email=f"{username}@example.com",
    )
    return Author(user_id, public_id, username)


def make_post(database: Database, author: Author, tags: tuple[str, ...] = ()) -> uuid.UUID:
    [[post_id, public_id]] = database.rows(
        """
        INSERT INTO posts (user_id, filename, description, created)
        VALUES (:user_id, :filename, 'indexed words', now() - interval '1 minute')
        RETURNING id, public_id
        """,
        user_id=author.id,
        filename=secrets.token_hex(16),
    )
    for tag in tags:
        hashtag_id = database.value(
            """
            INSERT INTO hashtags (name, post_count) VALUES (:name, 1)
            ON CONFLICT (name) DO UPDATE SET post_count = hashtags.post_count + 1 RETURNING id
            """,
            name=tag,
        )
        database.rows(
            "INSERT INTO post_hashtags (post_id, hashtag_id) VALUES (:p, :h)",
            p=post_id,
            h=hashtag_id,
        )
    return public_id


def test_without_meilisearch_every_event_is_acknowledged_and_skipped(event_function) -> None:
    indexer = event_function("search-indexer")
    cloud_event = CloudEvent(
        {
            "type": "phasma.user.created",
            "source": "/phasma/users",
            "id": "1",
            "subject": str(uuid.uuid4()),
        },
        {"userId": str(uuid.uuid4()), "username": "someone"},
    )
    response = deliver(indexer, cloud_event)
    assert response.status_code == 204
    assert response.headers[OUTCOME_HEADER] == "skipped"


def test_user_created_upserts_the_user_document_as_it_is_now(
    database: Database, pool: Pool
) -> None:
    author = make_author(database)
    writer = RecordingWriter()
    data = {
        "userId": str(author.public_id),
        "username": author.username,
        "name": "Indexed Person",
        "bio": None,
        "avatar": None,
        "created": "2026-06-22T12:00:00Z",
    }
    assert apply(event("phasma.user.created", data), writer, pool) == "applied"
    assert writer.calls == [
        (
            "upsert",
            "users",
            [
                {
                    "userId": str(author.public_id),
                    "username": author.username,
                    "name": "Indexed Person",
                    "avatar": None,
                }
            ],
        )
    ]


def test_a_forged_user_event_indexes_the_real_row_not_the_payload(
    database: Database, pool: Pool
) -> None:
    author = make_author(database)
    forged = {
        "userId": str(author.public_id),
        "username": "admin",
        "name": "Official Support <click here>",
        "bio": None,
        "avatar": "f" * 32,
        "created": "2026-06-22T12:00:00Z",
        "email": "victim@example.com",
        "passwordHash": "x",
    }
    for event_type in ("phasma.user.created", "phasma.user.updated"):
        writer = RecordingWriter()
        apply(event(event_type, {**forged, "previousUsername": None}), writer, pool)
        assert writer.calls == [
            (
                "upsert",
                "users",
                [
                    {
                        "userId": str(author.public_id),
                        "username": author.username,
                        "name": "Indexed Person",
                        "avatar": None,
                    }
                ],
            )
        ]


def test_a_user_event_for_an_account_that_does_not_exist_deletes_the_document(
    pool: Pool,
) -> None:
    invented = uuid.uuid4()
    data = {
        "userId": str(invented),
        "username": "ghost",
        "name": "Ghost",
        "bio": None,
        "avatar": None,
        "created": "2026-06-22T12:00:00Z",
    }
    writer = RecordingWriter()
    apply(event("phasma.user.created", data), writer, pool)
    assert writer.calls == [("delete", "users", str(invented))]


def test_a_rename_reindexes_every_post_of_the_author_with_the_new_username(
    database: Database, pool: Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small batches, so the test crosses batch boundaries with a handful of posts.
    monkeypatch.setattr("phasma.search.indexer.REINDEX_BATCH", 2)
    author = make_author(database)
    posts = {make_post(database, author) for _ in range(5)}
    other = make_post(database, make_author(database))
    writer = RecordingWriter()
    data = {
        "userId": str(author.public_id),
        "username": author.username,
        "previousUsername": "old_name",
        "name": "Indexed Person",
        "bio": None,
        "avatar": None,
    }
    apply(event("phasma.user.updated", data), writer, pool)

    assert writer.calls[0][:2] == ("upsert", "users")
    reindexed = [document for call in writer.calls[1:] for document in call[2]]
    assert all(call[:2] == ("upsert", "posts") for call in writer.calls[1:])
    assert {document["postId"] for document in reindexed} == {str(post) for post in posts}
    assert str(other) not in {document["postId"] for document in reindexed}
    assert {document["username"] for document in reindexed} == {author.username}


def test_a_profile_update_reindexes_the_user_and_its_posts_as_they_are_now(
    database: Database, pool: Pool
) -> None:
    # The event does not say whether privacy changed, so the posts are re-read too.
    author = make_author(database)
    post = make_post(database, author)
    writer = RecordingWriter()
    data = {
        "userId": str(author.public_id),
        "username": author.username,
        "previousUsername": None,
        "name": "New Name",
        "bio": "bio",
        "avatar": None,
    }
    database.rows("UPDATE users SET name = 'New Name', private = true WHERE id = :id", id=author.id)
    apply(event("phasma.user.updated", data), writer, pool)
    assert [call[:2] for call in writer.calls] == [("upsert", "users"), ("upsert", "posts")]
    assert writer.calls[0][2][0]["name"] == "New Name"
    [document] = writer.calls[1][2]
    assert document["postId"] == str(post) and document["authorPrivate"] is True


def test_a_suspended_account_leaves_search_with_its_posts_until_reinstated(
    database: Database, pool: Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("phasma.search.indexer.REINDEX_BATCH", 2)
    author = make_author(database)
    posts = sorted(str(make_post(database, author)) for _ in range(3))
    data = {
        "userId": str(author.public_id),
        "username": author.username,
        "previousUsername": None,
        "name": "Indexed Person",
        "bio": None,
        "avatar": None,
    }
    database.rows("UPDATE users SET suspended_at = now() WHERE id = :id", id=author.id)
    writer = RecordingWriter()
    apply(event("phasma.user.updated", data), writer, pool)
    assert writer.calls == [
        ("delete", "users", str(author.public_id)),
        ("delete_posts_of", "posts", author.public_id),
    ]

    database.rows("UPDATE users SET suspended_at = NULL WHERE id = :id", id=author.id)
    writer = RecordingWriter()
    apply(event("phasma.user.updated", data), writer, pool)
    assert writer.calls[0][:2] == ("upsert", "users")
    restored = sorted(document["postId"] for call in writer.calls[1:] for document in call[2])
    assert restored == posts


def test_post_created_indexes_the_post_as_it_is_now(database: Database, pool: Pool) -> None:
    author = make_author(database)
    tag = "ix" + secrets.token_hex(4)
    post_id = make_post(database, author, tags=(tag, f"{tag}_b"))
    created = database.value("SELECT created FROM posts WHERE public_id = :p", p=post_id)
    writer = RecordingWriter()
    data = {
        "postId": str(post_id),
        "authorId": str(author.public_id),
        "username": "stale_name",  # renamed since: the current row wins
        "description": "indexed words",
        "hashtags": [tag],
        "filename": "0" * 32,
        "filenames": ["0" * 32],
        "created": "2026-06-22T12:00:00Z",
        "authorIsCelebrity": False,
    }
    apply(event("phasma.post.created", data), writer, pool)
    [(action, index, [document])] = writer.calls
    assert (action, index) == ("upsert", "posts")
    assert document["postId"] == str(post_id)
    assert document["authorId"] == str(author.public_id)
    assert document["username"] == author.username
    assert document["hashtags"] == sorted([tag, f"{tag}_b"])
    assert document["created"] == int(created.timestamp() * 1000)
    assert document["authorPrivate"] is False
    assert set(document) == {
        "postId",
        "authorId",
        "username",
        "authorPrivate",
        "description",
        "hashtags",
        "filename",
        "created",
    }


def test_a_post_gone_before_indexing_is_skipped(pool: Pool) -> None:
    data = {
        "postId": str(uuid.uuid4()),
        "authorId": str(uuid.uuid4()),
        "username": "x",
        "description": None,
        "hashtags": [],
        "filename": "0" * 32,
        "filenames": ["0" * 32],
        "created": "2026-06-22T12:00:00Z",
        "authorIsCelebrity": False,
    }
    writer = RecordingWriter()
    with pytest.raises(Skip):
        apply(event("phasma.post.created", data), writer, pool)
    assert writer.calls == []


def test_post_updated_reindexes_the_edited_text_from_the_row_not_the_payload(
    database: Database, pool: Pool
) -> None:
    author = make_author(database)
    tag = "ix" + secrets.token_hex(4)
    post_id = make_post(database, author, tags=(tag,))
    database.rows(
        "UPDATE posts SET description = :d, edited = now() WHERE public_id = :p",
        d=f"edited words #{tag}",
        p=post_id,
    )
    data = {
        "postId": str(post_id),
        "authorId": str(author.public_id),
        "description": "an older edit, delivered late",
        "altText": None,
        "hashtags": [],
        "edited": "2026-06-22T12:00:00Z",
    }
    writer = RecordingWriter()
    apply(event("phasma.post.updated", data), writer, pool)
    [(action, index, [document])] = writer.calls
    assert (action, index) == ("upsert", "posts")
    assert document["postId"] == str(post_id)
    assert document["description"] == f"edited words #{tag}"
    assert document["hashtags"] == [tag]

    database.rows("DELETE FROM posts WHERE public_id = :p", p=post_id)
    writer = RecordingWriter()
    with pytest.raises(Skip):
        apply(event("phasma.post.updated", data), writer, pool)
    assert writer.calls == []


def test_post_deleted_deletes_the_document(pool: Pool) -> None:
    post_id = uuid.uuid4()
    data = {
        "postId": str(post_id),
        "authorId": str(uuid.uuid4()),
        "filename": "0" * 32,
        "filenames": ["0" * 32],
        "commentIds": [],
    }
    writer = RecordingWriter()
    apply(event("phasma.post.deleted", data), writer, pool)
    assert writer.calls == [("delete", "posts", str(post_id))]


def test_a_forged_post_deleted_for_a_live_post_keeps_it_indexed(
    database: Database, pool: Pool
) -> None:
    author = make_author(database)
    post_id = make_post(database, author)
    data = {
        "postId": str(post_id),
        "authorId": str(author.public_id),
        "filename": "0" * 32,
        "filenames": ["0" * 32],
        "commentIds": [],
    }
    writer = RecordingWriter()
    apply(event("phasma.post.deleted", data), writer, pool)
    [(action, index, [document])] = writer.calls
    assert (action, index) == ("upsert", "posts")
    assert document["postId"] == str(post_id)
    assert document["description"] == "indexed words"


def test_hashtag_updated_indexes_the_tag_count_as_it_is_now(database: Database, pool: Pool) -> None:
    author = make_author(database)
    tag = "ix" + secrets.token_hex(4)
    make_post(database, author, tags=(tag,))
    make_post(database, author, tags=(tag,))
    writer = RecordingWriter()
    # The payload's count is ignored both ways: a forged 0 cannot hide a tag...
    apply(event("phasma.hashtag.updated", {"name": tag, "postCount": 0}), writer, pool)
    # ...and an inflated count cannot rank it above the others.
    apply(event("phasma.hashtag.updated", {"name": tag, "postCount": 10**6}), writer, pool)
    database.rows("UPDATE hashtags SET post_count = 0 WHERE name = :name", name=tag)
    apply(event("phasma.hashtag.updated", {"name": tag, "postCount": 3}), writer, pool)
    assert writer.calls == [
        ("upsert", "hashtags", [{"name": tag, "postCount": 2}]),
        ("upsert", "hashtags", [{"name": tag, "postCount": 2}]),
        ("delete", "hashtags", tag),
    ]


def test_a_hashtag_that_does_not_exist_leaves_the_index(pool: Pool) -> None:
    writer = RecordingWriter()
    apply(event("phasma.hashtag.updated", {"name": "never_used", "postCount": 3}), writer, pool)
    assert writer.calls == [("delete", "hashtags", "never_used")]


@pytest.mark.parametrize(
    ("event_type", "data"),
    [
        ("phasma.post.liked", {"postId": str(uuid.uuid4())}),
        ("phasma.something.new", {}),
        ("phasma.hashtag.updated", {"name": "beach"}),  # undecodable: no postCount
        ("phasma.user.created", {"userId": "not-a-uuid"}),
    ],
)
def test_other_and_undecodable_events_are_skipped(
    pool: Pool, event_type: str, data: dict[str, Any]
) -> None:
    writer = RecordingWriter()
    with pytest.raises(Skip):
        apply(event(event_type, data), writer, pool)
    assert writer.calls == []


def test_replaying_the_same_events_sends_the_same_idempotent_writes(pool: Pool) -> None:
    first, second = RecordingWriter(), RecordingWriter()
    hashtag = event("phasma.hashtag.updated", {"name": "replayed", "postCount": 2})
    for writer in (first, second):
        apply(hashtag, writer, pool)
    assert first.calls == second.calls


def test_documents_times_are_utc_milliseconds(database: Database, pool: Pool) -> None:
    author = make_author(database)
    post_id = make_post(database, author)
    moment = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    database.rows("UPDATE posts SET created = :c WHERE public_id = :p", c=moment, p=post_id)
    writer = RecordingWriter()
    data = {
        "postId": str(post_id),
        "authorId": str(author.public_id),
        "username": author.username,
        "description": None,
        "hashtags": [],
        "filename": "0" * 32,
        "filenames": ["0" * 32],
        "created": (moment - timedelta(days=1)).isoformat(),
        "authorIsCelebrity": False,
    }
    apply(event("phasma.post.created", data), writer, pool)
    assert writer.calls[0][2][0]["created"] == int(moment.timestamp() * 1000)


def read_all(reader: Pool, index: str, batch: Batch) -> list[dict[str, Any]]:
    """Every document of `index`, batch after batch, as the re-index reads them."""
    documents: list[dict[str, Any]] = []
    after = 0
    while True:
        page, after = reader.read(partial(_batch_after, batch=batch, after=after))
        documents += page
        if len(page) < 500:
            assert len(documents) == reader.read(partial(document_queries.count, index=index))
            return documents


def _batch_after(executor: Executor, batch: Batch, after: int) -> tuple[list[dict[str, Any]], int]:
    return batch(executor, after, 500)


def test_the_reindex_reads_every_document_as_the_read_only_indexer_login(
    api_database: tuple[str, str], database: Database
) -> None:
    owner_url, _app_url = api_database
    password = secrets.token_hex(16)
    ensure_login_user(owner_url, "phasma_indexer_user", password, "phasma_indexer")
    indexer_url = with_credentials(owner_url, "phasma_indexer_user", password)
    author = make_author(database)
    tag = "ix" + secrets.token_hex(4)
    post_id = make_post(database, author, tags=(tag,))

    reader = Pool(Settings(_env_file=None, database_url=indexer_url))
    try:
        users = read_all(reader, "users", document_queries.users_after)
        posts = read_all(reader, "posts", document_queries.posts_after)
        hashtags = read_all(reader, "hashtags", document_queries.hashtags_after)
        # The login may read what it indexes and nothing else.
        with pytest.raises(Exception, match="permission denied"):
            reader.read(lambda executor: executor.fetch_all("SELECT 1 FROM sessions LIMIT 1"))
    finally:
        reader.close()

    user = next(document for document in users if document["username"] == author.username)
    assert user["userId"] == str(author.public_id)
    post = next(document for document in posts if document["postId"] == str(post_id))
    assert post["hashtags"] == [tag]
    assert post["username"] == author.username
    assert {"name": tag, "postCount": 1} in hashtags
    assert all(document["postCount"] > 0 for document in hashtags)
