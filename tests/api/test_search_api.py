"""`search` function over HTTP on the PostgreSQL backend (docs/api.md §13; docs/domain.md §2.8, §6).

The API tests share one database, so every scenario builds its own data around a
fresh random token that no other test's users, posts or hashtags contain.
"""

from __future__ import annotations

import base64
import json
import secrets
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.conftest import Account, Api, Database

Page = dict[str, Any]


def token() -> str:
    """A lowercase word no other test's data contains (starts with a letter)."""
    return "zq" + secrets.token_hex(4)


@dataclass
class Content:
    """Owner-side inserts for what has no API here: posts, hashtags and their links."""

    database: Database

    def user_id(self, username: str) -> int:
        return self.database.value("SELECT id FROM users WHERE username = :u", u=username)

    def post(
        self,
        author: str,
        description: str | None,
        *,
        age_minutes: float = 0,
        tags: tuple[str, ...] = (),
        likes: int = 0,
    ) -> str:
        """Insert a post `age_minutes` old carrying `tags`; returns its publicId."""
        created = datetime.now(UTC) - timedelta(minutes=age_minutes)
        [[post_id, public_id]] = self.database.rows(
            """
            INSERT INTO posts (user_id, filename, description, like_count, created)
            VALUES (:user_id, :filename, :description, :likes, :created)
            RETURNING id, public_id
            """,
            user_id=self.user_id(author),
            filename=secrets.token_hex(16),
            description=description,
            likes=likes,
            created=created,
        )
        for tag in tags:
            hashtag_id = self.database.value(
                """
                INSERT INTO hashtags (name, post_count) VALUES (:name, 1)
                ON CONFLICT (name) DO UPDATE SET post_count = hashtags.post_count + 1
                RETURNING id
                """,
                name=tag,
            )
            self.database.rows(
                "INSERT INTO post_hashtags (post_id, hashtag_id) VALUES (:post, :tag)",
                post=post_id,
                tag=hashtag_id,
            )
        return str(public_id)

    def hashtag(self, name: str, post_count: int) -> None:
        self.database.rows(
            """
            INSERT INTO hashtags (name, post_count) VALUES (:name, :count)
            ON CONFLICT (name) DO UPDATE SET post_count = EXCLUDED.post_count
            """,
            name=name,
            count=post_count,
        )


@pytest.fixture
def content(database: Database) -> Content:
    return Content(database)


@pytest.fixture
def register(api: Api) -> Callable[..., str]:
    """Register a user with a chosen username and name (no session): returns the username."""

    def create(username: str, name: str | None = None) -> str:
        identity = {
            "name": name or f"Someone {secrets.token_hex(3)}",
            "username": username,
            "email": f"{username}@example.com",
            "password": "correct horse battery",
        }
        response = api.post("/users", json=identity)
        assert response.status_code == 201, response.text
        return username

    return create


