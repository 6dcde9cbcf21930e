"""`posts` function over HTTP against the real stack.

The rules: docs/api.md §8, §9.2 and §14.1; docs/domain.md §2.4.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from phasma.blobs import BlobStoreUnavailable, image_keys, thumbnail_key
from phasma.posts import actions, queries
from tests.api.conftest import Account, Api, ApiStack, Bucket, Database
from tests.api.posting import (
    BAD_PAGINATION,
    POST_FIELDS,
    assert_error,
    assert_no_content,
    content_state,
    events_since,
    new_post,
    new_upload,
    outbox_position,
    sql_posts,
    tiny_jpeg,
    user_id,
    walk,
)

MALFORMED_IDS = ["not-a-uuid", "123", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5", "g" * 36]


def post_row(database: Database, public_id: str) -> dict[str, Any]:
    names = (
        "id", "user_id", "filename", "description", "width", "height", "blurhash", "renditions",
    )  # fmt: skip
    rows = database.rows(
        f"SELECT {', '.join(names)} FROM posts WHERE public_id = CAST(:p AS uuid)", p=public_id
    )
    assert rows, f"no post {public_id}"
    return dict(zip(names, rows[0], strict=True))


def hashtag_count(database: Database, name: str) -> int | None:
    return database.value("SELECT post_count FROM hashtags WHERE name = :n", n=name)


def unique_tag(prefix: str = "tag") -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


# -- POST /posts ----------------------------------------------------------------


def test_create_consumes_the_upload_counts_the_post_and_emits_events_in_order(
    account: Account, database: Database, bucket: Bucket
) -> None:
    filename = new_upload(account, database, bucket)
    image = database.rows(
        "SELECT width, height, blurhash, renditions FROM uploads WHERE filename = :f", f=filename
    )[0]
    beach, sunset = unique_tag("Beach"), unique_tag("sun")
    description = f"  at the #{beach} with #{sunset}, again #{beach.upper()}  "
    position = outbox_position(database)

    response = account.client.post(
        "/posts", json={"filename": filename, "description": description}
    )

    assert response.status_code == 201, response.text
    assert set(response.json()) == {"publicId"}
    public_id = response.json()["publicId"]
    assert str(uuid.UUID(public_id)) == public_id
    row = post_row(database, public_id)
    assert row["filename"] == filename
    assert row["description"] == description.strip()
    assert [row["width"], row["height"], row["blurhash"], row["renditions"]] == image
    assert database.value("SELECT count(*) FROM uploads WHERE filename = :f", f=filename) == 0
    assert (
        database.value("SELECT post_count FROM users WHERE username = :u", u=account.username) == 1
    )
    tags = [beach.lower(), sunset]
    assert [hashtag_count(database, tag) for tag in tags] == [1, 1]
    linked = database.value("SELECT count(*) FROM post_hashtags WHERE post_id = :p", p=row["id"])
    assert linked == 2

    events = events_since(database, position)
    assert [event["type"] for event in events] == [
        "phasma.post.created",
        "phasma.hashtag.updated",
        "phasma.hashtag.updated",
    ]
    created = events[0]
    assert (created["topic"], created["source"]) == ("entity-changes", "/phasma/posts")
    assert created["subject"] == created["partition_key"] == public_id
    payload = created["payload"]
    author_id = database.value(
        "SELECT public_id::text FROM users WHERE username = :u", u=account.username
    )
    assert payload == {
        "postId": public_id,
        "authorId": author_id,
        "username": account.username,
        "description": description.strip(),
        "hashtags": tags,
        "filename": filename,
        "filenames": [filename],
        "created": payload["created"],
        "authorIsCelebrity": False,
    }
    assert payload["created"].endswith("Z")
    for event, tag in zip(events[1:], tags, strict=True):
        assert (event["topic"], event["source"]) == ("entity-changes", "/phasma/posts")
        assert event["subject"] == event["partition_key"] == tag
        assert event["payload"] == {"name": tag, "postCount": 1}


def test_an_empty_description_is_stored_as_null_without_hashtag_events(
    account: Account, database: Database, bucket: Bucket
) -> None:
    for description in (None, "", "   \n "):
        position = outbox_position(database)
        public_id = new_post(account, database, bucket, description)
        assert post_row(database, public_id)["description"] is None
        events = events_since(database, position)
        assert [event["type"] for event in events] == ["phasma.post.created"]
        assert events[0]["payload"]["description"] is None
        assert events[0]["payload"]["hashtags"] == []
        assert account.client.get(f"/posts/{public_id}").json()["description"] is None


def test_hashtag_counts_follow_every_post_carrying_them(
    make_account, database: Database, bucket: Bucket
) -> None:
    tag = unique_tag()
    first, second = make_account(), make_account()
    new_post(first, database, bucket, f"#{tag}")
    position = outbox_position(database)
    new_post(second, database, bucket, f"again#{tag.upper()} ##{tag}")
    assert hashtag_count(database, tag) == 2
    events = events_since(database, position)
    assert events[-1]["payload"] == {"name": tag, "postCount": 2}


def test_at_most_twenty_hashtags_are_kept_and_long_runs_are_cut_to_fifty(
    account: Account, database: Database, bucket: Bucket
) -> None:
    stem = uuid.uuid4().hex[:10]
    long_tag = stem + "x" * 60
    tags = [f"{stem}n{index}" for index in range(24)]
    description = f"#{long_tag} " + " ".join(f"#{tag}" for tag in tags)
    position = outbox_position(database)
    public_id = new_post(account, database, bucket, description)
    kept = [long_tag[:50], *tags[:19]]
    events = events_since(database, position)
    assert events[0]["payload"]["hashtags"] == kept
    assert [event["payload"]["name"] for event in events[1:]] == kept
    linked = database.rows(
        """
        SELECT h.name FROM post_hashtags ph JOIN hashtags h ON h.id = ph.hashtag_id
        WHERE ph.post_id = :p
        """,
        p=post_row(database, public_id)["id"],
    )
    assert sorted(name for (name,) in linked) == sorted(kept)
    assert hashtag_count(database, tags[19]) is None


def test_a_description_of_exactly_1000_characters_is_accepted(
    account: Account, database: Database, bucket: Bucket
) -> None:
    description = "ü" * 1000  # characters, not bytes
    public_id = new_post(account, database, bucket, f"  {description}\t")
    assert post_row(database, public_id)["description"] == description


def test_alt_text_is_stored_trimmed_and_shown_with_the_post(
    account: Account, database: Database, bucket: Bucket
) -> None:
    filename = new_upload(account, database, bucket)
    alt_text = "A dog catching a frisbee " + "ü" * 975  # 1000 characters
    body = {"filename": filename, "altText": f"  {alt_text} "}
    response = account.client.post("/posts", json=body)
    assert response.status_code == 201, response.text
    post = account.client.get(f"/posts/{response.json()['publicId']}").json()
    assert post["altText"] == alt_text


def _bad_post_bodies(filename: str, foreign: str, expired: str) -> list[tuple[Any, int]]:
    return [
        ({}, 400),
        ({"filename": ""}, 400),
        ({"filename": "   "}, 400),
        ({"filename": None}, 400),
        ({"filename": 5}, 400),
        ({"filename": [filename]}, 400),
        ({"filename": filename, "description": 7}, 400),
        ({"filename": filename, "description": "d" * 1001}, 400),
        ({"filename": filename, "description": "nul \x00 inside"}, 400),
        ({"filename": filename, "altText": "a" * 1001}, 400),
        ({"filename": filename, "altText": 3}, 400),
        ({"filename": "0" * 32}, 400),  # well-formed, never uploaded
        ({"filename": "../" + filename}, 400),
        ({"filename": filename.upper()}, 400),
        ({"filename": foreign}, 400),  # another user's pending upload
        ({"filename": expired}, 400),  # older than one hour
    ]


def test_bad_post_input_is_rejected_and_writes_nothing(
    account: Account, make_account, database: Database, bucket: Bucket
) -> None:
    filename = new_upload(account, database, bucket)
    foreign = new_upload(make_account(), database, bucket)
    expired = new_upload(account, database, bucket)
    database.rows(
        "UPDATE uploads SET created = now() - interval '61 minutes' WHERE filename = :f",
        f=expired,
    )
    blobs = bucket.keys()
    for body, status in _bad_post_bodies(filename, foreign, expired):
        before = content_state(database)
        response = account.client.post("/posts", json=body)
        assert_error(response, status)
        assert content_state(database) == before, body
    # The upload was not consumed by any failed attempt, and no blob came or went.
    assert database.value("SELECT count(*) FROM uploads WHERE filename = :f", f=filename) == 1
    assert bucket.keys() >= blobs and {filename, thumbnail_key(filename)} <= bucket.keys()


@pytest.mark.parametrize(
    ("headers", "data", "status"),
    [
        ({"Content-Type": "text/plain"}, b'{"filename": "x"}', 415),
        ({}, None, 415),
        ({"Content-Type": "application/json"}, b"", 400),
        ({"Content-Type": "application/json"}, b"{not json", 400),
        ({"Content-Type": "application/json"}, b'["filename"]', 400),
        ({"Content-Type": "application/json"}, b'{"filename": "a"} trailing', 400),
        ({"Content-Type": "application/json"}, b'{"d": "' + b"x" * 102_400 + b'"}', 413),
    ],
)
def test_malformed_post_bodies_are_rejected_and_write_nothing(
    account: Account, database: Database, headers: dict[str, str], data: bytes | None, status: int
) -> None:
    before = content_state(database)
    assert_error(account.client.post("/posts", data=data, headers=headers), status)
    assert content_state(database) == before


def test_an_upload_makes_one_post_only(
    account: Account, database: Database, bucket: Bucket
) -> None:
    filename = new_upload(account, database, bucket)
    assert account.client.post("/posts", json={"filename": filename}).status_code == 201
    before = content_state(database)
    assert_error(account.client.post("/posts", json={"filename": filename}), 400)
    assert content_state(database) == before


def test_a_failure_late_in_the_transaction_writes_nothing(
    account: Account, database: Database, bucket: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    filename = new_upload(account, database, bucket)

    def fail(*args: object) -> None:
        raise RuntimeError("injected after the post, counter and post event were written")

    monkeypatch.setattr(actions, "_record_hashtag", fail)
    before = content_state(database)
    response = account.client.post("/posts", json={"filename": filename, "description": "#x"})
    assert_error(response, 500)
    assert response.json() == {"message": "Internal Server Error"}
    assert content_state(database) == before
    assert database.value("SELECT count(*) FROM uploads WHERE filename = :f", f=filename) == 1


def test_creating_a_post_requires_a_session(api: Api, database: Database) -> None:
    before = content_state(database)
    assert_error(api.post("/posts", json={"filename": "0" * 32}), 401)
    assert content_state(database) == before


# -- GET /posts/{id} -------------------------------------------------------------


def test_a_post_shows_its_author_and_is_public(
    api: Api, account: Account, database: Database, bucket: Bucket
) -> None:
    public_id = new_post(account, database, bucket, "hello #world")
    row = post_row(database, public_id)
    anonymous = api.get(f"/posts/{public_id.upper()}")
    assert anonymous.status_code == 200, anonymous.text
    post = anonymous.json()
    assert set(post) == POST_FIELDS
    assert post == {
        "publicId": public_id,
        "username": account.username,
        "name": account.name,
        "avatar": None,
        "filename": row["filename"],
        "description": "hello #world",
        "likes": 0,
        "liked": False,
        "bookmarked": False,
        "comments": 0,
        "created": post["created"],
        "width": row["width"],
        "height": row["height"],
        "blurhash": row["blurhash"],
        "renditions": [],  # a 12 px image: no narrower rendition
        "altText": None,
        "edited": None,
        "images": [
            {
                "filename": row["filename"],
                "width": row["width"],
                "height": row["height"],
                "blurhash": row["blurhash"],
                "renditions": [],
                "altText": None,
                "mediaToken": None,  # a public account's image: its plain URL works
            }
        ],
        "mediaToken": None,
    }
    assert post["created"].endswith("Z")
    assert anonymous.headers["cache-control"] == "no-store"
    assert "set-cookie" not in anonymous.headers
    # An optional route refreshes the cookie of a session that resolved.
    signed_in = account.client.get(f"/posts/{public_id}")
    assert "session=" in signed_in.headers["set-cookie"]


def test_a_post_shows_the_authors_current_profile(
    account: Account, database: Database, bucket: Bucket
) -> None:
    public_id = new_post(account, database, bucket)
    database.rows(
        "UPDATE users SET name = 'Renamed', avatar = :a WHERE username = :u",
        a="a" * 32,
        u=account.username,
    )
    post = account.client.get(f"/posts/{public_id}").json()
    assert (post["name"], post["avatar"]) == ("Renamed", "a" * 32)


def test_liked_is_personal_to_the_viewer(
    api: Api, account: Account, make_account, database: Database, bucket: Bucket
) -> None:
    public_id = new_post(account, database, bucket)
    liker, other = make_account(), make_account()
    assert liker.client.post(f"/posts/{public_id}/likes").status_code == 204
    assert liker.client.get(f"/posts/{public_id}").json()["liked"] is True
    assert other.client.get(f"/posts/{public_id}").json()["liked"] is False
    assert api.get(f"/posts/{public_id}").json()["liked"] is False
    assert api.get(f"/posts/{public_id}").json()["likes"] == 1


def test_post_reads_answer_head_like_get(
    api: Api, account: Account, database: Database, bucket: Bucket
) -> None:
    public_id = new_post(account, database, bucket)
    for path in (f"/posts/{public_id}", f"/users/{account.username}/posts"):
        response = api.request("HEAD", path)
        assert response.status_code == 200 and response.content == b""
        assert response.headers["content-type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize("malformed", MALFORMED_IDS)
def test_malformed_post_ids_are_400(api: Api, malformed: str) -> None:
    assert_error(api.get(f"/posts/{malformed}"), 400)


def test_unknown_posts_are_404(api: Api) -> None:
    response = api.get(f"/posts/{uuid.uuid4()}")
    assert_error(response, 404)
    assert response.json() == {"message": "Not Found"}


# -- PATCH /posts/{id} -------------------------------------------------------------


def post_texts(database: Database, public_id: str) -> list[Any]:
    return database.rows(
        "SELECT description, alt_text, edited FROM posts WHERE public_id = CAST(:p AS uuid)",
        p=public_id,
    )[0]


def linked_tags(database: Database, public_id: str) -> list[str]:
    rows = database.rows(
        """
        SELECT h.name FROM post_hashtags ph JOIN hashtags h ON h.id = ph.hashtag_id
        JOIN posts p ON p.id = ph.post_id WHERE p.public_id = CAST(:p AS uuid) ORDER BY h.name
        """,
        p=public_id,
    )
    return [name for (name,) in rows]


def test_edit_replaces_the_texts_recounts_the_hashtags_and_emits_events(
    account: Account, make_account, database: Database, bucket: Bucket
) -> None:
    stem = uuid.uuid4().hex[:10]
    kept, shared, dropped, added = (f"{stem}{name}" for name in ("a", "b", "c", "d"))
    public_id = new_post(account, database, bucket, f"old #{kept} #{shared} #{dropped}")
    new_post(make_account(), database, bucket, f"#{shared}")  # keeps `shared` at 1 afterwards
    assert [hashtag_count(database, tag) for tag in (kept, shared, dropped, added)] == [
        1, 2, 1, None
    ]  # fmt: skip
    before = account.client.get(f"/posts/{public_id}").json()
    assert before["edited"] is None
    position = outbox_position(database)

    description = f"new #{kept} #{added.upper()} and #{kept}"
    response = account.client.patch(
        f"/posts/{public_id}", json={"description": f"  {description} ", "altText": " A dog "}
    )

    assert response.status_code == 200, response.text
    post = response.json()
    assert set(post) == POST_FIELDS
    assert post == {
        **before,
        "description": description,
        "altText": "A dog",
        "edited": post["edited"],
        "images": [{**before["images"][0], "altText": "A dog"}],  # the first image's alt text
    }
    edited = datetime.fromisoformat(post["edited"])
    assert post["edited"].endswith("Z") and edited >= datetime.fromisoformat(post["created"])
    assert abs(datetime.now(UTC) - edited) < timedelta(minutes=1)
    assert account.client.get(f"/posts/{public_id}").json() == post
    assert post_texts(database, public_id)[:2] == [description, "A dog"]
    assert [hashtag_count(database, tag) for tag in (kept, shared, dropped, added)] == [
        1, 1, 0, 1
    ]  # fmt: skip
    assert linked_tags(database, public_id) == [kept, added]

    events = events_since(database, position)
    assert [event["type"] for event in events] == ["phasma.post.updated"] + [
        "phasma.hashtag.updated"
    ] * 3
    updated = events[0]
    assert (updated["topic"], updated["source"]) == ("entity-changes", "/phasma/posts")
    assert updated["subject"] == updated["partition_key"] == public_id
    author_id = database.value(
        "SELECT public_id::text FROM users WHERE username = :u", u=account.username
    )
    assert updated["payload"] == {
        "postId": public_id,
        "authorId": author_id,
        "description": description,
        "altText": "A dog",
        "hashtags": [kept, added],
        "edited": post["edited"],
    }
    assert [event["payload"] for event in events[1:]] == [
        {"name": shared, "postCount": 1},
        {"name": dropped, "postCount": 0},
        {"name": added, "postCount": 1},
    ]
    assert all(event["subject"] == event["payload"]["name"] for event in events[1:])


def test_edit_keeps_the_field_left_out_and_clears_an_empty_one(
    account: Account, database: Database, bucket: Bucket
) -> None:
    tag = unique_tag()
    filename = new_upload(account, database, bucket)
    body = {"filename": filename, "description": f"caption #{tag}", "altText": "old alt"}
    public_id = account.client.post("/posts", json=body).json()["publicId"]

    response = account.client.patch(f"/posts/{public_id}", json={"altText": "ü" * 1000})
    assert response.status_code == 200, response.text
    assert (response.json()["description"], response.json()["altText"]) == (
        f"caption #{tag}",
        "ü" * 1000,
    )
    assert hashtag_count(database, tag) == 1

    position = outbox_position(database)
    response = account.client.patch(f"/posts/{public_id}", json={"description": "   "})
    assert response.status_code == 200, response.text
    assert (response.json()["description"], response.json()["altText"]) == (None, "ü" * 1000)
    assert hashtag_count(database, tag) == 0 and linked_tags(database, public_id) == []
    events = events_since(database, position)
    assert [event["type"] for event in events] == [
        "phasma.post.updated",
        "phasma.hashtag.updated",
    ]
    assert events[0]["payload"]["hashtags"] == []

    response = account.client.patch(f"/posts/{public_id}", json={"altText": None})
    assert response.status_code == 200, response.text
    assert post_texts(database, public_id)[:2] == [None, None]


def test_an_edit_that_changes_nothing_writes_nothing(
    account: Account, database: Database, bucket: Bucket
) -> None:
    public_id = new_post(account, database, bucket, f"same #{unique_tag()}")
    description = post_texts(database, public_id)[0]
    before = content_state(database)
    response = account.client.patch(
        f"/posts/{public_id}", json={"description": f" {description} ", "altText": ""}
    )
    assert response.status_code == 200, response.text
    assert response.json()["edited"] is None
    assert content_state(database) == before
    assert post_texts(database, public_id)[2] is None


def _bad_edit_bodies() -> list[Any]:
    return [
        {},
        {"alt_text": "snake case is not the field"},
        {"caption": "unknown fields are ignored"},
        {"description": 7},
        {"description": ["a"]},
        {"description": {"text": "a"}},
        {"description": True},
        {"altText": 3},
        {"description": "d" * 1001},
        {"altText": "a" * 1001},
        {"description": "fine", "altText": "a" * 1001},  # all or nothing
        {"description": "d" * 1001, "altText": "fine"},
        {"description": "nul \x00 inside"},
    ]


def test_bad_edit_input_is_rejected_and_writes_nothing(
    account: Account, database: Database, bucket: Bucket
) -> None:
    public_id = new_post(account, database, bucket, f"keep me #{unique_tag()}")
    texts = post_texts(database, public_id)
    for body in _bad_edit_bodies():
        before = content_state(database)
        assert_error(account.client.patch(f"/posts/{public_id}", json=body), 400)
        assert content_state(database) == before, body
    assert post_texts(database, public_id) == texts
    response = account.client.patch(f"/posts/{public_id}", json={})
    assert response.json() == {"message": "description or altText is required"}
    response = account.client.patch(f"/posts/{public_id}", json={"altText": "a" * 1001})
    assert response.json() == {"message": "altText must be at most 1000 characters"}


@pytest.mark.parametrize(
    ("headers", "data", "status"),
    [
        ({"Content-Type": "text/plain"}, b'{"description": "x"}', 415),
        ({}, None, 415),
        ({"Content-Type": "application/json"}, b"", 400),
        ({"Content-Type": "application/json"}, b'["description"]', 400),
        ({"Content-Type": "application/json"}, b'{"description": "x"} trailing', 400),
    ],
)
def test_malformed_edit_bodies_are_rejected_and_write_nothing(
    account: Account,
    database: Database,
    bucket: Bucket,
    headers: dict[str, str],
    data: bytes | None,
    status: int,
) -> None:
    public_id = new_post(account, database, bucket, "untouched")
    before = content_state(database)
    assert_error(account.client.patch(f"/posts/{public_id}", data=data, headers=headers), status)
    assert content_state(database) == before
    assert post_texts(database, public_id) == ["untouched", None, None]


def test_only_the_author_may_edit_a_post(
    account: Account, make_account, database: Database, bucket: Bucket
) -> None:
    public_id = new_post(account, database, bucket, f"mine #{unique_tag()}")
    texts = post_texts(database, public_id)
    stranger = make_account()
    before = content_state(database)
    response = stranger.client.patch(
        f"/posts/{public_id}", json={"description": f"yours #{unique_tag()}"}
    )
    assert_error(response, 403)
    assert content_state(database) == before
    assert post_texts(database, public_id) == texts


@pytest.mark.parametrize("malformed", MALFORMED_IDS)
def test_edit_rejects_malformed_ids_and_unknown_posts(
    account: Account, database: Database, malformed: str
) -> None:
    before = content_state(database)
    body = {"description": "anything"}
    assert_error(account.client.patch(f"/posts/{malformed}", json=body), 400)
    response = account.client.patch(f"/posts/{uuid.uuid4()}", json=body)
    assert_error(response, 404)
    assert response.json() == {"message": "Not Found"}
    assert content_state(database) == before


def test_edit_requires_a_session(
    api: Api, account: Account, database: Database, bucket: Bucket
) -> None:
    public_id = new_post(account, database, bucket, "signed in only")
    before = content_state(database)
    assert_error(api.patch(f"/posts/{public_id}", json={"description": "anonymous"}), 401)
    assert content_state(database) == before
    assert post_texts(database, public_id)[0] == "signed in only"


def test_a_failure_late_in_the_edit_writes_nothing(
    account: Account, database: Database, bucket: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    public_id = new_post(account, database, bucket, f"before #{unique_tag()}")
    texts = post_texts(database, public_id)

    def fail(*args: object) -> None:
        raise RuntimeError("injected after the edit, its event and the hashtag counts")

    monkeypatch.setattr(actions, "_record_hashtag", fail)
    before = content_state(database)
    response = account.client.patch(f"/posts/{public_id}", json={"description": "after"})
    assert_error(response, 500)
    assert content_state(database) == before
    assert post_texts(database, public_id) == texts


# -- DELETE /posts/{id} ------------------------------------------------------------


def test_delete_cascades_clears_avatars_counts_down_and_removes_the_blobs(
    account: Account, make_account, database: Database, bucket: Bucket
) -> None:
    tag, kept_tag = unique_tag(), unique_tag()
    public_id = new_post(account, database, bucket, f"#{tag} #{kept_tag}")
    new_post(account, database, bucket, f"#{kept_tag}")  # keeps kept_tag at 1 afterwards
    row = post_row(database, public_id)
    filename = row["filename"]
    fan = make_account()
    assert fan.client.post(f"/posts/{public_id}/likes").status_code == 204
    comment_ids = [
        client.post(f"/posts/{public_id}/comments", json={"body": text}).json()["id"]
        for client, text in ((fan.client, "first"), (account.client, "second"))
    ]
    database.rows(
        "INSERT INTO feed (user_id, post_id, created) SELECT :u, id, created FROM posts "
        "WHERE id = :p",
        u=user_id(database, fan.username),
        p=row["id"],
    )
    database.rows(
        "UPDATE users SET avatar = :f WHERE username = :u", f=filename, u=account.username
    )
    assert {filename, thumbnail_key(filename)} <= bucket.keys()
    position = outbox_position(database)

    assert_no_content(account.client.delete(f"/posts/{public_id}"))

    assert database.value("SELECT count(*) FROM posts WHERE id = :p", p=row["id"]) == 0
    for table in ("likes", "comments", "post_hashtags", "feed"):
        count = database.value(f"SELECT count(*) FROM {table} WHERE post_id = :p", p=row["id"])
        assert count == 0, table
    assert (
        database.value("SELECT avatar FROM users WHERE username = :u", u=account.username) is None
    )
    assert (
        database.value("SELECT post_count FROM users WHERE username = :u", u=account.username) == 1
    )
    assert (hashtag_count(database, tag), hashtag_count(database, kept_tag)) == (0, 1)
    events = events_since(database, position)
    assert [event["type"] for event in events] == [
        "phasma.post.deleted",
        "phasma.hashtag.updated",
        "phasma.hashtag.updated",
    ]
    deleted = events[0]
    assert (deleted["topic"], deleted["source"]) == ("entity-changes", "/phasma/posts")
    assert deleted["subject"] == deleted["partition_key"] == public_id
    author_id = database.value(
        "SELECT public_id::text FROM users WHERE username = :u", u=account.username
    )
    assert deleted["payload"] == {
        "postId": public_id,
        "authorId": author_id,
        "filename": filename,
        "filenames": [filename],
        "commentIds": comment_ids,
    }
    assert {event["payload"]["name"]: event["payload"]["postCount"] for event in events[1:]} == {
        tag: 0,
        kept_tag: 1,
    }
    keys = bucket.keys()
    assert filename not in keys and thumbnail_key(filename) not in keys
    assert_error(account.client.get(f"/posts/{public_id}"), 404)
    assert_error(account.client.delete(f"/posts/{public_id}"), 404)


def test_a_wide_photos_renditions_are_listed_on_its_post_and_deleted_with_it(
    api: Api, account: Account, database: Database, bucket: Bucket
) -> None:
    files = {"image": ("wide.jpg", tiny_jpeg(1600, 1200), "image/jpeg")}
    filename = account.client.post("/uploads", files=files).json()["filename"]
    created = account.client.post("/posts", json={"filename": filename})
    assert created.status_code == 201, created.text
    public_id = created.json()["publicId"]

    post = api.get(f"/posts/{public_id}").json()

    assert (post["width"], post["height"], post["renditions"]) == (1600, 1200, [640, 1080])
    assert post_row(database, public_id)["renditions"] == [640, 1080]
    assert set(image_keys(filename)) <= bucket.keys()  # original, thumbnail, 640 and 1080
    listed = api.get(f"/users/{account.username}/posts").json()["items"]
    assert [item["renditions"] for item in listed] == [[640, 1080]]

    assert_no_content(account.client.delete(f"/posts/{public_id}"))

    assert not set(image_keys(filename)) & bucket.keys()


def test_a_failed_delete_keeps_the_post_and_its_blobs(
    account: Account, database: Database, bucket: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    public_id = new_post(account, database, bucket, f"#{unique_tag()}")
    filename = post_row(database, public_id)["filename"]

    def fail(*args: object) -> None:
        raise RuntimeError("injected after the delete, the avatars and the post event")

    monkeypatch.setattr(queries, "remove_hashtags", fail)
    before = content_state(database)
    assert_error(account.client.delete(f"/posts/{public_id}"), 500)
    assert content_state(database) == before
    assert {filename, thumbnail_key(filename)} <= bucket.keys()


def test_a_blob_store_outage_after_commit_does_not_fail_the_delete(
    account: Account,
    api_stack: ApiStack,
    database: Database,
    bucket: Bucket,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    public_id = new_post(account, database, bucket)
    filename = post_row(database, public_id)["filename"]

    def unavailable(keys: object) -> None:
        raise BlobStoreUnavailable("injected outage")

    store = api_stack.functions["posts"].runtime.blob_store
    monkeypatch.setattr(store, "delete_many", unavailable)
    assert_no_content(account.client.delete(f"/posts/{public_id}"))
    assert database.value("SELECT count(*) FROM posts WHERE filename = :f", f=filename) == 0
    assert bucket.get(filename) is not None  # left behind, unreachable: best effort


def test_delete_never_takes_counters_below_zero(
    account: Account, database: Database, bucket: Bucket
) -> None:
    tag = unique_tag()
    public_id = new_post(account, database, bucket, f"#{tag}")
    database.rows("UPDATE users SET post_count = 0 WHERE username = :u", u=account.username)
    database.rows("UPDATE hashtags SET post_count = 0 WHERE name = :n", n=tag)
    assert_no_content(account.client.delete(f"/posts/{public_id}"))
    assert (
        database.value("SELECT post_count FROM users WHERE username = :u", u=account.username) == 0
    )
    assert hashtag_count(database, tag) == 0


def test_only_the_author_may_delete_a_post(
    account: Account, make_account, database: Database, bucket: Bucket
) -> None:
    public_id = new_post(account, database, bucket, f"#{unique_tag()}")
    filename = post_row(database, public_id)["filename"]
    stranger = make_account()
    blobs = bucket.keys()
    before = content_state(database)
    assert_error(stranger.client.delete(f"/posts/{public_id}"), 403)
    assert content_state(database) == before
    keys = bucket.keys()
    assert keys >= blobs and filename in keys


@pytest.mark.parametrize("malformed", MALFORMED_IDS)
def test_delete_rejects_malformed_ids_and_unknown_posts(
    account: Account, database: Database, malformed: str
) -> None:
    before = content_state(database)
    assert_error(account.client.delete(f"/posts/{malformed}"), 400)
    assert_error(account.client.delete(f"/posts/{uuid.uuid4()}"), 404)
    assert content_state(database) == before


def test_delete_requires_a_session(
    api: Api, account: Account, database: Database, bucket: Bucket
) -> None:
    public_id = new_post(account, database, bucket)
    before = content_state(database)
    assert_error(api.delete(f"/posts/{public_id}"), 401)
    assert content_state(database) == before


# -- GET /users/{username}/posts ------------------------------------------------------


def test_user_posts_are_newest_first_with_ids_breaking_timestamp_ties(
    api: Api, account: Account, database: Database
) -> None:
    moment = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    older = sql_posts(database, account.username, 2, moment - timedelta(seconds=1))
    tied = sql_posts(database, account.username, 5, moment)
    newer = sql_posts(database, account.username, 1, moment + timedelta(microseconds=1))
    expected = newer + tied[::-1] + older[::-1]
    for limit in (1, 2, 3, 50):
        pages = walk(api, f"/users/{account.username}/posts", limit)
        listed = [post["publicId"] for page in pages for post in page]
        assert listed == expected, limit


def test_user_posts_limit_defaults_to_10_and_clamps_to_50(
    api: Api, account: Account, database: Database
) -> None:
    sql_posts(database, account.username, 55, datetime.now(UTC))
    path = f"/users/{account.username}/posts"
    default = api.get(path).json()
    assert len(default["items"]) == 10 and default["nextCursor"]
    clamped = api.get(path, params={"limit": 500}).json()
    assert len(clamped["items"]) == 50 and clamped["nextCursor"]
    rest = api.get(path, params={"limit": 50, "cursor": clamped["nextCursor"]}).json()
    assert len(rest["items"]) == 5 and rest["nextCursor"] is None


def test_user_posts_are_personalised_and_path_is_lowercased(
    api: Api, account: Account, make_account, database: Database, bucket: Bucket
) -> None:
    public_id = new_post(account, database, bucket)
    viewer = make_account()
    assert viewer.client.post(f"/posts/{public_id}/likes").status_code == 204
    own = viewer.client.get(f"/users/{account.username.upper()}/posts").json()["items"]
    assert [(post["publicId"], post["liked"]) for post in own] == [(public_id, True)]
    assert set(own[0]) == POST_FIELDS
    anonymous = api.get(f"/users/{account.username}/posts").json()["items"]
    assert [(post["publicId"], post["liked"]) for post in anonymous] == [(public_id, False)]


def test_a_user_without_posts_has_an_empty_page(api: Api, account: Account) -> None:
    response = api.get(f"/users/{account.username}/posts")
    assert response.status_code == 200
    assert response.json() == {"items": [], "nextCursor": None}


@pytest.mark.parametrize("name", ["nobody_here_at_all", "a!", "ab", "x" * 31, "bad-name"])
def test_user_posts_of_unknown_or_impossible_users_are_404(api: Api, name: str) -> None:
    assert_error(api.get(f"/users/{name}/posts"), 404)


@pytest.mark.parametrize("params", BAD_PAGINATION)
def test_user_posts_reject_bad_pagination(
    api: Api, account: Account, params: dict[str, str]
) -> None:
    assert_error(api.get(f"/users/{account.username}/posts", params=params), 400)


# -- GET /posts/popular -----------------------------------------------------------------


@pytest.fixture
def ranked_posts(account: Account, database: Database) -> Iterator[dict[str, list[str]]]:
    """Recent posts with huge like counts, an old one and an unliked one; removed afterwards,
    so other tests reading the popular list do not see them."""
    now = datetime.now(UTC)
    # Like counts far above any other test's put these posts at the top of the list.
    top = 10_000_000
    recent = sql_posts(database, account.username, 22, now - timedelta(days=1))
    old = sql_posts(database, account.username, 1, now - timedelta(days=7, minutes=1))
    unliked = sql_posts(database, account.username, 1, now)
    for rank, public_id in enumerate(recent):
        # Triples of equal counts: one newer post, then two at the same time (larger id first).
        database.rows(
            "UPDATE posts SET like_count = :c, created = created + make_interval(secs => :s) "
            "WHERE public_id = CAST(:p AS uuid)",
            c=top + rank // 3,
            s=1 if rank % 3 == 0 else 0,
            p=public_id,
        )
    database.rows(
        "UPDATE posts SET like_count = :c WHERE public_id = CAST(:p AS uuid)", c=top * 2, p=old[0]
    )
    yield {"recent": recent, "old": old, "unliked": unliked}
    database.rows(
        "DELETE FROM posts WHERE public_id = ANY(CAST(:ids AS uuid[]))",
        ids=recent + old + unliked,
    )


def test_popular_posts_are_recent_liked_ones_by_likes_then_time(
    account: Account, database: Database, ranked_posts: dict[str, list[str]]
) -> None:
    recent = ranked_posts["recent"]
    response = account.client.get("/posts/popular")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items"}
    items = body["items"]
    assert len(items) == 20
    assert all(set(item) == POST_FIELDS for item in items)
    listed = [item["publicId"] for item in items]
    assert ranked_posts["old"][0] not in listed and ranked_posts["unliked"][0] not in listed
    rows = database.rows(
        """
        SELECT public_id::text FROM posts WHERE public_id = ANY(CAST(:ids AS uuid[]))
        ORDER BY like_count DESC, created DESC, id DESC
        """,
        ids=recent,
    )
    assert listed == [public_id for (public_id,) in rows][:20]
    # Spelled out for the top: like count, then the newer post, then the larger id.
    assert listed[:7] == [recent[index] for index in (21, 18, 20, 19, 15, 17, 16)]


def test_anonymous_visitors_read_popular_posts_unliked(
    api: Api, account: Account, ranked_posts: dict[str, list[str]]
) -> None:
    # The signed-in viewer likes and saves the top post: theirs alone to see.
    top = ranked_posts["recent"][21]
    assert_no_content(account.client.post(f"/posts/{top}/likes"))
    assert_no_content(account.client.put(f"/posts/{top}/bookmark"))
    response = api.get("/posts/popular")
    assert response.status_code == 200
    items = response.json()["items"]
    signed_in = account.client.get("/posts/popular").json()["items"]
    assert [item["publicId"] for item in items] == [item["publicId"] for item in signed_in]
    assert (signed_in[0]["publicId"], signed_in[0]["liked"], signed_in[0]["bookmarked"]) == (
        top,
        True,
        True,
    )
    assert not any(item["liked"] or item["bookmarked"] for item in items)
    assert "set-cookie" not in response.headers
