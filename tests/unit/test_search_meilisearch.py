"""The Meilisearch side without a server: documents, settings, filters, queries, keys."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import meilisearch
import pytest
import requests
from meilisearch.errors import MeilisearchApiError

from phasma.search.backend import SearchUnavailable
from phasma.search.documents import (
    HASHTAGS,
    INDEXES,
    POSTS,
    USERS,
    SearchAudience,
    author_filter,
    epoch_milliseconds,
    hashtag_document,
    hashtag_filter_expression,
    post_document,
    posts_audience_filter,
    user_document,
    users_audience_filter,
)
from phasma.search.meilisearch_backend import (
    connect,
    engine_failures,
    hashtag_hit,
    hashtags_query,
    post_hit,
    posts_query,
    user_hit,
    users_query,
)
from phasma.search.query import PostQuery
from phasma.search.reindex import progress_bar
from phasma.search.setup import KEY_LIFETIME, key_requests, render

POST_ID = uuid.UUID("0190a1b2-0000-7000-8000-00000000abcd")
AUTHOR_ID = uuid.UUID("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
# A viewer who blocks nobody, is blocked by nobody and follows no private account.
NOBODY = SearchAudience(hidden=(), private_shown=())
BLOCKED = uuid.UUID("0190a1b2-0000-7000-8000-000000000001")
BLOCKER = uuid.UUID("0190a1b2-0000-7000-8000-000000000002")
VIEWER = uuid.UUID("0190a1b2-0000-7000-8000-000000000003")
FOLLOWED_PRIVATE = uuid.UUID("0190a1b2-0000-7000-8000-000000000004")


# --- documents --------------------------------------------------------------------------


def test_documents_follow_the_index_table() -> None:
    assert user_document(AUTHOR_ID, "alice", "Alice Example", None) == {
        "userId": str(AUTHOR_ID),
        "username": "alice",
        "name": "Alice Example",
        "avatar": None,
    }
    created = datetime(2026, 6, 22, 12, 0, 0, 123456, tzinfo=UTC)
    assert post_document(
        post_id=POST_ID,
        author_id=AUTHOR_ID,
        username="alice",
        author_private=True,
        description="sunset at the #beach",
        hashtags=("beach",),
        filename="3f2a9c0d1e4b5a697887766554433221",
        created=created,
    ) == {
        "postId": str(POST_ID),
        "authorId": str(AUTHOR_ID),
        "username": "alice",
        "authorPrivate": True,
        "description": "sunset at the #beach",
        "hashtags": ["beach"],
        "filename": "3f2a9c0d1e4b5a697887766554433221",
        "created": 1_782_129_600_123,
    }
    assert hashtag_document("beach", 12) == {"name": "beach", "postCount": 12}


def test_created_is_integer_epoch_milliseconds_whatever_the_offset() -> None:
    moment = datetime(2026, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=1)))
    assert epoch_milliseconds(moment) == epoch_milliseconds(datetime(2026, 1, 1, tzinfo=UTC))
    assert isinstance(epoch_milliseconds(moment), int)
    with pytest.raises(ValueError):
        epoch_milliseconds(datetime(2026, 1, 1))


# --- settings ---------------------------------------------------------------------------


def test_index_settings_follow_the_index_table() -> None:
    assert [(index.uid, index.primary_key) for index in INDEXES] == [
        ("users", "userId"),
        ("posts", "postId"),
        ("hashtags", "name"),
    ]
    assert USERS.settings()["searchableAttributes"] == ["username", "name"]
    assert USERS.settings()["filterableAttributes"] == ["userId"]
    assert USERS.settings()["sortableAttributes"] == []
    assert POSTS.settings()["searchableAttributes"] == ["description", "username"]
    assert POSTS.settings()["filterableAttributes"] == ["hashtags", "authorId", "authorPrivate"]
    assert POSTS.settings()["sortableAttributes"] == ["created"]
    assert HASHTAGS.settings()["searchableAttributes"] == ["name"]
    assert HASHTAGS.settings()["sortableAttributes"] == ["postCount"]


def test_ranking_keeps_relevance_first_and_breaks_ties_like_postgresql() -> None:
    relevance = ["words", "typo", "proximity", "attribute", "sort", "exactness"]
    assert USERS.settings()["rankingRules"] == relevance
    assert POSTS.settings()["rankingRules"] == [*relevance, "created:desc"]
    assert HASHTAGS.settings()["rankingRules"] == [*relevance, "postCount:desc"]


def test_settings_are_a_complete_body_so_applying_them_twice_changes_nothing() -> None:
    for index in INDEXES:
        assert index.settings() == index.settings()
        assert set(index.settings()) == {
            "searchableAttributes",
            "filterableAttributes",
            "sortableAttributes",
            "rankingRules",
            "displayedAttributes",
        }


# --- filters ----------------------------------------------------------------------------


def test_a_validated_tag_becomes_a_quoted_equality_filter() -> None:
    assert hashtag_filter_expression("beach") == 'hashtags = "beach"'
    assert hashtag_filter_expression("a_1") == 'hashtags = "a_1"'
    assert hashtag_filter_expression("x" * 50) == f'hashtags = "{"x" * 50}"'


@pytest.mark.parametrize(
    "attempt",
    [
        'a" OR hashtags = "b',
        "a OR hashtags = b",
        'a"',
        "a\\",
        "",
        "x" * 51,
        "Beach",  # the request lowercases; an unlowercased tag never reaches a filter
        "café",
        "two words",
        "tag\n",
        "a) OR (b",
        "a' OR '1'='1",
    ],
)
def test_filter_building_refuses_everything_but_a_validated_tag(attempt: str) -> None:
    with pytest.raises(ValueError):
        hashtag_filter_expression(attempt)


def test_an_injection_attempt_is_refused_before_any_filter_is_built() -> None:
    from phasma.http.errors import BadRequest

    with pytest.raises(BadRequest, match="invalid hashtag"):
        PostQuery.from_query('#a" OR hashtags = "b')


# --- queries and hits -------------------------------------------------------------------


def test_a_tag_query_filters_and_sorts_newest_first_with_an_empty_text() -> None:
    assert posts_query(PostQuery.from_query("#Beach"), 20, 13, NOBODY) == {
        "indexUid": "posts",
        "q": "",
        "filter": ['hashtags = "beach"', "authorPrivate != true"],
        "sort": ["created:desc"],
        "offset": 20,
        "limit": 13,
    }


def test_text_queries_travel_as_structured_fields() -> None:
    query = PostQuery.from_query('sunset "OR" @ann #cats')
    assert posts_query(query, 0, 5, NOBODY) == {
        "indexUid": "posts",
        "q": 'sunset "or" ann cats',
        "filter": ["authorPrivate != true"],
        "offset": 0,
        "limit": 5,
    }
    assert users_query("ann", 3, 4, NOBODY) == {
        "indexUid": "users",
        "q": "ann",
        "offset": 3,
        "limit": 4,
    }
    assert hashtags_query("cats", 0, 11) == {
        "indexUid": "hashtags",
        "q": "cats",
        "offset": 0,
        "limit": 11,
    }


def test_hits_map_to_the_api_shapes() -> None:
    assert user_hit({"userId": "x", "username": "ann", "name": "Ann"}).model_dump(
        by_alias=True
    ) == {"username": "ann", "name": "Ann", "avatar": None}
    assert hashtag_hit({"name": "beach", "postCount": 3}).model_dump(by_alias=True) == {
        "name": "beach",
        "postCount": 3,
    }
    document = {
        "postId": str(POST_ID),
        "authorId": str(AUTHOR_ID),
        "username": "ann",
        "description": None,
        "hashtags": [],
        "filename": "f" * 32,
        "created": 1,
    }
    assert post_hit(document, {str(POST_ID): 7}).model_dump(mode="json", by_alias=True) == {
        "id": str(POST_ID),
        "username": "ann",
        "description": "",
        "filename": "f" * 32,
        "likes": 7,
    }
    assert post_hit(document, {}).likes == 0  # a failed or missing lookup shows 0


# --- the viewer's audience (docs/api.md §D, §E) ------------------------------------------


def test_a_viewer_without_blocks_sees_every_user_and_only_public_posts_of_others() -> None:
    assert users_audience_filter(NOBODY) == []
    assert posts_audience_filter(NOBODY) == ["authorPrivate != true"]


def test_blocks_either_way_leave_out_the_accounts_and_their_posts() -> None:
    audience = SearchAudience(hidden=(BLOCKED, BLOCKER), private_shown=(VIEWER,))
    hidden = f'["{BLOCKED}", "{BLOCKER}"]'
    assert users_audience_filter(audience) == [f"userId NOT IN {hidden}"]
    assert posts_audience_filter(audience) == [
        f"authorId NOT IN {hidden}",
        ["authorPrivate != true", f'authorId IN ["{VIEWER}"]'],
    ]


def test_private_posts_show_only_for_the_viewer_and_followed_private_accounts() -> None:
    audience = SearchAudience(hidden=(), private_shown=(VIEWER, FOLLOWED_PRIVATE))
    assert posts_audience_filter(audience) == [
        ["authorPrivate != true", f'authorId IN ["{VIEWER}", "{FOLLOWED_PRIVATE}"]'],
    ]


def test_audience_clauses_join_the_tag_filter_and_the_text_query() -> None:
    audience = SearchAudience(hidden=(BLOCKED,), private_shown=(VIEWER,))
    clauses = [
        f'authorId NOT IN ["{BLOCKED}"]',
        ["authorPrivate != true", f'authorId IN ["{VIEWER}"]'],
    ]
    assert posts_query(PostQuery.from_query("#beach"), 0, 5, audience)["filter"] == [
        'hashtags = "beach"',
        *clauses,
    ]
    assert posts_query(PostQuery.from_query("sunset"), 0, 5, audience)["filter"] == clauses
    assert users_query("ann", 0, 5, audience)["filter"] == [f'userId NOT IN ["{BLOCKED}"]']


def test_an_authors_posts_are_one_equality_filter() -> None:
    assert author_filter(AUTHOR_ID) == f'authorId = "{AUTHOR_ID}"'
    with pytest.raises(ValueError):
        author_filter('x" OR authorId != "y')  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "attempt", ['x" OR authorPrivate = true OR authorId = "y', "not-a-uuid", ""]
)
def test_only_uuids_can_enter_an_audience_filter(attempt: str) -> None:
    audience = SearchAudience(hidden=(attempt,), private_shown=())  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        users_audience_filter(audience)
    with pytest.raises(ValueError):
        posts_audience_filter(audience)


# --- failures ---------------------------------------------------------------------------


def test_the_client_gives_up_after_five_seconds() -> None:
    client = connect("http://127.0.0.1:7700", "key")
    assert client.config.timeout == 5


def test_an_unreachable_engine_is_search_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again before the client connects
    client = connect(f"http://127.0.0.1:{port}", "key")
    with pytest.raises(SearchUnavailable), engine_failures():
        client.multi_search([users_query("ann", 0, 1, NOBODY)])


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A socket that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    server.close()


def test_a_timeout_is_search_unavailable(silent_server: int) -> None:
    # The same client as `connect`, with a shorter timeout to keep the test quick.
    client = meilisearch.Client(f"http://127.0.0.1:{silent_server}", "key", timeout=0.2)
    with pytest.raises(SearchUnavailable, match="meilisearch"), engine_failures():
        client.multi_search([users_query("ann", 0, 1, NOBODY)])


def api_error(status: int, code: str) -> MeilisearchApiError:
    """The error the client raises for an HTTP answer of `status` with Meilisearch's body."""
    answer = requests.Response()
    answer.status_code = status
    answer._content = json.dumps(
        {"message": "refused", "code": code, "type": "auth", "link": "https://docs"}
    ).encode()
    return MeilisearchApiError("refused", answer)


