"""PostgreSQL search at scale: blended search and typeahead latencies (issue 5, item 6).

    .venv/bin/python -m benchmarks.search [--users 10000] [--posts 100000] [--rounds 3]

It starts its own embedded stack in a temporary directory and the `users`,
`sessions` and `search` functions in their own functions-framework processes (as
`./taskw up` does, rate limiter on with buckets too large to refuse), seeds
`--users` accounts and `--posts` posts with bulk SQL (descriptions of 4-12 words
drawn with a skew from a 150-word vocabulary, so a few words are very common,
and 0-3 of ~1,000 hashtags each), then times, request by request on one
keep-alive connection, a fixed set of varied queries: common and rare words,
one-letter and partial prefixes, two words, `#tag` filters, `@user`, typos and
misses. It prints p50 and p95 per route over all rounds (round 0 only warms up),
each p50 against `GET /search/recent` (same function and session, one small read)
measured in the same run, and the load average, since the machines are shared.
Targets: `/search?type=all` p95 < 50 ms, typeahead p95 < 15 ms.
"""

from __future__ import annotations

import argparse
import http.client
import os
import sys
import time
from urllib.parse import urlencode

from benchmarks.harness import embedded_stack, launch_functions, sign_in, timed_get
from phasma.db.connect import connect

VIEWER = {
    "name": "Bench Viewer",
    "username": "bench_viewer",
    "email": "viewer@example.com",
    "password": "benchmark password",
}
VOCABULARY = (
    "sunset beach mountain river city street coffee morning night light shadow dog cat bird "
    "flower tree forest lake ocean wave sand rock cloud rain snow winter summer spring autumn "
    "friend family food pizza pasta bread garden market bridge tower train station road travel "
    "holiday weekend party music concert dance art painting photo portrait colour blue green "
    "red yellow golden silver black white happy quiet calm wild old new little big bright dark "
    "warm cold early late walk run ride climb swim cook bake read write paint sing smile laugh "
    "dream home kitchen window door roof wall table chair book story game team match goal win "
    "score field park square museum gallery church castle village harbour boat ship island "
    "valley hill desert canyon glacier volcano storm thunder fog mist star moon planet sky horizon"
)
FIRST_NAMES = (
    "alice bob carol dave erin frank grace heidi ivan judy karl lena mallory nina oscar peggy "
    "quinn rupert sybil trent ursula victor wendy xena yann zoe anna ben chloe daniel emma felix "
    "hannah isaac julia kevin laura max nora oliver paula rosa sam tina umar vera will yusuf"
)
LAST_NAMES = (
    "smith jones taylor brown williams wilson johnson davies robinson wright thompson evans "
    "walker white roberts green hall wood jackson clarke patel khan lewis james phillips martin "
    "garcia muller rossi novak"
)

# One statement each, run in order; :users and :posts are the sizes.
SEED = (
    """
    CREATE TEMP TABLE words AS SELECT
        string_to_array(:vocabulary, ' ') AS vocabulary,
        string_to_array(:first_names, ' ') AS first_names,
        string_to_array(:last_names, ' ') AS last_names
    """,
    """
    INSERT INTO users (name, username, email, password_hash, created)
    SELECT initcap(first_names[1 + n % cardinality(first_names)]) || ' '
           || initcap(last_names[1 + (n / 7) % cardinality(last_names)]),
           first_names[1 + n % cardinality(first_names)] || '_'
           || last_names[1 + (n / 7) % cardinality(last_names)] || n,
           'bench' || n || '@example.com', 'not a hash', now() - make_interval(mins => n)
    FROM generate_series(1, CAST(:users AS int)) AS n, words
    """,
    # ~1,000 tags: every word, and word pairs.
    """
    INSERT INTO hashtags (name)
    SELECT DISTINCT CASE WHEN n <= cardinality(vocabulary) THEN vocabulary[n]
           ELSE vocabulary[1 + n % cardinality(vocabulary)]
                || vocabulary[1 + (n * 31 / 7) % cardinality(vocabulary)] END
    FROM generate_series(1, 2500) AS n, words
    ON CONFLICT DO NOTHING
    """,
    "ANALYZE users",
    "ANALYZE hashtags",
    # The skew (random()^2) makes the first words of the vocabulary common.
    """
    INSERT INTO posts (user_id, filename, description, created)
    SELECT (SELECT min(id) FROM users) + (n * 7919) % CAST(:users AS int),
           md5('post' || n), words_of.text, now() - make_interval(secs => n * 30)
    FROM generate_series(1, CAST(:posts AS int)) AS n, words
    CROSS JOIN LATERAL (
        SELECT string_agg(
            vocabulary[
                1 + CAST(floor(power(random(), 2) * cardinality(vocabulary)) AS int) + 0 * w
            ],
            ' '
        ) AS text
        FROM generate_series(1, 4 + n % 9) AS w
    ) AS words_of
    """,
    "ANALYZE posts",
    """
    INSERT INTO post_hashtags (post_id, hashtag_id)
    SELECT DISTINCT posts.id,
           (SELECT min(id) FROM hashtags)
           + CAST(floor(power(random(), 3) * (SELECT count(*) FROM hashtags)) AS int) + 0 * k
    FROM posts CROSS JOIN LATERAL generate_series(1, posts.id % 4) AS k
    ON CONFLICT DO NOTHING
    """,
    "ANALYZE post_hashtags",
    """
    UPDATE hashtags SET post_count = counted.count
    FROM (SELECT hashtag_id, count(*) FROM post_hashtags GROUP BY hashtag_id) AS counted
    WHERE counted.hashtag_id = hashtags.id
    """,
    """
    UPDATE posts SET description = posts.description || ' #' || tagged.tags
    FROM (
        SELECT post_hashtags.post_id, string_agg(hashtags.name, ' #') AS tags
        FROM post_hashtags JOIN hashtags ON hashtags.id = post_hashtags.hashtag_id
        GROUP BY post_hashtags.post_id
    ) AS tagged
    WHERE tagged.post_id = posts.id
    """,
    """
    UPDATE users SET post_count = counted.count
    FROM (SELECT user_id, count(*) FROM posts GROUP BY user_id) AS counted
    WHERE counted.user_id = users.id
    """,
)

