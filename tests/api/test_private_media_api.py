"""Private accounts' images over HTTP (docs/api.md §E; docs/security.md "Private media"):
served only with the signed, short-lived token the Post shape hands to its readers."""

from __future__ import annotations

import time

import pytest
import requests

from phasma.config import Limits
from phasma.media_urls import make_token, signing_key
from tests.api.conftest import Account, Api, ApiStack, Bucket, Database
from tests.api.posting import new_post

PUBLIC_CACHE = "public, max-age=86400, immutable"


def profile(account: Account, **changes: object) -> dict[str, object]:
    return {"name": account.name, "username": account.username, "email": account.email, **changes}


def set_private(account: Account, private: bool) -> None:
    response = account.client.put("/users/me", json=profile(account, private=private))
    assert response.status_code == 204, response.text


def read_post(client: Api, post_id: str) -> dict[str, object]:
    response = client.get(f"/posts/{post_id}")
    assert response.status_code == 200, response.text
    post: dict[str, object] = response.json()
    return post


def assert_hidden(response: requests.Response) -> None:
    # The same answer as for a name that does not exist: nothing to learn.
    assert response.status_code == 404, response.text
    assert response.json() == {"message": "Not Found"}
    assert "etag" not in response.headers


@pytest.fixture
def key(api_stack: ApiStack) -> bytes:
    return signing_key(api_stack.settings.session_hash_secret or "")


@pytest.fixture
def private_post(make_account, database: Database, bucket: Bucket) -> tuple[Account, str, str]:
    """A private account's post: (owner, publicId, filename)."""
    owner = make_account()
    post_id = new_post(owner, database, bucket)
    set_private(owner, True)
    filename = str(read_post(owner.client, post_id)["filename"])
    return owner, post_id, filename


def test_a_stranger_without_a_token_gets_404(
    private_post: tuple[Account, str, str], api: Api, account: Account
) -> None:
    _, _, filename = private_post
    for client in (api, account.client):
        assert_hidden(client.get(f"/uploads/{filename}"))
        assert_hidden(client.get(f"/uploads/{filename}", params={"variant": "thumbnail"}))
        # A conditional request learns nothing either.
        assert_hidden(client.get(f"/uploads/{filename}", headers={"If-None-Match": "*"}))


def test_the_owner_gets_a_token_that_serves_every_variant(
    private_post: tuple[Account, str, str], api: Api, bucket: Bucket
) -> None:
    owner, post_id, filename = private_post
    post = read_post(owner.client, post_id)
    token = post["mediaToken"]
    assert isinstance(token, str)
    images = post["images"]
    assert isinstance(images, list) and images[0]["mediaToken"] == token

    # Anyone holding the URL (the token is in it) gets the bytes until it expires.
    response = api.get(f"/uploads/{filename}", params={"token": token})
    assert response.status_code == 200, response.text
    assert response.content == bucket.get(filename)
    cache_control = response.headers["Cache-Control"]
    assert cache_control.startswith("private, max-age=")
    max_age = int(cache_control.rsplit("=", 1)[1])
    ttl = Limits.MEDIA_URL_TTL_SECONDS
    assert ttl - 5 <= max_age <= ttl + Limits.MEDIA_URL_EXPIRY_STEP_SECONDS
    thumbnail = api.get(f"/uploads/{filename}", params={"variant": "thumbnail", "token": token})
    assert thumbnail.status_code == 200
    # Revalidation goes through the same check, and keeps the private headers.
    etag = response.headers["ETag"]
    again = api.get(
        f"/uploads/{filename}", params={"token": token}, headers={"If-None-Match": etag}
    )
    assert again.status_code == 304
    assert again.headers["Cache-Control"].startswith("private, max-age=")


def test_a_follower_reads_the_post_with_its_token_a_stranger_cannot(
    private_post: tuple[Account, str, str], make_account
) -> None:
    owner, post_id, filename = private_post
    follower = make_account()
    assert follower.client.post(f"/users/{owner.username}/follow").status_code == 202
    assert owner.client.post(f"/users/me/follow-requests/{follower.username}").status_code == 204

    token = read_post(follower.client, post_id)["mediaToken"]
    response = follower.client.get(f"/uploads/{filename}", params={"token": token})
    assert response.status_code == 200


def test_a_tampered_token_is_404(
    private_post: tuple[Account, str, str], api: Api, key: bytes
) -> None:
    owner, post_id, filename = private_post
    token = str(read_post(owner.client, post_id)["mediaToken"])
    expires, signature = token.split("-")
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    candidates = [
        f"{expires}-{flipped}",  # the signature changed
        f"{int(expires) + 600}-{signature}",  # a longer life, same signature
        token.upper(),
        token + "0",
        "",
        "garbage",
        # A valid token, but for another image: tokens are per image.
        make_token(key, "f" * 32, time.time()),
    ]
    for candidate in candidates:
        assert_hidden(api.get(f"/uploads/{filename}", params={"token": candidate}))


def test_an_expired_token_is_404(
    private_post: tuple[Account, str, str], api: Api, key: bytes
) -> None:
    _, _, filename = private_post
    ttl = Limits.MEDIA_URL_TTL_SECONDS + Limits.MEDIA_URL_EXPIRY_STEP_SECONDS
    expired = make_token(key, filename, time.time() - ttl - 1)
    assert_hidden(api.get(f"/uploads/{filename}", params={"token": expired}))
    # The same key signs the current one, so only the expiry made the difference.
    current = make_token(key, filename, time.time())
    assert api.get(f"/uploads/{filename}", params={"token": current}).status_code == 200


def test_a_public_post_is_unaffected(
    account: Account, api: Api, database: Database, bucket: Bucket
) -> None:
    post_id = new_post(account, database, bucket)
    post = read_post(api, post_id)
    assert post["mediaToken"] is None
    images = post["images"]
    assert isinstance(images, list) and images[0]["mediaToken"] is None

    response = api.get(f"/uploads/{post['filename']}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == PUBLIC_CACHE
    # A token on a public image changes nothing.
    tokened = api.get(f"/uploads/{post['filename']}", params={"token": "1-" + "0" * 32})
    assert tokened.status_code == 200


def test_turning_private_ends_the_plain_urls_and_turning_public_restores_them(
    account: Account, api: Api, database: Database, bucket: Bucket
) -> None:
    post_id = new_post(account, database, bucket)
    filename = read_post(api, post_id)["filename"]
    assert api.get(f"/uploads/{filename}").status_code == 200

    set_private(account, True)
    assert_hidden(api.get(f"/uploads/{filename}"))

    set_private(account, False)
    assert api.get(f"/uploads/{filename}").status_code == 200
    assert read_post(api, post_id)["mediaToken"] is None


def test_a_private_accounts_avatar_stays_public_even_from_a_post(
    private_post: tuple[Account, str, str], api: Api
) -> None:
    # The profile header, avatar included, is what non-followers see (docs/api.md §E).
    owner, _, filename = private_post
    response = owner.client.put("/users/me", json=profile(owner, avatar=filename))
    assert response.status_code == 204, response.text

    avatar = api.get(f"/uploads/{filename}", params={"variant": "thumbnail"})
    assert avatar.status_code == 200
    assert avatar.headers["Cache-Control"] == PUBLIC_CACHE