def search(client: Api, **params: Any) -> Page:
    response = client.get("/search", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    return response.json()


def walk(client: Api, **params: Any) -> list[list[dict[str, Any]]]:
    """Every page of a search, following `nextCursor` until it is null."""
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = search(client, **query)
        pages.append(page["items"])
        cursor = page["nextCursor"]
        if cursor is None:
            return pages
        assert len(pages) < 100, "paging must end"


def usernames(items: list[dict[str, Any]]) -> list[str]:
    return [item["username"] for item in items]


# --- users ------------------------------------------------------------------------------


def test_users_rank_exact_then_prefix_then_similarity(
    account: Account, register: Callable[..., str]
) -> None:
    word = token()
    exact = register(word)
    by_username = register(f"{word}_photos")
    by_name = register(f"m{secrets.token_hex(5)}", name=f"{word.capitalize()} Person")
    similar = register(f"{word[:-1]}x9")  # shares most trigrams, but is no prefix
    unrelated = register(token())

    page = search(account.client, q=word, type="users")
    found = usernames(page["items"])

    assert found[0] == exact
    assert set(found[1:3]) == {by_username, by_name}
    assert found[3] == similar
    assert unrelated not in found
    assert page["nextCursor"] is None
    assert set(page["items"][0]) == {"username", "name", "avatar"}
    assert page["items"][0]["avatar"] is None


def test_users_match_case_insensitively_ignore_a_leading_at_and_tolerate_typos(
    account: Account, register: Callable[..., str]
) -> None:
    word = token()
    username = register(f"{word}_travels", name=f"{word.capitalize()} Traveller")
    for query in (word.upper(), f"@{word}", f"  @{word}_trav  ", f"{word}_travles"):
        found = usernames(search(account.client, q=query, type="users")["items"])
        assert username in found, query


def test_users_typeahead_is_a_bare_array_of_at_most_ten(
    account: Account, register: Callable[..., str]
) -> None:
    # Letters only: pg_trgm compares trigram sets, so a digit suffix repeating a trigram
    # of the word ("...1909" + "09") would make that username more similar than the rest.
    word = token().translate(str.maketrans("0123456789", "ghijklmnop"))
    created = [register(f"{word}{index:02d}") for index in range(12)]
    response = account.client.get("/users/search", params={"q": word})
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    assert len(body) == 10
    # Equal prefix matches: the most similar (shortest) first, then username order.
    assert usernames(body) == sorted(created)[:10]


# --- hashtags ---------------------------------------------------------------------------


def test_hashtags_rank_exact_prefix_similarity_then_post_count_and_skip_empty_tags(
    account: Account, content: Content
) -> None:
    word = token()
    content.hashtag(word, 1)
    content.hashtag(f"{word}_small", 2)
    content.hashtag(f"{word}_large", 50)
    content.hashtag(f"{word}_unused", 0)
    content.hashtag(f"{word[:-1]}", 7)  # a prefix of the query, so only similar

    response = account.client.get("/hashtags/search", params={"q": f"#{word.upper()}"})
    assert response.status_code == 200
    body = response.json()
    assert body[:3] == [
        {"name": word, "postCount": 1},
        {"name": f"{word}_large", "postCount": 50},
        {"name": f"{word}_small", "postCount": 2},
    ]
    assert {"name": word[:-1], "postCount": 7} in body[3:]
    assert f"{word}_unused" not in [item["name"] for item in body]

    page = search(account.client, q=word, type="hashtags", limit=2)
    assert [item["name"] for item in page["items"]] == [word, f"{word}_large"]
    assert base64.b64decode(page["nextCursor"]) == b"2"


# --- posts ------------------------------------------------------------------------------


def test_posts_rank_by_text_relevance_then_recency_then_author_matches(
    account: Account, register: Callable[..., str], content: Content
) -> None:
    word = token()
    author = register(token())
    namesake = register(f"{word}_author")
    strong = content.post(author, f"{word} {word} {word} sunset", age_minutes=30)
    older = content.post(author, f"{word} beach", age_minutes=20, likes=7)
    newer = content.post(author, f"a {word} beach", age_minutes=10)
    by_author = content.post(namesake, "nothing to see", age_minutes=1)
    content.post(author, "unrelated words", age_minutes=1)

    items = search(account.client, q=word, type="posts")["items"]
    assert [item["id"] for item in items] == [strong, newer, older, by_author]
    assert items[2] == {
        "id": older,
        "username": author,
        "description": f"{word} beach",
        "filename": items[2]["filename"],
        "likes": 7,
    }
    assert len(items[2]["filename"]) == 32


def test_posts_match_the_last_word_as_a_prefix_and_every_word(
    account: Account, register: Callable[..., str], content: Content
) -> None:
    word = token()
    author = register(token())
    sunset = content.post(author, f"{word} sunset at the beach")
    sundial = content.post(author, f"{word} sundial")

    def ids(query: str) -> set[str]:
        return {item["id"] for item in search(account.client, q=query, type="posts")["items"]}

    assert ids(f"{word} sun") == {sunset, sundial}
    assert ids(f"{word} sunset") == {sunset}
    # Only the last word is a prefix: earlier ones must be whole words.
    assert ids(f"sunset {word}") == {sunset}
    assert ids(f"sun {word}") == set()
    assert ids(word[:-2]) == {sunset, sundial}
    assert ids(f"{word} moon") == set()


def test_at_and_hash_are_word_separators_outside_the_hashtag_filter(
    account: Account, register: Callable[..., str], content: Content
) -> None:
    word = token()
    author = register(f"{word}_ann")
    post = content.post(author, f"hello from #{word}cats", tags=(f"{word}cats",))

    # `@name` finds the user and, through the author, her posts.
    assert usernames(search(account.client, q=f"@{word}_ann", type="users")["items"]) == [author]
    found = search(account.client, q=f"@{word}_ann", type="posts")["items"]
    assert [item["id"] for item in found] == [post]
    # A `#` in the middle is a separator, not a filter.
    found = search(account.client, q=f"hello#{word}cats", type="posts")["items"]
    assert [item["id"] for item in found] == [post]
    hashtags = search(account.client, q=f"#{word}cats", type="hashtags")["items"]
    assert hashtags == [{"name": f"{word}cats", "postCount": 1}]


def test_hashtag_filter_returns_exactly_that_tag_newest_first(
    account: Account, register: Callable[..., str], content: Content
) -> None:
    word = token()
    author = register(token())
    old = content.post(author, "first", tags=(word,), age_minutes=30)
    new = content.post(author, None, tags=(word, f"{word}_other"), age_minutes=5)
    content.post(author, f"mentions {word} but is not tagged", age_minutes=1)
    content.post(author, "other tag", tags=(f"{word}_other",), age_minutes=2)

    page = search(account.client, q=f"#{word.upper()}", type="posts", limit=1)
    assert [item["id"] for item in page["items"]] == [new]
    assert page["items"][0]["description"] == ""
    second = search(account.client, q=f"#{word}", type="posts", limit=1, cursor=page["nextCursor"])
    assert [item["id"] for item in second["items"]] == [old]
    assert second["nextCursor"] is None
    assert search(account.client, q=f"#{word}_none", type="posts")["items"] == []


def test_an_edited_post_is_found_by_its_new_text_and_tags_only(
    account: Account, content: Content
) -> None:
    old, new = token(), token()
    post = content.post(account.username, f"{old} words #{old}", tags=(old,))
    assert [item["id"] for item in search(account.client, q=old, type="posts")["items"]] == [post]

    response = account.client.patch(f"/posts/{post}", json={"description": f"{new} #{new}"})
    assert response.status_code == 200, response.text

    def ids(query: str) -> list[str]:
        return [item["id"] for item in search(account.client, q=query, type="posts")["items"]]

    assert ids(new) == [post] and ids(f"#{new}") == [post]
    assert ids(old) == [] and ids(f"#{old}") == []
    found = search(account.client, q=new, type="posts")["items"][0]
    assert found["description"] == f"{new} #{new}"
    assert search(account.client, q=new, type="hashtags")["items"] == [
        {"name": new, "postCount": 1}
    ]
    assert search(account.client, q=old, type="hashtags")["items"] == []


def test_single_type_pages_never_end_on_an_empty_page(
    account: Account, register: Callable[..., str]
) -> None:
    word = token()
    created = {register(f"{word}{index}") for index in range(6)}
    pages = walk(account.client, q=word, type="users", limit=3)
    assert [len(page) for page in pages] == [3, 3]
    assert {item["username"] for page in pages for item in page} == created


# --- blended ----------------------------------------------------------------------------


@pytest.fixture
def blended_data(register: Callable[..., str], content: Content) -> tuple[str, dict[str, set]]:
    """7 users, 23 posts and 5 hashtags matching one word: (word, the keys of each type)."""
    word = token()
    users = {register(f"{word}{index}") for index in range(7)}
    author = register(token())
    posts = {
        content.post(author, f"{word} number {index}", age_minutes=index) for index in range(23)
    }
    hashtags = {f"{word}_{index}" for index in range(5)}
    for name in hashtags:
        content.hashtag(name, 3)
    return word, {"users": users, "posts": posts, "hashtags": hashtags}


KEY_FIELD = {"users": "username", "posts": "id", "hashtags": "name"}


def key_of(item: dict[str, Any]) -> str:
    """The identity of a blended item: username, post id or hashtag name."""
    return item["item"][KEY_FIELD[item["type"]]]


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 7, 20])
def test_blended_paging_never_skips_repeats_or_invents_a_hit(
    account: Account, blended_data: tuple[str, dict[str, set]], limit: int
) -> None:
    word, expected = blended_data
    pages = walk(account.client, q=word, type="all", limit=limit)
    items = [item for page in pages for item in page]
    keys = [(item["type"], key_of(item)) for item in items]
    assert len(keys) == len(set(keys)), "a hit was repeated"
    for kind, wanted in expected.items():
        assert {key for item_kind, key in keys if item_kind == kind} == wanted, kind
    assert all(len(page) <= limit for page in pages)
    assert all(pages[:-1]), "only the last page may be empty"


