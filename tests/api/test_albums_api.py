"""Albums over HTTP against the real stack: `POST /posts` with `filenames` and `altTexts`,
the `images` of the Post shape, and their blobs on delete (docs/api.md §F)."""

from __future__ import annotations

import secrets
from typing import Any

from phasma.blobs import image_keys
from tests.api.conftest import Account, Api, Bucket, Database
from tests.api.posting import (
    IMAGE_FIELDS,
    assert_error,
    assert_no_content,
    content_state,
    events_since,
    new_upload,
    outbox_position,
    tiny_jpeg,
)


def upload(account: Account, width: int = 12, height: int = 8) -> str:
    """A pending upload of `account` made over HTTP, `width` x `height` pixels."""
    files = {"image": ("photo.jpg", tiny_jpeg(width, height), "image/jpeg")}
    response = account.client.post("/uploads", files=files)
    assert response.status_code == 201, response.text
    filename: str = response.json()["filename"]
    return filename


def create_album(account: Account, filenames: list[str], **fields: Any) -> str:
    response = account.client.post("/posts", json={"filenames": filenames, **fields})
    assert response.status_code == 201, response.text
    public_id: str = response.json()["publicId"]
    return public_id


def image_rows(database: Database, public_id: str) -> list[list[Any]]:
    """(position, filename, alt_text) of the post's images after the first."""
    return database.rows(
        "SELECT i.position, i.filename, i.alt_text FROM post_images i"
        " JOIN posts p ON p.id = i.post_id WHERE p.public_id = CAST(:p AS uuid)"
        " ORDER BY i.position",
        p=public_id,
    )


def test_an_album_keeps_its_order_and_alt_texts_and_the_first_image_leads(
    api: Api, account: Account, database: Database
) -> None:
    first, second, third = upload(account, 30, 20), upload(account, 20, 30), upload(account)
    facts = {
        row[0]: row[1:]
        for row in database.rows(
            "SELECT filename, width, height, blurhash, renditions FROM uploads"
            " WHERE filename = ANY(CAST(:f AS varchar[]))",
            f=[first, second, third],
        )
    }
    position = outbox_position(database)

    # Display order is the list's, not the order of upload.
    order = [third, first, second]
    public_id = create_album(
        account,
        order,
        description="three #views",
        altTexts=["  the third, trimmed  ", None, ""],
    )

    post = api.get(f"/posts/{public_id}").json()
    alt_texts = ["the third, trimmed", None, None]
    assert post["images"] == [
        {
            "filename": filename,
            "width": facts[filename][0],
            "height": facts[filename][1],
            "blurhash": facts[filename][2],
            "renditions": facts[filename][3],
            "altText": alt_text,
            "mediaToken": None,
        }
        for filename, alt_text in zip(order, alt_texts, strict=True)
    ]
    assert all(set(image) == IMAGE_FIELDS for image in post["images"])
    leading = {key: post[key] for key in IMAGE_FIELDS}
    assert leading == post["images"][0]
    # The first image lives on the post's row, the others in post_images.
    assert (
        database.value("SELECT filename FROM posts WHERE public_id = CAST(:p AS uuid)", p=public_id)
        == third
    )
    assert image_rows(database, public_id) == [[1, first, None], [2, second, None]]
    assert (
        database.value(
            "SELECT count(*) FROM uploads WHERE filename = ANY(CAST(:f AS varchar[]))", f=order
        )
        == 0
    )
    created = events_since(database, position)[0]
    assert created["type"] == "phasma.post.created"
    assert (created["payload"]["filename"], created["payload"]["filenames"]) == (third, order)


def test_a_single_filename_list_is_a_one_image_post(
    api: Api, account: Account, database: Database
) -> None:
    filename = upload(account)
    public_id = create_album(account, [filename], altTexts=["alone"])
    post = api.get(f"/posts/{public_id}").json()
    assert (post["filename"], post["altText"]) == (filename, "alone")
    assert [image["filename"] for image in post["images"]] == [filename]
    assert image_rows(database, public_id) == []


def test_ten_images_are_accepted_and_alt_texts_may_be_left_out(api: Api, account: Account) -> None:
    filenames = [upload(account) for _ in range(10)]
    public_id = create_album(account, filenames)
    images = api.get(f"/posts/{public_id}").json()["images"]
    assert [image["filename"] for image in images] == filenames
    assert {image["altText"] for image in images} == {None}


def _bad_album_bodies(
    mine: list[str], foreign: str, expired: str
) -> list[tuple[dict[str, Any], str]]:
    a, b = mine
    never = "0" * 32
    return [
        ({"filename": a, "filenames": [b]}, "filenames and altTexts replace"),
        ({"filenames": [a], "altText": "one"}, "filenames and altTexts replace"),
        ({"filename": a, "altTexts": ["one"]}, "altTexts requires filenames"),
        ({"filenames": []}, "filenames must list 1 to 10 uploads"),
        ({"filenames": [secrets.token_hex(16) for _ in range(11)]}, "1 to 10"),
        ({"filenames": [a, b, a]}, "filenames must not repeat"),
        ({"filenames": [a, f" {a} "]}, "filenames must not repeat"),
        ({"filenames": [a, b], "altTexts": ["one"]}, "altTexts must have one item per filename"),
        ({"filenames": [a], "altTexts": [None, None]}, "one item per filename"),
        ({"filenames": [a], "altTexts": []}, "one item per filename"),
        ({"filenames": [a, b], "altTexts": [None, "x" * 1001]}, "altText must be at most 1000"),
        ({"filenames": [a, b], "description": "d" * 1001}, "description must be at most"),
        ({"filenames": [a, never]}, "upload is invalid or expired"),
        ({"filenames": [a, foreign]}, "upload is invalid or expired"),  # someone else's
        ({"filenames": [expired, b]}, "upload is invalid or expired"),  # past its hour
        ({"filenames": [a, b.upper()]}, "upload is invalid or expired"),
        ({"filenames": [a, None]}, "upload is invalid or expired"),
    ]


