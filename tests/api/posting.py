"""Helpers shared by the posts, likes and comments API tests: uploads, posts, events, lists.

A post needs a pending upload. While the `uploads` function is registered, one is
made through `POST /uploads` as a client would; otherwise the row is inserted with
SQL and its blobs are put in the bucket, as the upload would have done.
"""

from __future__ import annotations

import base64
import io
import json
import secrets
from datetime import datetime
from typing import Any

from PIL import Image

from phasma.blobs import thumbnail_key
from phasma.registry import http_functions
from tests.api.conftest import Account, Api, Bucket, Database

POST_FIELDS = {
    "publicId", "username", "name", "avatar", "filename", "description", "likes", "liked",
    "bookmarked", "comments", "created", "width", "height", "blurhash", "renditions", "altText",
    "edited", "images", "mediaToken",
}  # fmt: skip
IMAGE_FIELDS = {"filename", "width", "height", "blurhash", "altText", "renditions", "mediaToken"}
EVENT_COLUMNS = ("type", "topic", "source", "subject", "partition_key", "payload")


def tiny_jpeg(width: int = 12, height: int = 8) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(output, "JPEG", quality=90)
    return output.getvalue()


def uploads_registered() -> bool:
    return any(function.name == "uploads" for function in http_functions())


def new_upload(account: Account, database: Database, bucket: Bucket) -> str:
    """A pending upload of `account`; returns its filename."""
    if uploads_registered():
        files = {"image": ("photo.jpg", tiny_jpeg(), "image/jpeg")}
        response = account.client.post("/uploads", files=files)
        assert response.status_code == 201, response.text
        filename: str = response.json()["filename"]
        return filename
    filename = secrets.token_hex(16)
    database.rows(
        """
        INSERT INTO uploads (filename, user_id, width, height, blurhash)
        SELECT :filename, id, 12, 8, 'LEHV6nWB2yk8pyo0adR*.7kCMdnj' FROM users
        WHERE username = :username
        """,
        filename=filename,
        username=account.username,
    )
    bucket.put(filename, tiny_jpeg())
    bucket.put(thumbnail_key(filename), tiny_jpeg(4, 3))
    return filename


def new_post(
    account: Account, database: Database, bucket: Bucket, description: str | None = None
) -> str:
    """A post by `account` made over HTTP; returns its publicId."""
    body: dict[str, Any] = {"filename": new_upload(account, database, bucket)}
    if description is not None:
        body["description"] = description
    response = account.client.post("/posts", json=body)
    assert response.status_code == 201, response.text
    public_id: str = response.json()["publicId"]
    return public_id


def outbox_position(database: Database) -> int:
    """The newest outbox id; events written later have larger ids."""
    return int(database.value("SELECT coalesce(max(id), 0) FROM outbox"))


def events_since(database: Database, position: int) -> list[dict[str, Any]]:
    """Outbox rows written after `position`, oldest first."""
    rows = database.rows(
        f"SELECT {', '.join(EVENT_COLUMNS)} FROM outbox WHERE id > :position ORDER BY id",
        position=position,
    )
    return [dict(zip(EVENT_COLUMNS, row, strict=True)) for row in rows]


def content_state(database: Database) -> dict[str, Any]:
    """Everything a post, like, bookmark or comment mutation may write: rows, counters, events."""
    return {
        **database.counts(
            "posts",
            "post_images",
            "uploads",
            "likes",
            "bookmarks",
            "comments",
            "hashtags",
            "post_hashtags",
            "feed",
            "outbox",
        ),
        "post_counters": database.value("SELECT coalesce(sum(post_count), 0) FROM users"),
        "hashtag_counters": database.value("SELECT coalesce(sum(post_count), 0) FROM hashtags"),
        "like_counters": database.value("SELECT coalesce(sum(like_count), 0) FROM posts"),
        "comment_counters": database.value("SELECT coalesce(sum(comment_count), 0) FROM posts"),
        "avatars": database.value("SELECT count(*) FROM users WHERE avatar IS NOT NULL"),
    }


def user_id(database: Database, username: str) -> int:
    return int(database.value("SELECT id FROM users WHERE username = :u", u=username))


def sql_posts(database: Database, username: str, count: int, created: datetime) -> list[str]:
    """`count` posts by `username`, all created at `created`; their publicIds, oldest id first."""
    rows = database.rows(
        """
        INSERT INTO posts (user_id, filename, created)
        SELECT u.id, md5(random()::text || n::text), :created
        FROM users u, generate_series(1, :count) AS n
        WHERE u.username = :username
        RETURNING id, public_id
        """,
        username=username,
        count=count,
        created=created,
    )
    return [str(public_id) for _, public_id in sorted(rows)]


def walk(client: Api, path: str, limit: int) -> list[list[dict[str, Any]]]:
    """Every page of a list, following `nextCursor` to the end."""
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        response = client.get(path, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"items", "nextCursor"}
        pages.append(body["items"])
        cursor = body["nextCursor"]
        if cursor is None:
            return pages
        assert len(body["items"]) == limit


def encoded_cursor(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


# Pagination inputs every list rejects with 400 (docs/api.md §8).
BAD_PAGINATION: list[dict[str, str]] = [
    {"page": "2"},
    {"page": ""},
    {"limit": "0"},
    {"limit": "-3"},
    {"limit": "ten"},
    {"limit": "1.5"},
    {"cursor": "not base64!"},
    {"cursor": ""},
    {"cursor": "x" * 513},
    {"cursor": encoded_cursor([1, 2])},
    {"cursor": encoded_cursor({"id": 5})},
    {"cursor": encoded_cursor({"created": "yesterday", "id": 5})},
    {"cursor": encoded_cursor({"created": "2026-01-01T00:00:00Z", "id": 0})},
    {"cursor": encoded_cursor({"created": "2026-01-01T00:00:00Z", "id": "5"})},
    {"cursor": encoded_cursor({"created": "2026-01-01", "id": 5})},
]


def assert_error(response: Any, status: int) -> None:
    """The contract's error: `status` and a body of exactly one non-empty `message`."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"message"} and isinstance(body["message"], str) and body["message"]


def assert_no_content(response: Any) -> None:
    assert response.status_code == 204, response.text
    assert response.content == b"" and "content-type" not in response.headers