def test_blended_page_targets_pattern_and_cursor(
    account: Account, blended_data: tuple[str, dict[str, set]]
) -> None:
    word, _expected = blended_data
    page = search(account.client, q=word, type="all", limit=10)
    kinds = [item["type"] for item in page["items"]]
    assert kinds == ["users", "posts", "posts", "posts", "hashtags"] * 2
    assert set(page["items"][1]["item"]) == {"id", "username", "description", "filename", "likes"}
    offsets = json.loads(base64.b64decode(page["nextCursor"]))
    assert offsets == {"u": 2, "p": 6, "h": 2}


def test_blended_follow_boost_reorders_users_within_the_page_only(
    account: Account, register: Callable[..., str]
) -> None:
    word = token()
    first, second, third, fourth = sorted(register(f"{word}{index}") for index in range(4))
    for followed in (second, fourth):
        assert account.client.post(f"/users/{followed}/follow").status_code in (200, 201, 204)

    # Limit 10 aims at 2 users; with no posts or hashtags the users' look-ahead fills in.
    page = search(account.client, q=word, type="all", limit=10)
    users = [item["item"]["username"] for item in page["items"] if item["type"] == "users"]
    assert users == [second, first, third]
    # `fourth` is followed too, but boosting never pulls a hit across pages.
    rest = search(account.client, q=word, type="all", limit=10, cursor=page["nextCursor"])
    assert [item["item"]["username"] for item in rest["items"]] == [fourth]
    assert rest["nextCursor"] is None


