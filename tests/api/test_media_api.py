"""`media` function over HTTP against the real stack (docs/api.md §15.2)."""

from __future__ import annotations

import secrets

import pytest
import requests

from phasma.blobs import rendition_key, thumbnail_key
from phasma.devstack.services import free_port
from tests.api.conftest import Account, Api, ApiStack, Bucket, direct
from tests.api.sample_images import RED, encode, halves, photo_jpeg

CACHE_CONTROL = "public, max-age=86400, immutable"


@pytest.fixture
def uploaded(account: Account) -> str:
    """The filename of a fresh upload (original and thumbnail stored)."""
    source = encode(halves((900, 600), RED, (0, 0, 255)), "JPEG", quality=90)
    response = account.client.post("/uploads", files={"image": ("a.jpg", source, "image/jpeg")})
    assert response.status_code == 201
    return response.json()["filename"]


@pytest.fixture
def dead_store_api(stack_with) -> Api:
    """A client of an API whose blob store refuses every connection."""
    return Api(stack_with(s3_endpoint=f"http://127.0.0.1:{free_port()}"))


def assert_media_headers(response: requests.Response, etag: str) -> None:
    assert response.headers["ETag"] == f'"{etag}"'
    assert response.headers["Cache-Control"] == CACHE_CONTROL
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "set-cookie" not in response.headers


def test_an_upload_is_served_with_its_bytes_and_cache_headers(
    account: Account, bucket: Bucket, uploaded: str
) -> None:
    # Signed in: the route is public, so the session is neither read nor refreshed.
    response = account.client.get(f"/uploads/{uploaded}")

    assert response.status_code == 200
    stored = bucket.get(uploaded)
    assert stored is not None and response.content == stored
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["Content-Length"] == str(len(stored))
    assert_media_headers(response, uploaded)


def test_a_large_object_streams_through_unchanged(api: Api, bucket: Bucket) -> None:
    filename = secrets.token_hex(16)
    data = secrets.token_bytes(900_000)  # many 64 KiB chunks
    bucket.put(filename, data)

    with api.get(f"/uploads/{filename}", stream=True) as response:
        assert response.status_code == 200
        assert response.headers["Content-Length"] == str(len(data))
        assert "transfer-encoding" not in response.headers
        received = b"".join(response.iter_content(32 * 1024))
    assert received == data


@pytest.mark.parametrize(
    "header",
    ['"{name}"', 'W/"{name}"', '"other", "{name}"', '"other",W/"{name}"', "*"],
    ids=["strong", "weak", "list", "weak-in-list", "star"],
)
def test_if_none_match_is_304_with_cache_headers_and_no_body(
    api: Api, uploaded: str, header: str
) -> None:
    value = header.format(name=uploaded)
    response = api.get(f"/uploads/{uploaded}", headers={"If-None-Match": value})
    assert response.status_code == 304
    assert response.content == b""
    assert "content-type" not in response.headers
    assert_media_headers(response, uploaded)


@pytest.mark.parametrize(
    "header", ['"{other}"', '"{name}-thumbnail"', 'W/"{other}"'], ids=["other", "variant", "weak"]
)
def test_a_non_matching_if_none_match_gets_the_image(api: Api, uploaded: str, header: str) -> None:
    value = header.format(name=uploaded, other=secrets.token_hex(16))
    response = api.get(f"/uploads/{uploaded}", headers={"If-None-Match": value})
    assert response.status_code == 200
    assert response.content[:3] == b"\xff\xd8\xff"


def test_head_sends_the_headers_only(api: Api, bucket: Bucket, uploaded: str) -> None:
    response = api.request("HEAD", f"/uploads/{uploaded}")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["Content-Length"] == str(len(bucket.get(uploaded) or b""))
    assert_media_headers(response, uploaded)
    conditional = api.request(
        "HEAD", f"/uploads/{uploaded}", headers={"If-None-Match": f'"{uploaded}"'}
    )
    assert conditional.status_code == 304


def test_a_missing_blob_is_404(api: Api) -> None:
    response = api.get(f"/uploads/{secrets.token_hex(16)}")
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}


BAD_NAMES = [
    "0123456789ABCDEF0123456789ABCDEF",  # uppercase
    "0123456789abcdef0123456789abcde",  # 31
    "0123456789abcdef0123456789abcdef0",  # 33
    "0123456789abcdef0123456789abcdef.jpg",
    "0123456789abcdef0123456789abcdeg",  # not hex
    "0123456789abcdef0123456789abcdef/extra",
    "thumbnails/0123456789abcdef0123456789abcdef",  # another key space of the bucket
    "renditions/640/0123456789abcdef0123456789abcdef",
    "..%2f0123456789abcdef0123456789abcdef",
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_malformed_name_is_404_without_touching_storage(dead_store_api: Api, name: str) -> None:
    # The store of this API refuses connections: any storage call would make this a 503.
    response = dead_store_api.get(f"/uploads/{name}")
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}


def test_conditional_requests_never_read_storage(dead_store_api: Api) -> None:
    name = secrets.token_hex(16)
    for header, path in (
        (f'"{name}"', f"/uploads/{name}"),
        ("*", f"/uploads/{name}"),
        (f'W/"{name}-thumbnail"', f"/uploads/{name}?variant=thumbnail"),
        (f'"{name}-w640"', f"/uploads/{name}?w=640"),
    ):
        response = dead_store_api.get(path, headers={"If-None-Match": header})
        assert response.status_code == 304


