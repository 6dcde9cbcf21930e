"""Make the responsive renditions of posts stored before they existed (operations.md).

    ./taskw media:backfill-renditions            # = python -m phasma.media.backfill
    ./taskw media:backfill-renditions -- --max-posts 1000

Walks the posts whose `renditions` is NULL (made before migration 0013) in id order,
`--batch` rows per query. For each it reads the original from the bucket, renders every
rendition narrower than it (`phasma.images.render_renditions`, as an upload does),
writes them, then records their widths on the row (and the image's width and height
where those were never recorded). A post whose original is gone gets no renditions.

- Idempotent: a processed post has a non-NULL `renditions` and is never read again, so
  a second run finds nothing to do; the row is written only while still NULL.
- Resumable: an interrupted run (or one stopped by `--max-posts`) leaves the rest NULL
  and the next run continues there; a rendition written before the interruption is
  simply written again.
- Bounded memory: one image at a time (an original is at most 1 MB, its decoded frame
  at most 25 MP), and one batch of ids and filenames.

Runs as the application login (`DATABASE_URL` of `phasma_user`) with the functions'
S3 settings. A progress bar goes to stderr, the counts to stdout. Avatars are not
walked: they are shown at thumbnail size only.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from functools import partial
from typing import Any, TextIO

from phasma.blobs import BlobStore, rendition_key
from phasma.config import Settings, get_settings
from phasma.db.pool import Database, Executor
from phasma.images import ImageRejected, decode_image, render_renditions

BATCH: int = 50
BAR_WIDTH = 30


@dataclass
class Progress:
    """What a run did: posts recorded, rendition objects written, originals not found."""

    posts: int = 0
    renditions: int = 0
    missing: int = 0
    undecodable: int = 0


def count_missing(executor: Executor) -> int:
    return int(executor.fetch_value("SELECT count(*) FROM posts WHERE renditions IS NULL"))


def missing_after(executor: Executor, after_id: int, limit: int) -> list[dict[str, Any]]:
    """The next `limit` posts without recorded renditions, by id (the partial index's order)."""
    return executor.fetch_all(
        """
        SELECT id, filename FROM posts
        WHERE renditions IS NULL AND id > :after_id
        ORDER BY id
        LIMIT :limit
        """,
        after_id=after_id,
        limit=limit,
    )


def record(executor: Executor, post_id: int, widths: list[int], size: tuple[int, int]) -> None:
    """Store the widths written; the pixel size only where it was never recorded."""
    width, height = size
    executor.execute(
        """
        UPDATE posts SET renditions = CAST(:widths AS int[]),
                         width = COALESCE(width, :width), height = COALESCE(height, :height)
        WHERE id = :post_id AND renditions IS NULL
        """,
        widths=widths,
        width=width or None,
        height=height or None,
        post_id=post_id,
    )


def progress_bar(done: int, total: int) -> str:
    """`renditions [###########...................]     36/100`."""
    filled = BAR_WIDTH if total == 0 else BAR_WIDTH * min(done, total) // total
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    return f"renditions [{bar}] {done:>6,}/{total:,}"


def render_post(
    store: BlobStore, filename: str, progress: Progress
) -> tuple[list[int], tuple[int, int]]:
    """Write the renditions of one post's original; (widths written, original size)."""
    blob = store.open(filename)
    if blob is None:
        progress.missing += 1
        return [], (0, 0)
    data = b"".join(blob.chunks())
    try:
        picture = decode_image(data)
    except ImageRejected:
        # Stored by an older pipeline and not decodable now: the original keeps serving.
        progress.undecodable += 1
        return [], (0, 0)
    renditions = render_renditions(picture, len(data))
    for width, encoded in renditions.items():
        store.put(rendition_key(filename, width), encoded)
    progress.renditions += len(renditions)
    return list(renditions), picture.size


def backfill(
    database: Database,
    store: BlobStore,
    out: TextIO,
    *,
    batch: int = BATCH,
    max_posts: int | None = None,
) -> Progress:
    """Process the posts missing renditions, at most `max_posts` of them (None: all)."""
    progress = Progress()
    total = database.read(count_missing)
    if max_posts is not None:
        total = min(total, max_posts)
    after_id = 0
    out.write(progress_bar(0, total))
    while max_posts is None or progress.posts < max_posts:
        wanted = batch if max_posts is None else min(batch, max_posts - progress.posts)
        rows = database.read(partial(missing_after, after_id=after_id, limit=wanted))
        for row in rows:
            widths, size = render_post(store, row["filename"], progress)
            with database.transaction() as executor:
                record(executor, row["id"], widths, size)
            progress.posts += 1
            out.write("\r" + progress_bar(progress.posts, max(total, progress.posts)))
            out.flush()
        if len(rows) < wanted:
            break
        after_id = rows[-1]["id"]
    out.write("\n")
    return progress


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="./taskw media:backfill-renditions --")
    parser.add_argument("--batch", type=int, default=BATCH, help="posts per query")
    parser.add_argument("--max-posts", type=int, help="stop after this many (resume later)")
    arguments = parser.parse_args(argv)
    if arguments.batch < 1 or (arguments.max_posts is not None and arguments.max_posts < 1):
        parser.error("--batch and --max-posts must be positive")
    settings = settings or get_settings()
    if not settings.database_url:
        print("media:backfill-renditions: DATABASE_URL is not set", file=sys.stderr)
        return 2
    database = Database(settings, application_name="media-backfill")
    try:
        progress = backfill(
            database,
            BlobStore(settings),
            sys.stderr,
            batch=arguments.batch,
            max_posts=arguments.max_posts,
        )
    except Exception as error:  # one line saying why, not a stack
        print(f"\nmedia:backfill-renditions failed: {error}", file=sys.stderr)
        return 1
    finally:
        database.close()
    print(
        f"posts: {progress.posts}, renditions written: {progress.renditions}, "
        f"originals missing: {progress.missing}, undecodable: {progress.undecodable}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