def test_blended_hashtag_query_filters_posts_and_matches_users_and_tags_by_text(
    account: Account, register: Callable[..., str], content: Content
) -> None:
    word = token()
    user = register(word)
    tagged = content.post(user, "tagged", tags=(word,))
    content.post(user, f"mentions {word}")
    items = search(account.client, q=f"#{word}", type="all")["items"]
    assert {(item["type"], key_of(item)) for item in items} == {
        ("users", user),
        ("posts", tagged),
        ("hashtags", word),
    }


# --- bad queries ------------------------------------------------------------------------


def b64(value: object) -> str:
    return base64.b64encode(str(value).encode()).decode()


BAD_SEARCHES = [
    ({"type": "users"}, "q"),
    ({"q": "", "type": "users"}, "q"),
    ({"q": "   ", "type": "users"}, "q"),
    ({"q": "x" * 51, "type": "users"}, "q"),
    ({"q": "ok"}, "type"),
    ({"q": "ok", "type": "people"}, "type"),
    ({"q": "ok", "type": "ALL"}, "type"),
    ({"q": "ok", "type": "users", "limit": "0"}, "limit"),
    ({"q": "ok", "type": "users", "limit": "-3"}, "limit"),
    ({"q": "ok", "type": "users", "limit": "ten"}, "limit"),
    ({"q": "ok", "type": "users", "page": "2"}, "page"),
    ({"q": "ok", "type": "users", "cursor": "not base64"}, "cursor"),
    ({"q": "ok", "type": "users", "cursor": b64(-5)}, "cursor"),
    ({"q": "ok", "type": "users", "cursor": b64("abc")}, "cursor"),
    ({"q": "ok", "type": "posts", "cursor": b64(json.dumps({"u": 0, "p": 0, "h": 0}))}, "cursor"),
    ({"q": "ok", "type": "all", "cursor": b64(20)}, "cursor"),
    ({"q": "ok", "type": "all", "cursor": b64(json.dumps({"u": -1, "p": 0, "h": 0}))}, "cursor"),
    ({"q": "ok", "type": "all", "cursor": b64(json.dumps({"u": 0, "p": 0}))}, "cursor"),
    ({"q": "#", "type": "posts"}, "invalid hashtag"),
    ({"q": "#bad-tag", "type": "posts"}, "invalid hashtag"),
    ({"q": "#two words", "type": "all"}, "invalid hashtag"),
    ({"q": "#" + "a" * 48 + "é", "type": "posts"}, "invalid hashtag"),
    ({"q": "#ab#cd", "type": "posts"}, "invalid hashtag"),
    ({"q": "#ta\ng", "type": "posts"}, "invalid hashtag"),  # whole-string match
    # The order of docs/api.md §13.4: the first failing check decides.
    ({"q": "", "type": "nope", "limit": "0"}, "q"),
    ({"q": "ok", "type": "nope", "limit": "0"}, "type"),
    ({"q": "#bad-tag", "type": "posts", "limit": "0"}, "limit"),
    ({"q": "#bad-tag", "type": "posts", "cursor": "!"}, "cursor"),
]


