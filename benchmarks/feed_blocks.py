"""Blocks and mutes in the feed (issue 18): `GET /feed` with and without them.

    python -m benchmarks.feed_blocks [--rounds 5] [--requests 200]

On the feed benchmark's data (`benchmarks.events.seed_feed`: 1,000,000 feed rows, three
followed celebrities, own posts) two viewers have the same 2,000 materialised rows, the
same celebrities and as many own posts; the second has also blocked 1,000 accounts and
muted 1,000 others. Most are accounts without posts (990 of each), as most blocks are
of strangers; 10 of each are authors with posts in the viewer's feed, so the read has
rows to skip too. Ten more of the feed's authors are private, followed by both viewers,
and both follow a tag on 1,000 posts. The other accounts follow the authors of their
feed rows and each mute five authors and block five readers, so the tables the rule
probes have a realistic shape. Both read page 1 and page 100 (cursors followed as a
reader would) on their own keep-alive connection, interleaved request by request in the
same rounds, so the machine's noise falls on both. Target: the blocking viewer's p99
within 1.5 x the plain viewer's. The plans of the blocking viewer's first page and of
`GET /posts/{id}` are printed (EXPLAIN ANALYZE, BUFFERS, generic plans) after the figures.
"""

from __future__ import annotations

import argparse
import sys
import time

from benchmarks.events import (
    FEED_AUTHORS,
    FEED_READERS,
    KeptAlive,
    Sql,
    account,
    compare_feeds,
    seed_feed,
)
from benchmarks.harness import embedded_stack, launch_functions
from phasma.config import Limits
from phasma.feed.queries import FEED_FIRST_PAGE
from phasma.posts.queries import BY_PUBLIC_ID

FUNCTIONS = ("users", "sessions", "feed")
BLOCKS = 1_000
MUTES = 1_000
FEED_AUTHORS_HIDDEN = 10  # of each: authors with posts in the viewer's feed


def seed_background(sql: Sql) -> None:
    """What the other accounts did, so the tables the rule probes have a realistic size and
    shape for the planner: each reader follows the authors of its feed rows, mutes five
    authors and blocks five readers."""
    started = time.perf_counter()
    sql.rows(
        """
        INSERT INTO follows (follower_id, followee_id)
        SELECT DISTINCT f.user_id, p.user_id FROM feed f JOIN posts p ON p.id = f.post_id
        JOIN users r ON r.id = f.user_id WHERE r.username LIKE 'breader\\_%'
        ON CONFLICT DO NOTHING
        """
    )
    for table, columns, kind in (
        ("mutes", "muter_id, muted_id", "author"),
        ("blocks", "blocker_id, blocked_id", "reader"),
    ):
        sql.rows(
            f"""
            INSERT INTO {table} ({columns})
            SELECT r.id, other.id
            FROM users r CROSS JOIN generate_series(1, 5) AS n
            JOIN users other ON other.username = 'b' || :kind || '_'
                || (1 + (r.id * 7919 + n * 104729) % CAST(:count AS bigint))
            WHERE r.username LIKE 'breader\\_%' AND other.id <> r.id
            ON CONFLICT DO NOTHING
            """,
            kind=kind,
            count=FEED_AUTHORS if kind == "author" else FEED_READERS,
        )
    # One tag on 1,000 seeded posts, followed by both viewers: the feed's tag branch works.
    sql.rows("INSERT INTO hashtags (name, post_count) VALUES ('benchblocks', 1000)")
    sql.rows(
        """
        INSERT INTO post_hashtags (post_id, hashtag_id, created)
        SELECT p.id, h.id, p.created FROM hashtags h, (
            SELECT p.id, p.created FROM posts p JOIN users a ON a.id = p.user_id
            WHERE a.username LIKE 'bauthor\\_%' ORDER BY md5(p.id::text) LIMIT 1000
        ) AS p
        WHERE h.name = 'benchblocks'
        """
    )
    counts = {
        table: int(sql.value(f"SELECT count(*) FROM {table}"))
        for table in ("follows", "blocks", "mutes")
    }
    print(
        "  seeded "
        + ", ".join(f"{count:,} {table}" for table, count in counts.items())
        + f" of other accounts in {time.perf_counter() - started:.0f} s"
    )