# Varied queries: very common, mid and rare words, prefixes, two words, tags, users,
# typos and misses.
BLENDED_QUERIES = (
    "sunset",
    "s",
    "moun",
    "horizon",
    "volcano glacier",
    "sunset beach",
    "coffee mor",
    "#sunset",
    "#winrain",
    "#horizon",
    "@alice",
    "bob smith",
    "anna",
    "mountian",
    "zzzz",
    "castle harbour isl",
)
USER_QUERIES = ("a", "al", "alice", "alice_sm", "bob smith", "@nora", "judi", "zz", "ol", "patel")
HASHTAG_QUERIES = ("s", "su", "sunset", "#beach", "moon", "winr", "mountian", "zz", "b", "#c")
BASELINE = "GET /search/recent"


def seed(owner_url: str, users: int, posts: int) -> None:
    connection = connect(owner_url, timeout=None)
    try:
        for statement in SEED:
            connection.run(
                statement,
                **{
                    name: value
                    for name, value in {
                        "vocabulary": VOCABULARY,
                        "first_names": FIRST_NAMES,
                        "last_names": LAST_NAMES,
                        "users": users,
                        "posts": posts,
                    }.items()
                    if f":{name}" in statement
                },
            )
        connection.run("VACUUM ANALYZE")
    finally:
        connection.close()


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def measure(port: int, cookie: str, rounds: int) -> dict[str, list[float]]:
    """Latencies (ms) per route over `rounds` rounds of every query, after a warm-up round."""
    routes = {
        "GET /search?type=all": [
            "/search?" + urlencode({"q": query, "type": "all"}) for query in BLENDED_QUERIES
        ],
        "GET /users/search": ["/users/search?" + urlencode({"q": query}) for query in USER_QUERIES],
        "GET /hashtags/search": [
            "/hashtags/search?" + urlencode({"q": query}) for query in HASHTAG_QUERIES
        ],
        # The baseline: the same function, pipeline and session, one small indexed read.
        BASELINE: ["/search/recent"] * 10,
    }
    headers = {"Cookie": cookie, "X-Forwarded-For": "198.51.100.7"}
    samples: dict[str, list[float]] = {route: [] for route in routes}
    for round_number in range(rounds + 1):
        for route, paths in routes.items():
            # A connection per block: gunicorn drops keep-alive connections idle for 2 s.
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            timings = [timed_get(connection, path, headers) for path in paths]
            connection.close()
            if round_number > 0:  # round 0 warms plans, pools and prepared statements
                samples[route].extend(timings)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.search")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()

    with embedded_stack("search") as stack:
        stack.environment.pop("MEILI_URL", None)  # the PostgreSQL backend is what is measured
        started = time.perf_counter()
        seed(stack.urls.database_url, arguments.users, arguments.posts)
        seconds = time.perf_counter() - started
        print(f"  seeded {arguments.users} users and {arguments.posts} posts in {seconds:.1f} s")
        running = launch_functions(
            ("users", "sessions", "search"), stack.environment, stack.log_dir
        )
        try:
            cookie = sign_in(running["users"].port, running["sessions"].port, VIEWER)
            load_before = os.getloadavg()[0]
            samples = measure(running["search"].port, cookie, arguments.rounds)
        finally:
            for process in running.values():
                process.stop()
    print(
        f"\n{arguments.users} users, {arguments.posts} posts; sequential requests, "
        f"{arguments.rounds} rounds of every query"
    )
    targets = {
        "GET /search?type=all": 50.0,
        "GET /users/search": 15.0,
        "GET /hashtags/search": 15.0,
    }
    print(f"  load average (1 min) before and after: {load_before:.1f}, {os.getloadavg()[0]:.1f}")
    baseline = percentile(samples[BASELINE], 0.5)
    for route, values in samples.items():
        p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
        line = f"  {route:<22} n={len(values):<4} p50 {p50:6.2f} ms   p95 {p95:6.2f} ms"
        if route in targets:
            verdict = "ok" if p95 < targets[route] else "MISSED"
            line += f"   p50 = {p50 / baseline:3.1f}x baseline"
            line += f"   p95 < {targets[route]:.0f} ms: {verdict}"
        print(line)


if __name__ == "__main__":
    sys.exit(main())