@pytest.mark.parametrize(("params", "mentions"), BAD_SEARCHES)
def test_bad_searches_are_rejected_in_the_contract_order(
    account: Account, database: Database, params: dict[str, str], mentions: str
) -> None:
    before = database.counts("recent_searches", "outbox")
    response = account.client.get("/search", params=params)
    assert response.status_code == 400
    assert mentions in response.json()["message"]
    assert database.counts("recent_searches", "outbox") == before


def test_hashtag_rules_apply_only_where_posts_are_searched(account: Account) -> None:
    for kind in ("users", "hashtags"):
        assert account.client.get("/search", params={"q": "#bad-tag", "type": kind}).ok
    assert account.client.get("/search", params={"q": "#" + "a" * 49, "type": "posts"}).ok


@pytest.mark.parametrize("path", ["/users/search", "/hashtags/search"])
@pytest.mark.parametrize("query", [None, "", "  ", "y" * 51])
def test_typeahead_rejects_a_bad_query(account: Account, path: str, query: str | None) -> None:
    response = account.client.get(path, params={} if query is None else {"q": query})
    assert response.status_code == 400
    assert "q must be" in response.json()["message"]


@pytest.mark.parametrize("query", ["@", "#", "@#", "!!!", "%", "_"])
def test_queries_without_words_find_nothing_rather_than_everything(
    account: Account, query: str
) -> None:
    assert account.client.get("/users/search", params={"q": query}).json() == []
    assert account.client.get("/hashtags/search", params={"q": query}).json() == []
    if query not in ("#", "@#"):
        assert search(account.client, q=query, type="all") == {"items": [], "nextCursor": None}


def test_like_wildcards_are_taken_literally(account: Account, register: Callable[..., str]) -> None:
    word = token()
    register(f"{word}_a")
    register(f"{word}xa")
    # `_` would match any one character in a LIKE pattern.
    found = usernames(account.client.get("/users/search", params={"q": f"{word}_"}).json())
    assert found[0] == f"{word}_a"
    assert f"{word}xa" not in found[:1]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/search?q=a&type=all"),
        ("GET", "/users/search?q=a"),
        ("GET", "/hashtags/search?q=a"),
        ("GET", "/search/recent"),
        ("POST", "/search/recent"),
        ("DELETE", "/search/recent"),
        ("DELETE", "/search/recent/6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d"),
    ],
)
def test_every_search_route_needs_a_session(api: Api, method: str, path: str) -> None:
    response = api.request(method, path, json={"type": "posts", "reference": "x"})
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


