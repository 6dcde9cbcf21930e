"""Avatars in `PUT /users/me` and the replaced avatar's blob (docs/domain.md §2.1)."""

from __future__ import annotations

import pytest

from phasma.blobs import BlobStoreUnavailable, thumbnail_key
from tests.api.conftest import Account, ApiStack, Bucket, Database
from tests.api.sample_images import photo_jpeg

WRITES = ("users", "uploads", "posts", "outbox", "audit_log")


def upload(account: Account) -> str:
    response = account.client.post(
        "/uploads", files={"image": ("a.jpg", photo_jpeg(), "image/jpeg")}
    )
    assert response.status_code == 201
    return response.json()["filename"]


def set_avatar(account: Account, avatar: str | None) -> int:
    body = {"name": account.name, "username": account.username, "email": account.email}
    if avatar is not None:
        body["avatar"] = avatar
    return account.client.put("/users/me", json=body).status_code


def make_post(database: Database, filename: str) -> None:
    """Turn a pending upload into a post the way `POST /posts` does (it may not exist yet)."""
    database.rows(
        """
        WITH consumed AS (
            DELETE FROM uploads WHERE filename = :filename
            RETURNING user_id, width, height, blurhash
        )
        INSERT INTO posts (user_id, filename, width, height, blurhash)
        SELECT user_id, :filename, width, height, blurhash FROM consumed
        """,
        filename=filename,
    )


def stored(bucket: Bucket, filename: str) -> tuple[bool, bool]:
    """Whether the original and the thumbnail of `filename` are in the bucket."""
    keys = bucket.keys()
    return filename in keys, thumbnail_key(filename) in keys


def current_avatar(account: Account) -> str | None:
    return account.client.get("/users/me").json()["avatar"]


def test_a_pending_upload_becomes_the_avatar_and_is_consumed(
    account: Account, database: Database, bucket: Bucket
) -> None:
    filename = upload(account)

    assert set_avatar(account, filename) == 204

    assert current_avatar(account) == filename
    assert database.value("SELECT count(*) FROM uploads WHERE filename = :f", f=filename) == 0
    assert stored(bucket, filename) == (True, True)
    event = database.value(
        "SELECT payload FROM outbox WHERE type = 'phasma.user.updated' "
        "AND payload->>'username' = :u ORDER BY id DESC LIMIT 1",
        u=account.username,
    )
    assert event["avatar"] == filename


def test_an_own_post_filename_becomes_the_avatar(
    account: Account, database: Database, bucket: Bucket
) -> None:
    filename = upload(account)
    make_post(database, filename)
    assert set_avatar(account, filename) == 204
    assert current_avatar(account) == filename
    assert stored(bucket, filename) == (True, True)


@pytest.mark.parametrize("source", ["foreign-upload", "foreign-post", "expired-upload"])
def test_avatars_that_are_not_the_users_own_are_400(
    account: Account, make_account, database: Database, bucket: Bucket, source: str
) -> None:
    other = make_account()
    if source == "expired-upload":
        filename = upload(account)
        database.rows(
            "UPDATE uploads SET created = now() - interval '61 minutes' WHERE filename = :f",
            f=filename,
        )
    else:
        filename = upload(other)
        if source == "foreign-post":
            make_post(database, filename)
    before = (database.counts(*WRITES), bucket.keys())

    response = account.client.put(
        "/users/me",
        json={
            "name": account.name,
            "username": account.username,
            "email": account.email,
            "avatar": filename,
        },
    )

    assert response.status_code == 400
    assert set(response.json()) == {"message"}
    assert (database.counts(*WRITES), bucket.keys()) == before
    assert current_avatar(account) is None


def test_a_replaced_avatar_nobody_uses_is_deleted_with_its_thumbnail(
    account: Account, bucket: Bucket
) -> None:
    first, second = upload(account), upload(account)
    assert set_avatar(account, first) == 204

    assert set_avatar(account, second) == 204

    assert current_avatar(account) == second
    assert stored(bucket, first) == (False, False)
    assert stored(bucket, second) == (True, True)


def test_a_cleared_avatar_nobody_uses_is_deleted(account: Account, bucket: Bucket) -> None:
    filename = upload(account)
    assert set_avatar(account, filename) == 204
    assert set_avatar(account, None) == 204  # omitted: cleared
    assert current_avatar(account) is None
    assert stored(bucket, filename) == (False, False)


def test_a_replaced_avatar_that_is_also_a_post_is_kept(
    account: Account, database: Database, bucket: Bucket
) -> None:
    shared = upload(account)
    make_post(database, shared)
    assert set_avatar(account, shared) == 204

    assert set_avatar(account, upload(account)) == 204

    assert stored(bucket, shared) == (True, True)


def test_a_replaced_avatar_another_user_shows_is_kept(
    account: Account, make_account, database: Database, bucket: Bucket
) -> None:
    filename = upload(account)
    assert set_avatar(account, filename) == 204
    other = make_account()
    database.rows("UPDATE users SET avatar = :f WHERE username = :u", f=filename, u=other.username)

    assert set_avatar(account, None) == 204

    assert stored(bucket, filename) == (True, True)


def test_keeping_the_same_avatar_deletes_nothing(account: Account, bucket: Bucket) -> None:
    filename = upload(account)
    assert set_avatar(account, filename) == 204
    assert set_avatar(account, filename) == 204
    assert current_avatar(account) == filename
    assert stored(bucket, filename) == (True, True)


def test_a_failed_blob_deletion_never_fails_the_update(
    account: Account, api_stack: ApiStack, bucket: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = upload(account), upload(account)
    assert set_avatar(account, first) == 204

    def refuse(keys: object) -> None:
        raise BlobStoreUnavailable("injected: delete refused")

    # The store's outage on cue: a real server will not refuse deletes on demand.
    monkeypatch.setattr(api_stack.functions["users"].runtime.blob_store, "delete_many", refuse)

    assert set_avatar(account, second) == 204

    assert current_avatar(account) == second
    assert stored(bucket, first) == (True, True)  # left behind, logged
