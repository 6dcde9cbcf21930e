"""`uploads` function over HTTP against the real stack (docs/api.md §15.1, docs/domain.md §2.3)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import requests
from PIL import Image
from werkzeug.test import Client

from phasma.blobs import BlobStoreUnavailable, image_keys, rendition_key, thumbnail_key
from phasma.concurrency import ConcurrencyLimit
from phasma.devstack.services import DependencyUrls, free_port
from phasma.http.pipeline import HttpFunction
from phasma.registry import get_function
from phasma.runtime import Runtime
from tests.api.conftest import (
    Account,
    Api,
    ApiStack,
    Bucket,
    Database,
    build_settings,
    direct,
    new_identity,
)
from tests.api.sample_images import (
    BLUE,
    RED,
    WHITE,
    animated_gif,
    assert_clean_jpeg,
    close_to,
    colour_at,
    encode,
    halves,
    heic,
    noisy_jpeg,
    opened,
    photo_jpeg,
    png_bomb,
    png_header_only,
    png_with_alpha,
    webp,
)

WRITES = ("uploads", "posts", "users", "outbox")
FILENAME = re.compile(r"[0-9a-f]{32}")
IMAGE_LIMIT = 20_000_000
REQUEST_LIMIT = IMAGE_LIMIT + 64 * 1024
STORED_LONGEST_SIDE = 2048
STORED_MAX_BYTES = 1_000_000


def post_image(
    client: Api, data: bytes, filename: str = "photo.jpg", content_type: str = "image/jpeg"
) -> requests.Response:
    return client.post("/uploads", files={"image": (filename, data, content_type)})


def user_id(database: Database, account: Account) -> int:
    return database.value("SELECT id FROM users WHERE username = :u", u=account.username)


def stored_images(bucket: Bucket, filename: str) -> tuple[bytes | None, bytes | None]:
    """(original, thumbnail) as stored, None where missing."""
    return bucket.get(filename), bucket.get(thumbnail_key(filename))


def assert_error(response: requests.Response, status: int) -> None:
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"message"} and isinstance(body["message"], str) and body["message"]


@pytest.fixture
def nothing_written(account: Account, database: Database, bucket: Bucket) -> Callable[[], None]:
    """Snapshot rows and blobs once `account` exists; calling it asserts neither changed."""
    before = (database.counts(*WRITES), bucket.keys())

    def check() -> None:
        assert (database.counts(*WRITES), bucket.keys()) == before

    return check


# --- accepted images -------------------------------------------------------------------


def test_jpeg_is_stored_reencoded_without_metadata_and_upright(
    account: Account, database: Database, bucket: Bucket
) -> None:
    # Orientation 6: the camera held the 64 x 48 sensor image rotated; upright it is 48 x 64.
    response = post_image(account.client, photo_jpeg((64, 48), orientation=6))

    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"filename", "width", "height", "blurhash", "thumbnail", "renditions"}
    assert FILENAME.fullmatch(body["filename"])
    assert (body["width"], body["height"], body["thumbnail"]) == (48, 64, True)
    assert body["renditions"] == []  # 48 px wide: no narrower rendition to make
    assert isinstance(body["blurhash"], str) and len(body["blurhash"]) == 28
    row = database.rows(
        "SELECT user_id, width, height, blurhash, renditions FROM uploads WHERE filename = :f",
        f=body["filename"],
    )
    assert row == [[user_id(database, account), 48, 64, body["blurhash"], []]]
    original, thumbnail = stored_images(bucket, body["filename"])
    assert original is not None and thumbnail is not None
    assert_clean_jpeg(original)
    assert_clean_jpeg(thumbnail)
    assert b"PhasmaCam" not in original and b"secret comment" not in original
    assert opened(original).size == (48, 64)


def test_large_image_gets_a_thumbnail_of_at_most_640_pixels(
    account: Account, bucket: Bucket
) -> None:
    source = encode(halves((1600, 900), RED, BLUE), "JPEG", quality=85)
    response = post_image(account.client, source)
    assert response.status_code == 201
    assert (response.json()["width"], response.json()["height"]) == (1600, 900)
    original, thumbnail = stored_images(bucket, response.json()["filename"])
    assert original is not None and thumbnail is not None
    assert opened(original).size == (1600, 900)
    assert opened(thumbnail).size == (640, 360)


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((1600, 900), {640: (640, 360), 1080: (1080, 608)}),
        ((900, 2000), {640: (640, 1422)}),  # narrower than 1080: that one is the original
        ((500, 500), {}),  # never enlarged
    ],
)
def test_renditions_of_each_width_narrower_than_the_image_are_stored(
    account: Account,
    database: Database,
    bucket: Bucket,
    size: tuple[int, int],
    expected: dict[int, tuple[int, int]],
) -> None:
    response = post_image(account.client, encode(halves(size, RED, BLUE), "JPEG", quality=90))

    assert response.status_code == 201
    filename = response.json()["filename"]
    assert response.json()["renditions"] == sorted(expected)
    assert database.value(
        "SELECT renditions FROM uploads WHERE filename = :f", f=filename
    ) == sorted(expected)
    original = bucket.get(filename) or b""
    for width in (640, 1080):
        stored = bucket.get(rendition_key(filename, width))
        if width not in expected:
            assert stored is None
            continue
        assert stored is not None
        assert_clean_jpeg(stored)
        assert opened(stored).size == expected[width]
        assert len(stored) < len(original)


@pytest.mark.parametrize(
    ("data", "size", "left", "right"),
    [
        (png_with_alpha((40, 30)), (40, 30), RED, WHITE),  # transparency onto white
        (animated_gif((30, 20)), (30, 20), RED, RED),  # first frame only
        (webp((50, 40)), (50, 40), RED, RED),
    ],
    ids=["png-with-alpha", "animated-gif", "webp"],
)
def test_png_gif_and_webp_are_stored_as_jpeg(
    account: Account,
    database: Database,
    bucket: Bucket,
    data: bytes,
    size: tuple[int, int],
    left: tuple[int, int, int],
    right: tuple[int, int, int],
) -> None:
    # The declared name and type are ignored: only the bytes count.
    response = post_image(account.client, data, filename="x.html", content_type="text/html")

    assert response.status_code == 201
    filename = response.json()["filename"]
    assert (response.json()["width"], response.json()["height"]) == size
    assert database.rows("SELECT width, height FROM uploads WHERE filename = :f", f=filename) == [
        list(size)
    ]
    original, _ = stored_images(bucket, filename)
    assert original is not None
    assert_clean_jpeg(original)
    assert close_to(colour_at(original, (2, size[1] // 2)), left)
    assert close_to(colour_at(original, (size[0] - 3, size[1] // 2)), right)


def assert_stored_within_limits(
    database: Database, bucket: Bucket, body: dict[str, object], size: tuple[int, int]
) -> None:
    """The upload was stored as `size` (its longest side 2048 px), within a megabyte."""
    filename = str(body["filename"])
    assert (body["width"], body["height"]) == size
    assert max(size) == STORED_LONGEST_SIDE
    widths = [width for width in (640, 1080) if width < size[0]]
    assert body["renditions"] == widths
    assert database.rows("SELECT width, height FROM uploads WHERE filename = :f", f=filename) == [
        list(size)
    ]
    original, thumbnail = stored_images(bucket, filename)
    assert original is not None and thumbnail is not None
    assert len(original) <= STORED_MAX_BYTES
    assert_clean_jpeg(original)
    assert opened(original).size == size
    assert max(opened(thumbnail).size) == 640
    for width in widths:
        rendition = bucket.get(rendition_key(filename, width))
        assert rendition is not None and opened(rendition).size[0] == width


def test_a_19_megabyte_photo_is_stored_at_2048_pixels_within_a_megabyte(
    account: Account, database: Database, bucket: Bucket
) -> None:
    source = noisy_jpeg((6000, 4500), 128, 91)
    assert 18_500_000 < len(source) <= 19_500_000
    response = post_image(account.client, source)
    assert response.status_code == 201, response.text
    assert_stored_within_limits(database, bucket, response.json(), (2048, 1536))


def test_a_48_megapixel_photo_of_20_megabytes_is_stored_at_2048_pixels(
    account: Account, database: Database, bucket: Bucket
) -> None:
    source = noisy_jpeg((8000, 6000), 76, 85)
    assert 19_000_000 < len(source) <= IMAGE_LIMIT
    response = post_image(account.client, source)
    assert response.status_code == 201, response.text
    assert_stored_within_limits(database, bucket, response.json(), (2048, 1536))


def test_a_tall_png_is_scaled_to_2048_pixels_high(
    account: Account, database: Database, bucket: Bucket
) -> None:
    source = encode(halves((1536, 4096), RED, BLUE), "PNG")
    response = post_image(account.client, source, filename="a.png", content_type="image/png")
    assert response.status_code == 201
    assert_stored_within_limits(database, bucket, response.json(), (768, 2048))


def test_heic_is_stored_upright_as_a_clean_jpeg(
    account: Account, database: Database, bucket: Bucket
) -> None:
    # As an iPhone writes it: HEVC in HEIF, rotated by its metadata, a type browsers send
    # as image/heic (ignored like every declared type).
    source = heic((400, 300), orientation=6)
    response = post_image(
        account.client, source, filename="IMG_0001.HEIC", content_type="image/heic"
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["width"], body["height"]) == (300, 400)
    original, thumbnail = stored_images(bucket, body["filename"])
    assert original is not None and thumbnail is not None
    assert_clean_jpeg(original)
    assert b"PhasmaCam" not in original
    # The red left half is the top once turned clockwise.
    assert close_to(colour_at(original, (150, 20)), RED, tolerance=24)
    assert close_to(colour_at(original, (150, 380)), BLUE, tolerance=24)


def test_polyglot_comes_out_as_a_plain_jpeg(account: Account, bucket: Bucket) -> None:
    payload = b"<html><script>alert(document.cookie)</script></html>"
    # A real JPEG with an HTML document and a ZIP end record after its end-of-image marker.
    polyglot = photo_jpeg() + payload + b"PK\x05\x06" + b"\x00" * 18
    response = post_image(account.client, polyglot, filename="x.html", content_type="text/html")
    assert response.status_code == 201
    original, thumbnail = stored_images(bucket, response.json()["filename"])
    assert original is not None and thumbnail is not None
    assert_clean_jpeg(original)
    assert b"<script>" not in original and b"PK\x05\x06" not in original


def test_other_parts_are_ignored_and_the_first_image_part_counts(account: Account) -> None:
    files = [
        ("caption", (None, "ignored")),
        ("image", ("a.png", encode(Image.new("RGB", (12, 10), RED), "PNG"), "image/png")),
        ("image", ("b.png", encode(Image.new("RGB", (30, 30), BLUE), "PNG"), "image/png")),
        ("other", ("c.bin", b"\x00" * 1000, "application/octet-stream")),
    ]
    response = account.client.post("/uploads", files=files)
    assert response.status_code == 201
    assert (response.json()["width"], response.json()["height"]) == (12, 10)


def test_uploading_needs_a_session(api: Api, database: Database, bucket: Bucket) -> None:
    before = (database.counts(*WRITES), bucket.keys())
    response = post_image(api, photo_jpeg())
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}
    assert (database.counts(*WRITES), bucket.keys()) == before


# --- rejected bodies -------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [None, "image/jpeg", "application/json", "application/x-www-form-urlencoded", "text/plain"],
)
def test_a_body_that_is_not_multipart_is_415(
    account: Account, nothing_written: Callable[[], None], content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = account.client.post("/uploads", data=photo_jpeg(), headers=headers)
    assert_error(response, 415)
    nothing_written()


@pytest.mark.parametrize(
    "files",
    [
        {"photo": ("a.jpg", photo_jpeg(), "image/jpeg")},
        {"caption": (None, "no image here")},
        {"Image": ("a.jpg", photo_jpeg(), "image/jpeg")},  # part names are case-sensitive
    ],
    ids=["other-file-part", "text-field-only", "wrong-case"],
)
def test_a_missing_image_part_is_400(
    account: Account, nothing_written: Callable[[], None], files: dict[str, object]
) -> None:
    response = account.client.post("/uploads", files=files)
    assert_error(response, 400)
    assert "image" in response.json()["message"]
    nothing_written()


def multipart(boundary: str, image: bytes, *, closed: bool = True) -> bytes:
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="image"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode() + image
    return body + (f"\r\n--{boundary}--\r\n".encode() if closed else b"")


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", multipart("xyz", photo_jpeg())),  # no boundary parameter
        ("multipart/form-data; boundary=abc", multipart("xyz", photo_jpeg())),  # wrong one
        ("multipart/form-data; boundary=xyz", multipart("xyz", photo_jpeg(), closed=False)),
        ("multipart/form-data; boundary=xyz", b""),
        ("multipart/form-data; boundary=" + "b" * 71, multipart("b" * 71, photo_jpeg())),
    ],
    ids=["no-boundary", "wrong-boundary", "unterminated", "empty", "boundary-too-long"],
)
def test_malformed_multipart_is_400(
    account: Account, nothing_written: Callable[[], None], content_type: str, body: bytes
) -> None:
    response = account.client.post("/uploads", data=body, headers={"Content-Type": content_type})
    assert_error(response, 400)
    nothing_written()


def truncated_jpeg() -> bytes:
    data = encode(halves((400, 300), RED, BLUE), "JPEG")
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"just some text, not an image\n", "type"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "type"),
        (b"BM" + b"\x00" * 100, "type"),  # BMP: a real image format, but not an accepted one
        (b"", "type"),
        (truncated_jpeg(), "decoded"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "decoded"),  # right magic, garbage after
        (png_header_only(8000, 8000), "pixels"),  # 64 MP claimed in ~100 bytes
        (png_header_only(50_000_001, 1), "pixels"),
        (encode(Image.new("RGB", (10_000, 6000), RED), "JPEG"), "pixels"),  # a real 60 MP
    ],
    ids=[
        "text",
        "svg",
        "bmp",
        "empty",
        "truncated-jpeg",
        "garbage-png",
        "pixel-bomb",
        "pixel-bomb-wide",
        "sixty-megapixels",
    ],
)
def test_unacceptable_images_are_400(
    account: Account, nothing_written: Callable[[], None], data: bytes, needle: str
) -> None:
    response = post_image(account.client, data, filename="a.png", content_type="image/png")
    assert_error(response, 400)
    assert needle in response.json()["message"]
    nothing_written()


def test_a_png_bomb_is_refused_before_it_inflates(
    account: Account, nothing_written: Callable[[], None]
) -> None:
    # A complete, valid PNG: 400 MP (50 MB of pixel rows) in under 100 KB.
    bomb = png_bomb(20_000, 20_000)
    assert len(bomb) < 100_000
    started = time.perf_counter()
    response = post_image(account.client, bomb, filename="a.png", content_type="image/png")
    assert time.perf_counter() - started < 2  # a decode would take far longer
    assert_error(response, 400)
    assert "pixels" in response.json()["message"]
    nothing_written()


@pytest.mark.parametrize("size", [IMAGE_LIMIT + 1, 21_000_000], ids=["one-byte-over", "21-mb"])
def test_an_image_part_over_twenty_megabytes_is_413_without_decoding(
    account: Account, nothing_written: Callable[[], None], size: int
) -> None:
    # JPEG magic followed by junk: were it decoded, it would be a 400.
    response = post_image(account.client, b"\xff\xd8\xff" + b"\x00" * (size - 3))
    assert_error(response, 413)
    assert "large" in response.json()["message"]
    nothing_written()


def test_an_image_part_of_exactly_twenty_megabytes_is_read(
    account: Account, nothing_written: Callable[[], None]
) -> None:
    response = post_image(account.client, b"\xff\xd8\xff" + b"\x00" * (IMAGE_LIMIT - 3))
    assert_error(response, 400)  # within the limit, so it reached the decoder
    assert "decoded" in response.json()["message"]
    nothing_written()


def test_a_whole_body_over_the_limit_is_413(
    account: Account, nothing_written: Callable[[], None]
) -> None:
    files = {
        "image": ("a.jpg", photo_jpeg(), "image/jpeg"),
        "padding": ("p.bin", b"\x00" * REQUEST_LIMIT, "application/octet-stream"),
    }
    response = account.client.post("/uploads", files=files)
    assert_error(response, 413)
    nothing_written()


def test_a_chunked_body_over_the_limit_is_413(
    account: Account, nothing_written: Callable[[], None]
) -> None:
    """Without a Content-Length the read itself stops at the limit."""
    body = multipart("xyz", photo_jpeg()) + b"\x00" * REQUEST_LIMIT

    def chunks() -> Iterator[bytes]:  # a generator body makes requests send it chunked
        for start in range(0, len(body), 100_000):
            yield body[start : start + 100_000]

    response = account.client.post(
        "/uploads", data=chunks(), headers={"Content-Type": "multipart/form-data; boundary=xyz"}
    )
    assert_error(response, 413)
    nothing_written()


def test_a_chunked_body_within_the_limit_is_accepted(account: Account) -> None:
    body = multipart("xyz", photo_jpeg())
    response = account.client.post(
        "/uploads",
        data=iter([body[:100], body[100:]]),
        headers={"Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert response.status_code == 201


# --- pending uploads: cap and expiry ----------------------------------------------------


def add_pending(database: Database, owner: int, count: int, age: str = "0 seconds") -> None:
    """`count` pending-upload rows (no blobs) created `age` ago."""
    database.rows(
        """
        INSERT INTO uploads (filename, user_id, created)
        SELECT md5(random()::text || g), :owner, now() - CAST(:age AS interval)
        FROM generate_series(1, :count) AS g
        """,
        owner=owner,
        count=count,
        age=age,
    )


def test_the_twenty_first_pending_upload_is_429_and_stores_nothing(
    account: Account, database: Database, bucket: Bucket
) -> None:
    add_pending(database, user_id(database, account), 19)
    assert post_image(account.client, photo_jpeg()).status_code == 201  # the 20th
    before = (database.counts(*WRITES), bucket.keys())

    response = post_image(account.client, photo_jpeg())

    assert_error(response, 429)
    assert "retry-after" not in response.headers
    assert (database.counts(*WRITES), bucket.keys()) == before
    # The cap is per user.
    other = new_identity()
    client = Api(account.client.base_url)
    client.post("/users", json=other)
    client.post("/sessions", json={"email": other["email"], "password": other["password"]})
    assert post_image(client, photo_jpeg()).status_code == 201


def test_racing_uploads_never_overrun_the_pending_cap(
    account: Account, database: Database, bucket: Bucket
) -> None:
    owner = user_id(database, account)
    add_pending(database, owner, 17)
    before = bucket.keys()
    start = threading.Barrier(6)  # all six uploads arrive together, three places left
    statuses: list[int] = []

    def upload() -> None:
        start.wait()
        statuses.append(post_image(account.client, photo_jpeg()).status_code)

    threads = [threading.Thread(target=upload) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 201, 201, 429, 429, 429]
    assert database.value("SELECT count(*) FROM uploads WHERE user_id = :owner", owner=owner) == 20
    assert len(bucket.keys() - before) == 6  # three originals and their thumbnails


def test_expired_uploads_are_removed_with_their_blobs_before_counting(
    account: Account, database: Database, bucket: Bucket
) -> None:
    expired = [post_image(account.client, photo_jpeg()).json()["filename"] for _ in range(2)]
    database.rows(
        "UPDATE uploads SET created = now() - interval '2 hours' WHERE filename = ANY(:names)",
        names=expired,
    )
    owner = user_id(database, account)
    add_pending(database, owner, 18)
    add_pending(database, owner, 1, age="61 minutes")
    stored = bucket.keys()
    assert all(key in stored for name in expired for key in (name, thumbnail_key(name)))
    # Renditions too, as a wider upload would have them: they go with the rest.
    for name in expired:
        bucket.put(rendition_key(name, 640), b"rendition bytes")

    # 21 rows, 3 of them expired: after the sweep 18 remain, so this one is the 19th.
    response = post_image(account.client, photo_jpeg())

    assert response.status_code == 201
    assert database.value("SELECT count(*) FROM uploads WHERE user_id = :u", u=owner) == 19
    keys = bucket.keys()
    assert not any(key in keys for name in expired for key in image_keys(name))
    assert response.json()["filename"] in keys


def test_an_upload_just_under_an_hour_old_still_counts(
    account: Account, database: Database
) -> None:
    add_pending(database, user_id(database, account), 20, age="59 minutes")
    assert_error(post_image(account.client, photo_jpeg()), 429)


# --- failures -------------------------------------------------------------------------


def dead_s3_endpoint() -> str:
    return f"http://127.0.0.1:{free_port()}"


def test_blob_store_outage_is_503_and_leaves_no_row(
    stack_with, database: Database, bucket: Bucket
) -> None:
    client = Api(stack_with(s3_endpoint=dead_s3_endpoint()))
    identity = new_identity()
    client.post("/users", json=identity)
    client.post("/sessions", json={"email": identity["email"], "password": identity["password"]})
    before = (database.counts("uploads", "posts"), bucket.keys())

    response = post_image(client, photo_jpeg())

    assert response.status_code == 503
    assert response.json() == {"message": "Service unavailable"}
    assert (database.counts("uploads", "posts"), bucket.keys()) == before


def test_a_failed_thumbnail_write_removes_the_row_and_the_original(
    account: Account,
    api_stack: ApiStack,
    nothing_written: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A store that takes the original and then fails: a real server will not do that on cue.
    store = api_stack.functions["uploads"].runtime.blob_store
    real_put = store.put
    written: list[str] = []

    def put(key: str, data: bytes, content_type: str = "image/jpeg") -> None:
        if key.startswith("thumbnails/"):
            raise BlobStoreUnavailable("injected: thumbnail write failed")
        real_put(key, data, content_type)
        written.append(key)

    monkeypatch.setattr(store, "put", put)

    response = post_image(account.client, photo_jpeg())

    assert response.status_code == 503
    assert response.json() == {"message": "Service unavailable"}
    assert len(written) == 1  # the original was stored, then removed again
    nothing_written()


def test_a_failed_rendition_write_removes_the_row_and_every_blob(
    account: Account,
    api_stack: ApiStack,
    nothing_written: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = api_stack.functions["uploads"].runtime.blob_store
    real_put = store.put
    written: list[str] = []

    def put(key: str, data: bytes, content_type: str = "image/jpeg") -> None:
        if key.startswith("renditions/1080/"):
            raise BlobStoreUnavailable("injected: rendition write failed")
        real_put(key, data, content_type)
        written.append(key)

    monkeypatch.setattr(store, "put", put)

    response = post_image(account.client, encode(halves((1600, 900), RED, BLUE), "JPEG"))

    assert response.status_code == 503
    # Original, thumbnail and the 640 rendition were stored, then removed again.
    assert [key.split("/")[0] for key in written] == [written[0], "thumbnails", "renditions"]
    nothing_written()


def test_busy_decoding_slots_answer_503_after_the_wait(
    account: Account,
    api_stack: ApiStack,
    nothing_written: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decoding = ConcurrencyLimit(1, wait_timeout_seconds=0.2, name="test-decode")
    monkeypatch.setattr(api_stack.functions["uploads"].runtime, "image_decoding", decoding)
    started, release = threading.Event(), threading.Event()

    def another_upload_decoding() -> None:
        started.set()
        release.wait()

    holder = threading.Thread(target=decoding.run, args=(another_upload_decoding,))
    holder.start()
    started.wait()
    try:
        response = post_image(account.client, photo_jpeg())
    finally:
        release.set()
        holder.join()
    assert response.status_code == 503
    assert response.json() == {"message": "Service unavailable"}
    nothing_written()
    assert post_image(account.client, photo_jpeg()).status_code == 201  # free again


# --- readiness (docs/api.md §17) -----------------------------------------------------------


def test_uploads_is_ready_with_database_cache_and_bucket(api_stack: ApiStack) -> None:
    assert direct(api_stack, "uploads").get("/ready").status_code == 204
    metrics = direct(api_stack, "uploads").get("/metrics").get_data(as_text=True)
    assert 'phasma_dependency_up{dependency="blob_store"} 1.0' in metrics


def test_uploads_is_not_ready_without_the_blob_store(
    api_database: tuple[str, str], dependencies: DependencyUrls
) -> None:
    settings = build_settings(api_database[1], dependencies, s3_endpoint=dead_s3_endpoint())
    function = get_function("uploads")
    runtime = Runtime(function, settings)
    try:
        response = Client(HttpFunction(function, runtime).wsgi_app).get("/ready")
    finally:
        runtime.close()
    assert response.status_code == 503
    assert response.json == {"message": "Service unavailable"}