def seed_blocks(sql: Sql, plain_id: int, blocking_id: int) -> None:
    """The blocking viewer: the plain viewer's feed, follows and own posts, plus its blocks
    and mutes; both viewers follow the tag."""
    started = time.perf_counter()
    sql.rows(
        """
        INSERT INTO hashtag_follows (user_id, hashtag_id)
        SELECT viewer, h.id FROM hashtags h, unnest(CAST(:viewers AS bigint[])) AS viewer
        WHERE h.name = 'benchblocks'
        """,
        viewers=[plain_id, blocking_id],
    )
    sql.rows(
        """
        INSERT INTO feed (user_id, post_id, created)
        SELECT :blocking, post_id, created FROM feed WHERE user_id = :plain
        """,
        plain=plain_id,
        blocking=blocking_id,
    )
    sql.rows(
        """
        INSERT INTO follows (follower_id, followee_id)
        SELECT :blocking, followee_id FROM follows WHERE follower_id = :plain
        """,
        plain=plain_id,
        blocking=blocking_id,
    )
    sql.rows(
        """
        INSERT INTO posts (user_id, filename, created)
        SELECT :blocking, md5('blocking-own' || n), now() - make_interval(days => n)
        FROM generate_series(1, 20) AS n
        """,
        blocking=blocking_id,
    )
    # The feed's authors, most rows first, leaving out the followed celebrities: the
    # first ten are blocked, the next ten muted, the next ten turn private and are
    # followed by both viewers (so the private check runs, and finds the follow).
    feed_authors = [
        author_id
        for [author_id] in sql.rows(
            """
            SELECT p.user_id FROM feed f JOIN posts p ON p.id = f.post_id
            JOIN users a ON a.id = p.user_id
            WHERE f.user_id = :plain AND NOT a.is_celebrity
            GROUP BY p.user_id ORDER BY count(*) DESC, p.user_id LIMIT :authors
            """,
            plain=plain_id,
            authors=3 * FEED_AUTHORS_HIDDEN,
        )
    ]
    readers = [
        reader_id
        for [reader_id] in sql.rows(
            """
            SELECT id FROM users WHERE username LIKE 'breader\\_%' ORDER BY id LIMIT :count
            """,
            count=BLOCKS + MUTES - 2 * FEED_AUTHORS_HIDDEN,
        )
    ]
    blocked = feed_authors[:FEED_AUTHORS_HIDDEN] + readers[: BLOCKS - FEED_AUTHORS_HIDDEN]
    muted = (
        feed_authors[FEED_AUTHORS_HIDDEN : 2 * FEED_AUTHORS_HIDDEN]
        + readers[BLOCKS - FEED_AUTHORS_HIDDEN :]
    )
    private = feed_authors[2 * FEED_AUTHORS_HIDDEN :]
    sql.rows("UPDATE users SET private = true WHERE id = ANY(CAST(:ids AS bigint[]))", ids=private)
    sql.rows(
        """
        INSERT INTO follows (follower_id, followee_id)
        SELECT viewer, author FROM unnest(CAST(:viewers AS bigint[])) AS viewer,
            unnest(CAST(:ids AS bigint[])) AS author
        ON CONFLICT DO NOTHING
        """,
        viewers=[plain_id, blocking_id],
        ids=private,
    )
    sql.rows(
        """
        INSERT INTO blocks (blocker_id, blocked_id, created)
        SELECT :blocking, id, now() - make_interval(secs => n)
        FROM unnest(CAST(:ids AS bigint[])) WITH ORDINALITY AS blocked(id, n)
        """,
        blocking=blocking_id,
        ids=blocked,
    )
    sql.rows(
        """
        INSERT INTO mutes (muter_id, muted_id, created)
        SELECT :blocking, id, now() - make_interval(secs => n)
        FROM unnest(CAST(:ids AS bigint[])) WITH ORDINALITY AS muted(id, n)
        """,
        blocking=blocking_id,
        ids=muted,
    )
    for table in (
        "feed",
        "posts",
        "follows",
        "blocks",
        "mutes",
        "users",
        "post_hashtags",
        "hashtag_follows",
    ):
        sql.rows(f"VACUUM ANALYZE {table}")
    hidden = int(
        sql.value(
            """
            SELECT count(*) FROM feed f JOIN posts p ON p.id = f.post_id
            WHERE f.user_id = :blocking AND (
                p.user_id IN (SELECT blocked_id FROM blocks WHERE blocker_id = :blocking)
                OR p.user_id IN (SELECT muted_id FROM mutes WHERE muter_id = :blocking))
            """,
            blocking=blocking_id,
        )
    )
    print(
        f"  seeded {len(blocked):,} blocks and {len(muted):,} mutes ({hidden:,} of the "
        f"viewer's feed rows now hidden) in {time.perf_counter() - started:.0f} s"
    )


def explain(sql: Sql, viewer_id: int) -> None:
    """The plans of the blocking viewer's first page and of one post page, generic as the
    prepared statements run them."""
    sql.rows("SET plan_cache_mode = force_generic_plan")
    plans = {
        "the blocking viewer's page 1": sql.rows(
            "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + FEED_FIRST_PAGE,
            viewer_id=viewer_id,
            live_days=Limits.FEED_LIVE_WINDOW_DAYS,
            followed_tags=Limits.FEED_FOLLOWED_HASHTAGS_MERGED,
            limit=11,
        ),
        "GET /posts/{id} for the blocking viewer": sql.rows(
            "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + BY_PUBLIC_ID,
            public_id=sql.value(
                "SELECT p.public_id FROM feed f JOIN posts p ON p.id = f.post_id "
                "WHERE f.user_id = :viewer ORDER BY f.created DESC LIMIT 1",
                viewer=viewer_id,
            ),
            viewer_id=viewer_id,
        ),
    }
    for title, rows in plans.items():
        print(f"\nplan of {title} (EXPLAIN ANALYZE, BUFFERS):")
        for [line] in rows:
            print(f"  {line}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.feed_blocks")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200, help="per page per round")
    arguments = parser.parse_args()

    with embedded_stack("feed-blocks") as stack:
        running = launch_functions(FUNCTIONS, stack.environment, stack.log_dir)
        ports = {name: process.port for name, process in running.items()}
        sql = Sql(stack.urls.database_url)
        try:
            print(f"\nfeed of a viewer with {BLOCKS:,} blocks and {MUTES:,} mutes")
            plain_cookie, plain_id = account(ports, sql, "bench_viewer")
            blocking_cookie, blocking_id = account(ports, sql, "bench_blocking")
            seed_feed(sql, plain_id)
            seed_background(sql)
            seed_blocks(sql, plain_id, blocking_id)
            compare_feeds(
                KeptAlive(ports["feed"], plain_cookie),
                KeptAlive(ports["feed"], blocking_cookie),
                "blocks",
                arguments.rounds,
                arguments.requests,
            )
            explain(sql, blocking_id)
        finally:
            sql.connection.close()
            for process in running.values():
                process.stop()


if __name__ == "__main__":
    sys.exit(main())