def test_bad_albums_are_rejected_and_write_nothing(
    account: Account, make_account, database: Database, bucket: Bucket
) -> None:
    mine = [new_upload(account, database, bucket) for _ in range(2)]
    foreign = new_upload(make_account(), database, bucket)
    expired = new_upload(account, database, bucket)
    database.rows(
        "UPDATE uploads SET created = now() - interval '61 minutes' WHERE filename = :f",
        f=expired,
    )
    for body, message in _bad_album_bodies(mine, foreign, expired):
        before = content_state(database)
        response = account.client.post("/posts", json=body)
        assert_error(response, 400)
        assert message in response.json()["message"], body
        assert content_state(database) == before, body
    # No failed attempt consumed an upload: the same two still make an album.
    create_album(account, mine)


def test_malformed_album_fields_are_400_and_write_nothing(
    account: Account, database: Database, bucket: Bucket
) -> None:
    filename = new_upload(account, database, bucket)
    for body in (
        {"filenames": filename},
        {"filenames": [5]},
        {"filenames": None, "altTexts": None, "filename": ""},
        {"filenames": [filename], "altTexts": "alt"},
        {"filenames": [filename], "altTexts": [3]},
        {"filenames": [filename], "altTexts": ["nul \x00 inside"]},
    ):
        before = content_state(database)
        assert_error(account.client.post("/posts", json=body), 400)
        assert content_state(database) == before, body


def test_an_upload_already_in_an_album_cannot_be_used_again(
    account: Account, database: Database
) -> None:
    first, second = upload(account), upload(account)
    create_album(account, [first, second])
    for body in ({"filenames": [second]}, {"filename": second}):
        before = content_state(database)
        assert_error(account.client.post("/posts", json=body), 400)
        assert content_state(database) == before


def test_every_route_that_returns_posts_lists_their_images(
    api: Api, account: Account, database: Database
) -> None:
    filenames = [upload(account), upload(account)]
    public_id = create_album(account, filenames, altTexts=["one", "two"])
    assert_no_content(account.client.post(f"/posts/{public_id}/likes"))
    assert_no_content(account.client.put(f"/posts/{public_id}/bookmark"))
    # Far ahead of every other test's posts on the popular list.
    database.rows(
        "UPDATE posts SET like_count = 1000000000 WHERE public_id = CAST(:p AS uuid)",
        p=public_id,
    )
    expected = api.get(f"/posts/{public_id}").json()["images"]
    assert [(image["filename"], image["altText"]) for image in expected] == [
        (filenames[0], "one"),
        (filenames[1], "two"),
    ]

    def listed(path: str) -> list[dict[str, Any]]:
        response = account.client.get(path)
        assert response.status_code == 200, (path, response.text)
        items = [item for item in response.json()["items"] if item["publicId"] == public_id]
        assert len(items) == 1, path
        images: list[dict[str, Any]] = items[0]["images"]
        return images

    try:
        for path in (
            f"/users/{account.username}/posts",
            "/feed",
            "/posts/popular",
            f"/users/{account.username}/likes",
            "/users/me/bookmarks",
        ):
            assert listed(path) == expected, path
    finally:
        # Out of the way of the tests that rank the popular list.
        database.rows(
            "UPDATE posts SET like_count = 1 WHERE public_id = CAST(:p AS uuid)", p=public_id
        )
    edited = account.client.patch(f"/posts/{public_id}", json={"altText": "first, edited"})
    assert edited.status_code == 200, edited.text
    assert edited.json()["images"][0]["altText"] == "first, edited"
    assert edited.json()["images"][1:] == expected[1:]


def test_deleting_an_album_removes_every_blob_of_every_image(
    account: Account, database: Database, bucket: Bucket
) -> None:
    # Wide enough for both renditions: each image has four objects.
    filenames = [upload(account, 1600, 1200) for _ in range(3)]
    public_id = create_album(account, filenames)
    keys = {key for filename in filenames for key in image_keys(filename)}
    assert keys <= bucket.keys()
    database.rows(
        "UPDATE users SET avatar = :f WHERE username = :u", f=filenames[0], u=account.username
    )
    position = outbox_position(database)

    assert_no_content(account.client.delete(f"/posts/{public_id}"))

    assert not keys & bucket.keys()
    assert (
        database.value(
            "SELECT count(*) FROM post_images WHERE filename = ANY(CAST(:f AS varchar[]))",
            f=filenames,
        )
        == 0
    )
    assert (
        database.value("SELECT avatar FROM users WHERE username = :u", u=account.username) is None
    )
    deleted = events_since(database, position)[0]
    assert deleted["type"] == "phasma.post.deleted"
    assert deleted["payload"]["filenames"] == filenames
