"""Deleting a big account (issue 17, item 4): the account-remover's wall time and batches.

    .venv/bin/python -m benchmarks.account_deletion [--posts 1000] [--followers 5000]
        [--likes-given 5000] [--likes-received 5000] [--no-feed]

It starts its own embedded stack in a temporary directory and the `users`,
`sessions` and `account-remover` functions in their own functions-framework
processes (as `./taskw up` does). One account, the leaver, is registered through
the API; the rest is seeded with set-based SQL as the database owner:

- `--followers` accounts, each following the leaver (its `follower_count` set) and
  each with one post of its own;
- `--posts` posts of the leaver, five hashtags shared among them, and for every
  post a small real JPEG under every key it may occupy (original, thumbnail and each
  rendition: all of them, not a subset), written to the bucket before the clock
  starts;
- `--likes-received` likes of the followers on the leaver's posts (they go with the
  posts, by cascade) and `--likes-given` likes of the leaver on the followers' posts
  (each one counted down on a post that stays): 10,000 likes by default, half each;
- unless `--no-feed`, every follower's feed holding every post of the leaver, as
  the fan-out leaves it for an author under the celebrity threshold (5,000,000 rows
  by default: they go with the posts, by cascade).

Then `DELETE /users/me` with the password, and the `phasma.user.deleted` CloudEvent
from the outbox POSTed to the `account-remover` as the KafkaSource would: the clock
runs from that POST to its `204`, which the function answers once the user row is
gone (the real worker code, batch by batch). The batches are read from the
function's own log line ("removed in N batches"). Target: < 30 s.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from PIL import Image

from benchmarks.events import Sql
from benchmarks.harness import call, embedded_stack, launch_functions
from phasma.blobs import BlobStore, image_keys
from phasma.config import Settings
from phasma.events.cloudevents import OutboxRow, to_cloudevent, to_http

TARGET_SECONDS = 30.0
TAGS = ("bench_dusk", "bench_sea", "bench_city", "bench_snow", "bench_film")
LEAVER = {
    "name": "Bench Leaver",
    "username": "bench_leaver",
    "email": "leaver@example.com",
    "password": "benchmark password",
}


def small_jpeg() -> bytes:
    """A few hundred bytes of real JPEG: what is timed is the delete, not the transfer."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (90, 140, 200)).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def seed(sql: Sql, arguments: argparse.Namespace) -> int:
    """Everything around the leaver, set-based; returns its internal id."""
    leaver_id = int(sql.value("SELECT id FROM users WHERE username = :u", u=LEAVER["username"]))
    sql.rows(
        """
        INSERT INTO users (name, username, email, password_hash, post_count)
        SELECT 'Follower ' || n, 'bfollower_' || n, 'bfollower_' || n || '@example.com', 'x', 1
        FROM generate_series(1, CAST(:n AS int)) AS n
        """,
        n=arguments.followers,
    )
    sql.rows(
        """
        INSERT INTO follows (follower_id, followee_id, created)
        SELECT id, :leaver, now() - id * interval '1 second' FROM users
        WHERE username LIKE 'bfollower\\_%'
        """,
        leaver=leaver_id,
    )
    sql.rows(
        "UPDATE users SET follower_count = :n, post_count = :posts WHERE id = :leaver",
        n=arguments.followers,
        posts=arguments.posts,
        leaver=leaver_id,
    )
    # The followers' own posts, which the leaver's likes land on.
    sql.rows(
        """
        INSERT INTO posts (user_id, filename, description)
        SELECT id, md5('follower-' || id), 'a follower''s photo' FROM users
        WHERE username LIKE 'bfollower\\_%'
        """
    )
    sql.rows(
        """
        INSERT INTO posts (user_id, filename, description, created)
        SELECT :leaver, md5('leaver-' || n),
               'photo ' || n || ' #' || (CAST(:tags AS text[]))[n % 5 + 1],
               now() - n * interval '1 hour'
        FROM generate_series(1, CAST(:n AS int)) AS n
        """,
        leaver=leaver_id,
        n=arguments.posts,
        tags=list(TAGS),
    )
    sql.rows("INSERT INTO hashtags (name) SELECT unnest(CAST(:tags AS text[]))", tags=list(TAGS))
    sql.rows(
        """
        INSERT INTO post_hashtags (post_id, hashtag_id)
        SELECT posts.id, hashtags.id FROM posts
        JOIN hashtags ON posts.description LIKE '%#' || hashtags.name
        WHERE posts.user_id = :leaver
        """,
        leaver=leaver_id,
    )
    sql.rows(
        """
        UPDATE hashtags SET post_count = counted.n
        FROM (SELECT hashtag_id, count(*) AS n FROM post_hashtags GROUP BY hashtag_id) AS counted
        WHERE hashtags.id = counted.hashtag_id
        """
    )
    # Received: follower k likes the leaver's post k mod posts.
    sql.rows(
        """
        WITH fans AS (
            SELECT id, row_number() OVER (ORDER BY id) AS k FROM users
            WHERE username LIKE 'bfollower\\_%'
        ), mine AS (
            SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM posts
            WHERE user_id = :leaver
        )
        INSERT INTO likes (post_id, user_id)
        SELECT mine.id, fans.id FROM generate_series(1, CAST(:n AS int)) AS i
        JOIN fans ON fans.k = (i - 1) % :followers + 1
        JOIN mine ON mine.k = (i - 1) % :posts
        ON CONFLICT DO NOTHING
        """,
        leaver=leaver_id,
        n=arguments.likes_received,
        followers=arguments.followers,
        posts=arguments.posts,
    )
    # Given: the leaver likes the newest `likes_given` posts of others.
    sql.rows(
        """
        INSERT INTO likes (post_id, user_id)
        SELECT id, :leaver FROM posts WHERE user_id <> :leaver ORDER BY id DESC LIMIT :n
        """,
        leaver=leaver_id,
        n=arguments.likes_given,
    )
    sql.rows(
        """
        UPDATE posts SET like_count = counted.n
        FROM (SELECT post_id, count(*) AS n FROM likes GROUP BY post_id) AS counted
        WHERE posts.id = counted.post_id
        """
    )
    if arguments.feed:
        sql.rows(
            """
            INSERT INTO feed (user_id, post_id, created)
            SELECT follows.follower_id, posts.id, posts.created
            FROM follows JOIN posts ON posts.user_id = follows.followee_id
            WHERE follows.followee_id = :leaver
            """,
            leaver=leaver_id,
        )
    for table in ("users", "follows", "posts", "likes", "feed", "post_hashtags", "hashtags"):
        sql.rows(f"ANALYZE {table}")
    return leaver_id


