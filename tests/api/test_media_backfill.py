"""`./taskw media:backfill-renditions` against the real PostgreSQL and S3 (issue 15)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from phasma.blobs import BlobStore, rendition_key
from phasma.db.pool import Database as Pool
from phasma.media import backfill
from tests.api.conftest import Account, ApiStack, Bucket, Database
from tests.api.sample_images import BLUE, RED, encode, halves, opened


@pytest.fixture
def pool(api_stack: ApiStack) -> Iterator[Pool]:
    created = Pool(api_stack.settings, application_name="backfill-tests")
    yield created
    created.close()


@pytest.fixture
def store(api_stack: ApiStack) -> BlobStore:
    return BlobStore(api_stack.settings)


def make_post(account: Account, size: tuple[int, int]) -> tuple[str, str]:
    """A post of a `size` photo made over HTTP: (publicId, filename)."""
    source = encode(halves(size, RED, BLUE), "JPEG", quality=90)
    upload = account.client.post("/uploads", files={"image": ("p.jpg", source, "image/jpeg")})
    assert upload.status_code == 201, upload.text
    filename = upload.json()["filename"]
    created = account.client.post("/posts", json={"filename": filename})
    assert created.status_code == 201, created.text
    return created.json()["publicId"], filename


def as_before_renditions(database: Database, bucket_keys: set[str], filenames: list[str]) -> None:
    """Make posts look as they did before migration 0013: nothing recorded, nothing stored."""
    database.rows(
        "UPDATE posts SET renditions = NULL WHERE filename = ANY(:names)", names=filenames
    )
    assert not {rendition_key(name, width) for name in filenames for width in (640, 1080)} & (
        bucket_keys
    )


def renditions_of(database: Database, filename: str) -> list[int] | None:
    return database.value("SELECT renditions FROM posts WHERE filename = :f", f=filename)


def drain(pool: Pool, store: BlobStore) -> None:
    """Process what other tests left without renditions, so counts below are this test's."""
    backfill.backfill(pool, store, io.StringIO())


def test_the_backfill_makes_the_missing_renditions_resumably_and_once(
    account: Account, database: Database, bucket: Bucket, pool: Pool, store: BlobStore
) -> None:
    wide = make_post(account, (1600, 1200))[1]
    narrow = make_post(account, (800, 600))[1]
    small = make_post(account, (500, 400))[1]
    names = [wide, narrow, small]
    # Uploads store their renditions today; remove them to stand for older posts.
    for name in names:
        for width in (640, 1080):
            store.delete(rendition_key(name, width))
    drain(pool, store)
    as_before_renditions(database, bucket.keys(), names)
    database.rows("UPDATE posts SET width = NULL, height = NULL WHERE filename = :f", f=narrow)

    # Interrupted after one post: the rest stays for the next run.
    out = io.StringIO()
    first = backfill.backfill(pool, store, out, batch=2, max_posts=1)

    assert (first.posts, first.renditions) == (1, 2)
    assert renditions_of(database, wide) == [640, 1080]
    assert [renditions_of(database, name) for name in (narrow, small)] == [None, None]
    assert out.getvalue().endswith("[" + "#" * 30 + "]      1/1\n")

    second = backfill.backfill(pool, store, io.StringIO(), batch=1)

    assert (second.posts, second.renditions, second.missing) == (2, 1, 0)
    assert renditions_of(database, narrow) == [640]
    assert renditions_of(database, small) == []  # 500 px: never enlarged
    # The narrow post's size was never recorded; the backfill read it from the original.
    assert database.rows("SELECT width, height FROM posts WHERE filename = :f", f=narrow) == [
        [800, 600]
    ]
    for name, width, size in ((wide, 640, (640, 480)), (wide, 1080, (1080, 810))):
        stored = bucket.get(rendition_key(name, width))
        assert stored is not None and opened(stored).size == size
    stored = bucket.get(rendition_key(narrow, 640))
    assert stored is not None and opened(stored).size == (640, 480)
    assert bucket.get(rendition_key(narrow, 1080)) is None
    assert bucket.get(rendition_key(small, 640)) is None

    # Idempotent: nothing is left, so nothing is read or written again.
    keys = bucket.keys()
    third = backfill.backfill(pool, store, io.StringIO())
    assert (third.posts, third.renditions) == (0, 0)
    assert bucket.keys() == keys


def test_a_post_whose_original_is_gone_is_recorded_without_renditions(
    account: Account, database: Database, bucket: Bucket, pool: Pool, store: BlobStore
) -> None:
    drain(pool, store)
    filename = make_post(account, (1200, 900))[1]
    for width in (640, 1080):
        store.delete(rendition_key(filename, width))
    store.delete(filename)
    as_before_renditions(database, bucket.keys(), [filename])

    progress = backfill.backfill(pool, store, io.StringIO())

    assert (progress.posts, progress.renditions, progress.missing) == (1, 0, 1)
    assert renditions_of(database, filename) == []  # not retried by every later run


def test_the_task_prints_its_counts(
    account: Account,
    database: Database,
    bucket: Bucket,
    api_stack: ApiStack,
    pool: Pool,
    store: BlobStore,
    capsys: pytest.CaptureFixture[str],
) -> None:
    drain(pool, store)
    filename = make_post(account, (1300, 1000))[1]
    for width in (640, 1080):
        store.delete(rendition_key(filename, width))
    as_before_renditions(database, bucket.keys(), [filename])

    assert backfill.main([], api_stack.settings) == 0

    captured = capsys.readouterr()
    assert captured.out == (
        "posts: 1, renditions written: 2, originals missing: 0, undecodable: 0\n"
    )
    assert "renditions [" in captured.err and "1/1" in captured.err
    assert renditions_of(database, filename) == [640, 1080]


@pytest.mark.parametrize("arguments", [["--batch", "0"], ["--max-posts", "-1"]])
def test_the_task_refuses_bad_arguments(
    api_stack: ApiStack, arguments: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        backfill.main(arguments, api_stack.settings)
    assert exit_info.value.code == 2
    assert "must be positive" in capsys.readouterr().err