def test_search_routes_share_the_typeahead_bucket_and_recent_routes_do_not(
    stack_with: Callable[..., str],
) -> None:
    client = Api(stack_with(rate_limit_typeahead_burst=3, rate_limit_typeahead_rate="0.001"))
    identity = {
        "name": "Limited",
        "username": token(),
        "email": f"{token()}@example.com",
        "password": "correct horse battery",
    }
    assert client.post("/users", json=identity).status_code == 201
    login = {"email": identity["email"], "password": identity["password"]}
    assert client.post("/sessions", json=login).status_code == 201

    assert client.get("/search", params={"q": "a", "type": "users"}).status_code == 200
    assert client.get("/users/search", params={"q": "a"}).status_code == 200
    assert client.get("/hashtags/search", params={"q": "a"}).status_code == 200
    refused = client.get("/users/search", params={"q": "a"})
    assert refused.status_code == 429
    assert refused.json() == {"message": "Too many requests"}
    assert client.get("/search/recent").status_code == 200
    assert client.delete("/search/recent").status_code == 204


# --- recent searches --------------------------------------------------------------------


def recent(client: Api) -> list[dict[str, Any]]:
    response = client.get("/search/recent")
    assert response.status_code == 200
    return response.json()


def record(client: Api, kind: str, reference: str) -> None:
    response = client.post("/search/recent", json={"type": kind, "reference": reference})
    assert response.status_code == 204, response.text
    assert "Content-Type" not in response.headers


def test_recent_searches_resolve_users_and_hashtags_and_keep_post_queries_verbatim(
    account: Account, register: Callable[..., str], content: Content
) -> None:
    word = token()
    user = register(word, name="Recent Person")
    content.hashtag(word, 4)
    record(account.client, "users", f"  {word.upper()} ")
    record(account.client, "hashtags", word.upper())
    record(account.client, "posts", f"  #{word} Sunset @ann ")

    items = recent(account.client)
    assert [{key: item[key] for key in ("type", "item")} for item in items] == [
        {"type": "posts", "item": f"#{word} Sunset @ann"},
        {"type": "hashtags", "item": {"name": word, "postCount": 4}},
        {"type": "users", "item": {"username": user, "name": "Recent Person", "avatar": None}},
    ]
    assert all(uuid.UUID(item["id"]).version for item in items)

    # Read at list time: the hashtag's current count, even 0.
    content.hashtag(word, 0)
    assert recent(account.client)[1]["item"] == {"name": word, "postCount": 0}


def test_recent_searches_skip_entries_that_no_longer_resolve(
    account: Account, database: Database
) -> None:
    record(account.client, "users", token())  # existence is not checked when recording
    record(account.client, "hashtags", token())
    record(account.client, "posts", "kept")
    assert [item["item"] for item in recent(account.client)] == ["kept"]
    user_id = database.value("SELECT id FROM users WHERE username = :u", u=account.username)
    assert database.value("SELECT count(*) FROM recent_searches WHERE user_id = :u", u=user_id) == 3


def test_recording_again_bumps_to_the_top_without_a_duplicate(account: Account) -> None:
    for reference in ("first", "second", "third"):
        record(account.client, "posts", reference)
    record(account.client, "posts", "first")
    assert [item["item"] for item in recent(account.client)] == ["first", "third", "second"]
    # The same text under another type is another entry.
    record(account.client, "users", "first")
    assert len(recent(account.client)) == 3  # the user "first" does not exist: not listed


def test_recent_searches_keep_the_newest_ten(account: Account, database: Database) -> None:
    for index in range(12):
        record(account.client, "posts", f"query {index}")
    items = recent(account.client)
    assert [item["item"] for item in items] == [f"query {index}" for index in range(11, 1, -1)]
    user_id = database.value("SELECT id FROM users WHERE username = :u", u=account.username)
    assert (
        database.value("SELECT count(*) FROM recent_searches WHERE user_id = :u", u=user_id) == 10
    )


def test_recent_searches_are_private_to_their_user(
    make_account: Callable[[], Account],
) -> None:
    owner, other = make_account(), make_account()
    record(owner.client, "posts", "mine")
    [entry] = recent(owner.client)
    assert recent(other.client) == []

    response = other.client.delete(f"/search/recent/{entry['id']}")
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}
    assert other.client.delete("/search/recent").status_code == 204
    assert [item["id"] for item in recent(owner.client)] == [entry["id"]]