@pytest.mark.parametrize(
    ("status", "code", "problem"),
    [(401, "missing_authorization_header", "is unset"), (403, "invalid_api_key", "was refused")],
)
def test_a_refused_key_names_the_variable_to_set(status: int, code: str, problem: str) -> None:
    with pytest.raises(SearchUnavailable) as refused, engine_failures("MEILI_SEARCH_KEY"):
        raise api_error(status, code)
    assert str(refused.value) == (
        f"meilisearch: MEILI_SEARCH_KEY {problem} ({code}); "
        "`python -m phasma.search.setup` creates the scoped keys"
    )


def test_other_api_errors_keep_the_engine_message() -> None:
    with pytest.raises(SearchUnavailable) as failed, engine_failures("MEILI_SEARCH_KEY"):
        raise api_error(400, "invalid_search_filter")
    assert "MEILI_SEARCH_KEY" not in str(failed.value)
    assert "invalid_search_filter" in str(failed.value)


# --- setup and re-index -----------------------------------------------------------------


def test_scoped_keys_hold_only_their_actions_on_the_three_indexes_for_a_year() -> None:
    now = datetime(2026, 6, 22, 12, 0, 0, 999, tzinfo=UTC)
    requests = key_requests(now)
    assert set(requests) == {"search", "search-indexer"}
    assert requests["search"]["actions"] == ["search"]
    assert requests["search-indexer"]["actions"] == ["documents.add", "documents.delete"]
    for body in requests.values():
        assert body["indexes"] == ["users", "posts", "hashtags"]
        assert "*" not in body["actions"]
        assert body["expiresAt"] == "2027-06-22T12:00:00Z"
    assert timedelta(days=365) == KEY_LIFETIME


def test_keys_render_as_environment_lines_or_as_the_search_keys_secret() -> None:
    keys = {"search": "s3arch", "search-indexer": "ind3x"}
    assert render(keys, "env") == "MEILI_SEARCH_KEY=s3arch\nMEILI_INDEXER_KEY=ind3x\n"
    secret = json.loads(render(keys, "secret"))
    assert secret["kind"] == "Secret"
    assert secret["metadata"]["name"] == "search-keys"
    assert secret["stringData"] == {"search-api-key": "s3arch", "search-indexer-key": "ind3x"}


def test_setup_needs_the_master_key_and_never_runs_without_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from phasma.search.setup import main

    assert main([], {"MEILI_URL": "http://127.0.0.1:1"}) == 2
    assert "MEILI_MASTER_KEY" in capsys.readouterr().err


def test_progress_bar() -> None:
    assert progress_bar("posts", 36_000, 100_000) == (
        "posts     [##########....................]    36,000/100,000"
    )
    assert progress_bar("hashtags", 0, 0).startswith("hashtags  [" + "#" * 30 + "]")
