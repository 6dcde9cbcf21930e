"""The search contract against a real Meilisearch: run when MEILI_URL and MEILI_MASTER_KEY are set.

No package registry reachable from the development machines ships a Meilisearch
server, and a stand-in would prove nothing, so without those variables every test
here is reported as skipped. With them, this suite provisions the indexes and the
scoped keys (`phasma.search.setup`), loads documents through the re-index and the
indexer, and drives the real `search` function over HTTP: the same scenarios as
tests/api/test_search_api.py runs on PostgreSQL.
"""

from __future__ import annotations

import io
import os
import secrets
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import meilisearch
import pytest
from meilisearch.errors import MeilisearchApiError

from phasma.config import Settings
from phasma.db.connect import connect as connect_database
from phasma.db.migrations import ensure_login_user
from phasma.devstack.services import DependencyUrls
from phasma.devstack.stack import with_credentials
from phasma.provisioning import APP_DATABASE_USER
from phasma.search.backend import SearchUnavailable
from phasma.search.documents import INDEXES
from phasma.search.indexer import IndexWriter
from phasma.search.meilisearch_backend import connect
from phasma.search.reindex import reindex
from phasma.search.setup import provision
from tests.api.conftest import Api, build_settings, new_identity, start_api
from tests.databases import database_from_template

MEILI_URL = os.environ.get("MEILI_URL", "")
MEILI_MASTER_KEY = os.environ.get("MEILI_MASTER_KEY", "")

pytestmark = pytest.mark.skipif(
    not (MEILI_URL and MEILI_MASTER_KEY),
    reason=(
        "live Meilisearch contract suite not run: set MEILI_URL and MEILI_MASTER_KEY "
        "(no registry reachable here ships a Meilisearch server)"
    ),
)


def token() -> str:
    """A letters-only word (Meilisearch splits letters from digits) no other data contains."""
    return "zq" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(8))


@dataclass
class Live:
    base_url: str
    owner_url: str
    settings: Settings
    master: meilisearch.Client
    keys: dict[str, str]

    def sql(self, statement: str, **params: Any) -> list[list[Any]]:
        connection = connect_database(self.owner_url)
        try:
            return connection.run(statement, **params) or []
        finally:
            connection.close()

    def settle(self) -> None:
        """Wait until Meilisearch has applied every queued task."""
        pending = self.master.get_tasks({"statuses": ["enqueued", "processing"]}).results
        for task in pending:
            self.master.wait_for_task(task.uid, timeout_in_ms=60_000)

    def reindex(self) -> None:
        reindex(self.settings, io.StringIO())
        self.settle()


@pytest.fixture(scope="module")
def live(dependencies: DependencyUrls, template_database: str) -> Iterator[Live]:
    owner_url = database_from_template(
        dependencies.database_url, template_database, "phasma_search_live"
    )
    password = secrets.token_hex(16)
    ensure_login_user(owner_url, APP_DATABASE_USER, password, "phasma_app")
    master = connect(MEILI_URL, MEILI_MASTER_KEY)
    keys = provision(master, datetime.now(UTC))
    settings = build_settings(
        with_credentials(owner_url, APP_DATABASE_USER, password),
        dependencies,
        meili_url=MEILI_URL,
        meili_search_key=keys["search"],
        meili_indexer_key=keys["search-indexer"],
    )
    api = start_api(settings)
    yield Live(api.url, owner_url, settings, master, keys)
    api.stop()


@pytest.fixture
def client(live: Live) -> Api:
    """A signed-in client of the live stack."""
    api = Api(live.base_url)
    identity = new_identity()
    assert api.post("/users", json=identity).status_code == 201
    login = {"email": identity["email"], "password": identity["password"]}
    assert api.post("/sessions", json=login).status_code == 201
    return api


def register(live: Live, username: str, name: str | None = None) -> str:
    identity = {**new_identity(), "username": username, "name": name or "Live Person"}
    assert Api(live.base_url).post("/users", json=identity).status_code == 201
    return username


def post(live: Live, author: str, description: str, *, age: float = 0, tags=(), likes=0) -> str:
    created = datetime.now(UTC) - timedelta(minutes=age)
    [[post_id, public_id]] = live.sql(
        """
        INSERT INTO posts (user_id, filename, description, like_count, created)
        VALUES ((SELECT id FROM users WHERE username = :author), :filename, :description,
                :likes, :created)
        RETURNING id, public_id
        """,
        author=author,
        filename=secrets.token_hex(16),
        description=description,
        likes=likes,
        created=created,
    )
    for tag in tags:
        [[hashtag_id]] = live.sql(
            """
            INSERT INTO hashtags (name, post_count) VALUES (:name, 1)
            ON CONFLICT (name) DO UPDATE SET post_count = hashtags.post_count + 1 RETURNING id
            """,
            name=tag,
        )
        live.sql(
            "INSERT INTO post_hashtags (post_id, hashtag_id) VALUES (:p, :h)",
            p=post_id,
            h=hashtag_id,
        )
    return str(public_id)


