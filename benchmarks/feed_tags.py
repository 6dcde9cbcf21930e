"""Followed hashtags in the feed (issue 19, item 4): `GET /feed` with and without them.

    python -m benchmarks.feed_tags [--rounds 5] [--requests 200]

On the feed benchmark's data (`benchmarks.events.seed_feed`: 1,000,000 feed rows, three
followed celebrities, own posts) two viewers have the same 2,000 materialised rows, the
same celebrities and as many own posts; the second also follows 50 hashtags, one of
them on every one of the 100,000 seeded posts and 49 on 200 posts each. Both read page
1 and page 100 (cursors followed as a reader would) on their own keep-alive connection,
interleaved request by request in the same rounds, so the machine's noise falls on
both. Target: the tag viewer's p99 within 1.5 x the plain viewer's. The plan of the tag
viewer's first page is printed (EXPLAIN ANALYZE, BUFFERS) after the figures.
"""

from __future__ import annotations

import argparse
import sys
import time

from benchmarks.events import KeptAlive, Sql, account, compare_feeds, seed_feed
from benchmarks.harness import embedded_stack, launch_functions
from phasma.config import Limits
from phasma.feed.queries import FEED_FIRST_PAGE

FUNCTIONS = ("users", "sessions", "feed")
FOLLOWED_TAGS = 50
BIG_TAG_POSTS = 100_000  # every post seed_feed makes
SMALL_TAG_POSTS = 200


def seed_tags(sql: Sql, plain_id: int, tagged_id: int) -> None:
    """The tag viewer: the plain viewer's feed, follows and own posts, plus 50 followed tags."""
    started = time.perf_counter()
    sql.rows(
        """
        INSERT INTO feed (user_id, post_id, created)
        SELECT :tagged, post_id, created FROM feed WHERE user_id = :plain
        """,
        plain=plain_id,
        tagged=tagged_id,
    )
    sql.rows(
        """
        INSERT INTO follows (follower_id, followee_id)
        SELECT :tagged, followee_id FROM follows WHERE follower_id = :plain
        """,
        plain=plain_id,
        tagged=tagged_id,
    )
    sql.rows(
        """
        INSERT INTO posts (user_id, filename, created)
        SELECT :tagged, md5('tagged-own' || n), now() - make_interval(days => n)
        FROM generate_series(1, 20) AS n
        """,
        tagged=tagged_id,
    )
    sql.rows(
        """
        INSERT INTO hashtags (name, post_count)
        SELECT 'benchtag' || n, CASE WHEN n = 1 THEN CAST(:big AS int) ELSE CAST(:small AS int) END
        FROM generate_series(1, :tags) AS n
        """,
        tags=FOLLOWED_TAGS,
        big=BIG_TAG_POSTS,
        small=SMALL_TAG_POSTS,
    )
    seeded = """
        SELECT p.id, p.created FROM posts p JOIN users a ON a.id = p.user_id
        WHERE a.username LIKE 'bauthor\\_%'
    """
    # Links carry their post's time, as `link_hashtags` writes them.
    sql.rows(
        f"""
        INSERT INTO post_hashtags (post_id, hashtag_id, created)
        SELECT seeded.id, h.id, seeded.created FROM ({seeded}) AS seeded, hashtags h
        WHERE h.name = 'benchtag1'
        """
    )
    sql.rows(
        f"""
        INSERT INTO post_hashtags (post_id, hashtag_id, created)
        SELECT picked.id, picked.hashtag_id, picked.created
        FROM hashtags h CROSS JOIN LATERAL (
            SELECT seeded.id, seeded.created, h.id AS hashtag_id
            FROM ({seeded}) AS seeded
            ORDER BY md5(seeded.id || h.name)
            LIMIT CAST(:small AS int)
        ) AS picked
        WHERE h.name LIKE 'benchtag%' AND h.name <> 'benchtag1'
        """,
        small=SMALL_TAG_POSTS,
    )
    sql.rows(
        """
        INSERT INTO hashtag_follows (user_id, hashtag_id)
        SELECT :tagged, id FROM hashtags WHERE name LIKE 'benchtag%'
        """,
        tagged=tagged_id,
    )
    for table in ("feed", "posts", "follows", "hashtags", "post_hashtags", "hashtag_follows"):
        sql.rows(f"VACUUM ANALYZE {table}")
    links = int(sql.value("SELECT count(*) FROM post_hashtags"))
    print(
        f"  seeded {FOLLOWED_TAGS} followed tags ({links:,} links) in "
        f"{time.perf_counter() - started:.0f} s"
    )


def explain(sql: Sql, viewer_id: int) -> None:
    """The plan of the tag viewer's first page, as the feed function runs it."""
    sql.rows("SET plan_cache_mode = force_generic_plan")
    rows = sql.rows(
        "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + FEED_FIRST_PAGE,
        viewer_id=viewer_id,
        live_days=Limits.FEED_LIVE_WINDOW_DAYS,
        followed_tags=Limits.FEED_FOLLOWED_HASHTAGS_MERGED,
        limit=11,
    )
    print("\nplan of the tag viewer's page 1 (EXPLAIN ANALYZE, BUFFERS):")
    for [line] in rows:
        print(f"  {line}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.feed_tags")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200, help="per page per round")
    arguments = parser.parse_args()

    with embedded_stack("feed-tags") as stack:
        running = launch_functions(FUNCTIONS, stack.environment, stack.log_dir)
        ports = {name: process.port for name, process in running.items()}
        sql = Sql(stack.urls.database_url)
        try:
            print(f"\nfeed with {FOLLOWED_TAGS} followed tags, one on {BIG_TAG_POSTS:,} posts")
            plain_cookie, plain_id = account(ports, sql, "bench_viewer")
            tagged_cookie, tagged_id = account(ports, sql, "bench_tagged")
            seed_feed(sql, plain_id)
            seed_tags(sql, plain_id, tagged_id)
            compare_feeds(
                KeptAlive(ports["feed"], plain_cookie),
                KeptAlive(ports["feed"], tagged_cookie),
                "tags",
                arguments.rounds,
                arguments.requests,
            )
            explain(sql, tagged_id)
        finally:
            sql.connection.close()
            for process in running.values():
                process.stop()


if __name__ == "__main__":
    sys.exit(main())