def put_blobs(store: BlobStore, filenames: list[str]) -> int:
    """Every key of every post, written concurrently; returns how many."""
    data = small_jpeg()
    keys = [key for filename in filenames for key in image_keys(filename)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda key: store.put(key, data), keys))
    return len(keys)


def remaining_keys(store: BlobStore, filenames: list[str]) -> int:
    keys = [key for filename in filenames for key in image_keys(filename)]
    with ThreadPoolExecutor(16) as pool:
        found = list(pool.map(lambda key: store.open(key), keys))
    for blob in found:
        if blob is not None:
            blob.close()
    return sum(blob is not None for blob in found)


def deleted_event(sql: Sql) -> OutboxRow:
    row = sql.rows(
        """
        SELECT id, topic, type, source, subject, partition_key, payload, created FROM outbox
        WHERE type = 'phasma.user.deleted' ORDER BY id DESC LIMIT 1
        """
    )[0]
    payload = row[6] if isinstance(row[6], dict) else json.loads(row[6])
    return OutboxRow(row[0], row[1], row[2], row[3], row[4], row[5], payload, row[7])


def deliver(port: int, row: OutboxRow) -> tuple[int, float]:
    """POST the event as the KafkaSource does; (status, seconds until the answer)."""
    headers, body = to_http(to_cloudevent(row))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    connection.request("POST", "/", body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    elapsed = time.perf_counter() - started
    connection.close()
    return response.status, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.account_deletion")
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--followers", type=int, default=5000)
    parser.add_argument("--likes-given", type=int, default=5000)
    parser.add_argument("--likes-received", type=int, default=5000)
    parser.add_argument("--no-feed", dest="feed", action="store_false")
    arguments = parser.parse_args()

    with embedded_stack("account-deletion") as stack:
        running = launch_functions(
            ("users", "sessions", "account-remover"), stack.environment, stack.log_dir
        )
        try:
            ports = {name: process.port for name, process in running.items()}
            assert call(ports["users"], "POST", "/users", LEAVER)[0] == 201
            login = {"email": LEAVER["email"], "password": LEAVER["password"]}
            status, cookie = call(ports["sessions"], "POST", "/sessions", login)
            assert status == 201, status
            sql = Sql(stack.urls.database_url)
            started = time.perf_counter()
            leaver_id = seed(sql, arguments)
            filenames = [
                row[0]
                for row in sql.rows("SELECT filename FROM posts WHERE user_id = :u", u=leaver_id)
            ]
            environment = stack.environment
            store = BlobStore(
                Settings(
                    _env_file=None,
                    s3_endpoint=environment["S3_ENDPOINT"],
                    s3_bucket=environment["S3_BUCKET"],
                    s3_region=environment["S3_REGION"],
                    s3_access_key=environment["S3_ACCESS_KEY"],
                    s3_secret_key=environment["S3_SECRET_KEY"],
                )
            )
            blobs = put_blobs(store, filenames)
            counts = sql.rows(
                """
                SELECT (SELECT count(*) FROM posts WHERE user_id = :u),
                       (SELECT count(*) FROM likes WHERE user_id = :u),
                       (SELECT count(*) FROM likes JOIN posts ON posts.id = likes.post_id
                        WHERE posts.user_id = :u),
                       (SELECT count(*) FROM follows WHERE followee_id = :u),
                       (SELECT count(*) FROM feed JOIN posts ON posts.id = feed.post_id
                        WHERE posts.user_id = :u)
                """,
                u=leaver_id,
            )[0]
            print(
                f"\nseeded in {time.perf_counter() - started:.1f} s: {counts[0]:,} posts, "
                f"{counts[1]:,} likes given, {counts[2]:,} likes received, {counts[3]:,} "
                f"followers, {counts[4]:,} feed rows of its posts, {blobs:,} blobs"
            )

            status, _ = call(
                ports["users"], "DELETE", "/users/me", {"password": LEAVER["password"]}, cookie
            )
            assert status == 202, status
            status, seconds = deliver(ports["account-remover"], deleted_event(sql))
            assert status == 204, status
            log = (stack.log_dir / "account-remover.log").read_text(errors="replace")
            batches = re.findall(r"removed in (\d+) batches", log)
            left = sql.rows(
                """
                SELECT (SELECT count(*) FROM users WHERE id = :u),
                       (SELECT count(*) FROM likes WHERE user_id = :u),
                       (SELECT count(*) FROM follows WHERE followee_id = :u),
                       (SELECT count(*) FROM posts WHERE user_id = :u),
                       (SELECT coalesce(sum(like_count), 0) FROM posts),
                       (SELECT coalesce(sum(post_count), 0) FROM hashtags)
                """,
                u=leaver_id,
            )[0]
            assert left[:4] == [0, 0, 0, 0], left
            assert left[4] == 0 and left[5] == 0, f"counters left over: {left[4:]}"
            assert remaining_keys(store, filenames) == 0
            print(
                f"removal: {seconds:.2f} s wall, {batches[-1] if batches else '?'} batches "
                f"(target < {TARGET_SECONDS:.0f} s); nothing left: rows, blobs and counters"
            )
        finally:
            for process in running.values():
                process.stop()


if __name__ == "__main__":
    sys.exit(main())