def search(client: Api, **params: Any) -> dict[str, Any]:
    response = client.get("/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()


# --- provisioning -----------------------------------------------------------------------


def test_settings_are_applied_and_reapplying_changes_nothing(live: Live) -> None:
    before = {index.uid: live.master.index(index.uid).get_settings() for index in INDEXES}
    for index in INDEXES:
        applied = before[index.uid]
        for name, value in index.settings().items():
            assert applied[name] == value, (index.uid, name)
        assert live.master.index(index.uid).get_primary_key() == index.primary_key
    provision(live.master, datetime.now(UTC))
    after = {index.uid: live.master.index(index.uid).get_settings() for index in INDEXES}
    assert after == before


def test_each_key_can_do_only_its_own_job(live: Live) -> None:
    searcher = connect(MEILI_URL, live.keys["search"])
    indexer = connect(MEILI_URL, live.keys["search-indexer"])
    assert "hits" in searcher.index("users").search("x")
    with pytest.raises(MeilisearchApiError) as refused:
        searcher.index("users").add_documents([{"userId": "x", "username": "x", "name": "x"}])
    assert refused.value.status_code == 403
    with pytest.raises(MeilisearchApiError) as refused:
        indexer.index("users").search("x")
    assert refused.value.status_code == 403
    with pytest.raises(MeilisearchApiError):
        indexer.get_keys()


def test_a_missing_or_wrong_key_names_the_variable_to_fix(live: Live) -> None:
    document = {"userId": "x", "username": "x", "name": "x"}
    with pytest.raises(SearchUnavailable, match="MEILI_INDEXER_KEY is unset"):
        IndexWriter(connect(MEILI_URL, "")).upsert("users", [document])
    with pytest.raises(SearchUnavailable, match="MEILI_INDEXER_KEY was refused"):
        IndexWriter(connect(MEILI_URL, live.keys["search"])).upsert("users", [document])


# --- the same scenarios as on PostgreSQL ------------------------------------------------


def test_users_best_match_first_and_typeahead_arrays(live: Live, client: Api) -> None:
    word = token()
    exact = register(live, word)
    register(live, f"{word}_photos")
    live.reindex()
    found = search(client, q=word, type="users")["items"]
    assert found[0]["username"] == exact
    assert set(found[0]) == {"username", "name", "avatar"}
    typeahead = client.get("/users/search", params={"q": f"@{word}"}).json()
    assert isinstance(typeahead, list) and typeahead[0]["username"] == exact


def test_hashtag_filter_newest_first_with_likes_from_postgresql(live: Live, client: Api) -> None:
    word = token()
    author = register(live, token())
    old = post(live, author, "first", tags=(word,), age=30, likes=7)
    new = post(live, author, "second", tags=(word,), age=5)
    post(live, author, f"mentions {word} untagged", age=1)
    live.reindex()
    items = search(client, q=f"#{word.upper()}", type="posts")["items"]
    assert [item["id"] for item in items] == [new, old]
    assert items[1]["likes"] == 7
    injection = client.get("/search", params={"q": '#a" OR hashtags = "b', "type": "posts"})
    assert injection.status_code == 400


def test_blended_paging_never_skips_or_repeats(live: Live, client: Api) -> None:
    word = token()
    users = {register(live, f"{word}{letter}") for letter in "abcdefg"}
    author = register(live, token())
    posts = {post(live, author, f"{word} number {index}", age=index) for index in range(23)}
    for letter in "abcde":
        live.sql("INSERT INTO hashtags (name, post_count) VALUES (:n, 3)", n=f"{word}_{letter}")
    live.reindex()
    for limit in (1, 3, 7, 20):
        seen: list[tuple[str, str]] = []
        cursor = None
        while True:
            params = {"q": word, "type": "all", "limit": limit}
            page = search(client, **params, **({"cursor": cursor} if cursor else {}))
            key = {"users": "username", "posts": "id", "hashtags": "name"}
            seen += [(item["type"], item["item"][key[item["type"]]]) for item in page["items"]]
            cursor = page["nextCursor"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen))
        assert {value for kind, value in seen if kind == "users"} == users
        assert {value for kind, value in seen if kind == "posts"} == posts
        assert {value for kind, value in seen if kind == "hashtags"} == {
            f"{word}_{letter}" for letter in "abcde"
        }


def test_an_unused_hashtag_leaves_the_index(live: Live, client: Api) -> None:
    word = token()
    writer = IndexWriter(connect(MEILI_URL, live.keys["search-indexer"]))
    writer.upsert("hashtags", [{"name": word, "postCount": 2}])
    live.settle()
    assert client.get("/hashtags/search", params={"q": word}).json() == [
        {"name": word, "postCount": 2}
    ]
    writer.delete("hashtags", word)
    live.settle()
    assert client.get("/hashtags/search", params={"q": word}).json() == []


def test_bad_queries_never_reach_the_engine(client: Api) -> None:
    for params in ({"q": "", "type": "all"}, {"q": "a", "type": "x"}, {"q": "#-", "type": "all"}):
        response = client.get("/search", params=params)
        assert response.status_code == 400
        assert response.json()["message"]


def test_a_failing_engine_answers_503(live: Live, dependencies: DependencyUrls) -> None:
    settings = live.settings.model_copy(update={"meili_search_key": "not-a-key"})
    started = start_api(settings)
    try:
        api = Api(started.url)
        identity = new_identity()
        assert api.post("/users", json=identity).status_code == 201
        login = {"email": identity["email"], "password": identity["password"]}
        assert api.post("/sessions", json=login).status_code == 201
        response = api.get("/search", params={"q": "anything", "type": "all"})
        assert response.status_code == 503
        assert response.json() == {"message": "Service unavailable"}
    finally:
        started.stop()