def test_a_blob_store_outage_is_503(dead_store_api: Api) -> None:
    response = dead_store_api.get(f"/uploads/{secrets.token_hex(16)}")
    assert response.status_code == 503
    assert response.json() == {"message": "Service unavailable"}


# --- thumbnail variant ----------------------------------------------------------------


def test_the_thumbnail_variant_serves_the_grid_rendition(
    api: Api, bucket: Bucket, uploaded: str
) -> None:
    response = api.get(f"/uploads/{uploaded}?variant=thumbnail")

    assert response.status_code == 200
    thumbnail = bucket.get(thumbnail_key(uploaded))
    assert thumbnail is not None and response.content == thumbnail
    assert thumbnail != bucket.get(uploaded)
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["Content-Length"] == str(len(thumbnail))
    assert_media_headers(response, f"{uploaded}-thumbnail")
    revalidated = api.get(
        f"/uploads/{uploaded}?variant=thumbnail",
        headers={"If-None-Match": f'"{uploaded}-thumbnail"'},
    )
    assert revalidated.status_code == 304
    assert_media_headers(revalidated, f"{uploaded}-thumbnail")
    # The original's ETag does not validate the thumbnail.
    other = api.get(
        f"/uploads/{uploaded}?variant=thumbnail", headers={"If-None-Match": f'"{uploaded}"'}
    )
    assert other.status_code == 200


def test_an_upload_without_a_thumbnail_falls_back_to_the_original(api: Api, bucket: Bucket) -> None:
    filename = secrets.token_hex(16)
    original = photo_jpeg()
    bucket.put(filename, original)  # stored the way uploads were before thumbnails
    response = api.get(f"/uploads/{filename}?variant=thumbnail")
    assert response.status_code == 200
    assert response.content == original
    assert response.headers["ETag"] == f'"{filename}-thumbnail"'


@pytest.mark.parametrize(
    "query", ["variant=", "variant=THUMBNAIL", "variant=original", "variant=thumbnail&variant=x"]
)
def test_an_unknown_variant_is_400(api: Api, uploaded: str, query: str) -> None:
    response = api.get(f"/uploads/{uploaded}?{query}")
    assert response.status_code == 400
    assert set(response.json()) == {"message"}


# --- responsive renditions ------------------------------------------------------------


@pytest.fixture
def wide_upload(account: Account) -> str:
    """The filename of a fresh 1600 px wide upload: it has the 640 and 1080 renditions."""
    source = encode(halves((1600, 1000), RED, (0, 0, 255)), "JPEG", quality=90)
    response = account.client.post("/uploads", files={"image": ("w.jpg", source, "image/jpeg")})
    assert response.status_code == 201 and response.json()["renditions"] == [640, 1080]
    return response.json()["filename"]


@pytest.mark.parametrize("width", [640, 1080])
def test_each_rendition_is_served_immutable_with_its_own_etag(
    api: Api, bucket: Bucket, wide_upload: str, width: int
) -> None:
    response = api.get(f"/uploads/{wide_upload}?w={width}")

    assert response.status_code == 200
    stored = bucket.get(rendition_key(wide_upload, width))
    assert stored is not None and response.content == stored
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["Content-Length"] == str(len(stored))
    assert_media_headers(response, f"{wide_upload}-w{width}")
    revalidated = api.get(
        f"/uploads/{wide_upload}?w={width}", headers={"If-None-Match": f'"{wide_upload}-w{width}"'}
    )
    assert revalidated.status_code == 304
    assert revalidated.content == b""
    assert_media_headers(revalidated, f"{wide_upload}-w{width}")
    # Neither the original's nor the other width's ETag validates this one.
    for other in (wide_upload, f"{wide_upload}-w{1720 - width}", f"{wide_upload}-thumbnail"):
        assert (
            api.get(
                f"/uploads/{wide_upload}?w={width}", headers={"If-None-Match": f'"{other}"'}
            ).status_code
            == 200
        )


def test_a_width_the_upload_does_not_have_is_404_not_the_original(api: Api, uploaded: str) -> None:
    # `uploaded` is 900 px wide: a 640 rendition, but no 1080 one (never enlarged).
    assert api.get(f"/uploads/{uploaded}?w=640").status_code == 200
    response = api.get(f"/uploads/{uploaded}?w=1080")
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}


@pytest.mark.parametrize(
    "query",
    ["w=", "w=641", "w=320", "w=1080px", "w=0640", "w=640&w=1080", "w=640&variant=thumbnail"],
)
def test_an_unknown_width_is_400_without_touching_storage(dead_store_api: Api, query: str) -> None:
    response = dead_store_api.get(f"/uploads/{secrets.token_hex(16)}?{query}")
    assert response.status_code == 400
    assert set(response.json()) == {"message"} and response.json()["message"]


def test_other_methods_are_405(api: Api, uploaded: str) -> None:
    response = api.post(f"/uploads/{uploaded}")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"


def test_media_reads_the_database_to_know_private_accounts_images(api_stack: ApiStack) -> None:
    # docs/security.md "Private media": whether an image is a private account's is read
    # on every request, so the function needs (and its readiness checks) PostgreSQL.
    media = api_stack.functions["media"]
    assert media.runtime.database is not None
    assert direct(api_stack, "media").get("/ready").status_code == 204