def test_delete_one_and_delete_all(account: Account) -> None:
    record(account.client, "posts", "one")
    record(account.client, "posts", "two")
    first, second = recent(account.client)
    response = account.client.delete(f"/search/recent/{first['id'].upper()}")
    assert response.status_code == 204
    assert [item["id"] for item in recent(account.client)] == [second["id"]]
    assert account.client.delete(f"/search/recent/{first['id']}").status_code == 404
    assert account.client.delete("/search/recent").status_code == 204
    assert recent(account.client) == []
    assert account.client.delete("/search/recent").status_code == 204


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "12345", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5"])
def test_delete_one_rejects_a_malformed_id(
    account: Account, database: Database, bad_id: str
) -> None:
    record(account.client, "posts", "stays")
    before = database.counts("recent_searches")
    response = account.client.delete(f"/search/recent/{bad_id}")
    assert response.status_code == 400
    assert response.json()["message"]
    assert database.counts("recent_searches") == before


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"type": "", "reference": "x"},
        {"type": "people", "reference": "x"},
        {"type": "Users", "reference": "alice"},
        {"type": "users", "reference": ""},
        {"type": "users", "reference": "ab"},
        {"type": "users", "reference": "bad-name"},
        {"type": "users", "reference": "a" * 31},
        {"type": "users", "reference": "@alice"},
        {"type": "hashtags", "reference": ""},
        {"type": "hashtags", "reference": "#beach"},
        {"type": "hashtags", "reference": "two words"},
        {"type": "hashtags", "reference": "a" * 51},
        {"type": "hashtags", "reference": "café"},
        {"type": "posts", "reference": ""},
        {"type": "posts", "reference": "   "},
        {"type": "posts", "reference": "p" * 51},
        {"type": "posts", "reference": 5},
        {"type": ["posts"], "reference": "x"},
    ],
)
def test_recording_rejects_bad_input_and_writes_nothing(
    account: Account, database: Database, body: dict[str, Any]
) -> None:
    before = database.counts("recent_searches", "outbox")
    response = account.client.post("/search/recent", json=body)
    assert response.status_code == 400
    assert isinstance(response.json()["message"], str) and response.json()["message"]
    assert database.counts("recent_searches", "outbox") == before


def test_recording_accepts_the_boundaries(account: Account, database: Database) -> None:
    record(account.client, "posts", "é" * 50)
    record(account.client, "hashtags", "a" * 50)
    record(account.client, "users", "a.b")
    rows = database.rows(
        """
        SELECT entity_type, reference FROM recent_searches
        WHERE user_id = (SELECT id FROM users WHERE username = :u)
        """,
        u=account.username,
    )
    assert sorted(map(tuple, rows)) == [
        ("hashtags", "a" * 50),
        ("posts", "é" * 50),
        ("users", "a.b"),
    ]


def test_recording_needs_a_json_body(account: Account, database: Database) -> None:
    before = database.counts("recent_searches")
    response = account.client.post("/search/recent", data="type=posts")
    assert response.status_code == 415
    assert response.json()["message"]
    assert database.counts("recent_searches") == before


def test_a_configured_search_engine_that_fails_answers_503(
    stack_with: Callable[..., str],
) -> None:
    # A real refusal: nothing listens on the port the engine is configured at.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = Api(stack_with(meili_url=f"http://127.0.0.1:{port}", meili_search_key="key"))
    identity = {
        "name": "Engine Down",
        "username": token(),
        "email": f"{token()}@example.com",
        "password": "correct horse battery",
    }
    assert client.post("/users", json=identity).status_code == 201
    login = {"email": identity["email"], "password": identity["password"]}
    assert client.post("/sessions", json=login).status_code == 201

    for path, params in (
        ("/search", {"q": "anything", "type": "all"}),
        ("/search", {"q": "#tag", "type": "posts"}),
        ("/users/search", {"q": "anything"}),
        ("/hashtags/search", {"q": "anything"}),
    ):
        response = client.get(path, params=params)
        assert response.status_code == 503, path
        assert response.json() == {"message": "Service unavailable"}
    # Validation still comes first, and recent searches never touch the engine.
    assert client.get("/search", params={"q": "", "type": "all"}).status_code == 400
    assert client.get("/search/recent").status_code == 200
