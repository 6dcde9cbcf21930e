"""Event benchmarks (issue 4, item 8): notifications, fan-out and the feed read, as figures.

    python -m benchmarks.events                    # everything
    python -m benchmarks.events --only likes       # one part: likes, fanout, feed

It starts its own embedded stack in a temporary directory and runs the functions
involved (users, sessions, posts, likes, feed, notifications and both workers)
each in its own functions-framework process with the local eventing between the
broker and the workers, as `./taskw up` does. Requests go straight to each
function's port, as the frontend calls them in the cluster.

- likes:  a like, then `GET /notifications` polled until its notification is the
          newest: p50/p95 of like-sent → notification-visible (target p95 < 300 ms);
- fanout: a post by an author with 10,000 followers: the fan-out handler alone, and
          `POST /posts` until all 10,001 feed rows exist (target < 1 s);
- feed:   `GET /feed` with 1,000,000 feed rows: p50/p99 of page 1 and page 100
          (targets p99 < 25 ms, page 100 ≤ 1.5 x page 1).
"""

from __future__ import annotations

import argparse
import http.client
import json
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import pg8000.native

from benchmarks.harness import embedded_stack, report_progress
from benchmarks.run import call
from phasma.config import Settings
from phasma.db.connect import connect
from phasma.devstack.eventing import dispatcher_for
from phasma.devstack.processes import start_all
from phasma.events.catalogue import PostCreated
from phasma.events.worker import ReceivedEvent
from phasma.feed import worker as feed_worker
from phasma.registry import get_function
from phasma.runtime import Runtime

FUNCTIONS = (
    "users",
    "sessions",
    "posts",
    "likes",
    "feed",
    "notifications",
    "feed-worker",
    "notifications-worker",
)
FOLLOWERS = 10_000
FEED_ROWS = 1_000_000
FEED_READERS = 10_000
FEED_AUTHORS = 1_000
POSTS_PER_AUTHOR = 100
VIEWER_ROWS = 2_000
BLURHASH = "LEHV6nWB2yk8pyo0adR*.7kCMdnj"


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(int(len(ordered) * fraction), len(ordered) - 1)]


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:6.1f} ms"


class Sql:
    """The benchmark's own SQL, as the database owner."""

    def __init__(self, url: str) -> None:
        # Bulk statements run for many seconds: no socket timeout.
        self.connection: pg8000.native.Connection = connect(url, timeout=None)

    def rows(self, statement: str, **params: Any) -> list[list[Any]]:
        return self.connection.run(statement, **params) or []

    def value(self, statement: str, **params: Any) -> Any:
        rows = self.rows(statement, **params)
        return rows[0][0] if rows else None


class KeptAlive:
    """GETs on one keep-alive connection with a session cookie."""

    def __init__(self, port: int, cookie: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Cookie": cookie, "X-Forwarded-For": "198.51.100.7"}

    def get(self, path: str) -> tuple[int, dict[str, Any]]:
        self.connection.request("GET", path, headers=self.headers)
        response = self.connection.getresponse()
        body = response.read()
        return response.status, json.loads(body) if body else {}


def account(ports: dict[str, int], sql: Sql, name: str) -> tuple[str, int]:
    """Register and log in `name`: (session cookie, internal user id)."""
    identity = {
        "name": name,
        "username": name,
        "email": f"{name}@example.com",
        "password": "benchmark password",
    }
    assert call(ports["users"], "POST", "/users", identity)[0] == 201
    login = {"email": identity["email"], "password": identity["password"]}
    status, cookie = call(ports["sessions"], "POST", "/sessions", login)
    assert status == 201
    return cookie, sql.value("SELECT id FROM users WHERE username = :u", u=name)


def bench_likes(ports: dict[str, int], sql: Sql, likes: int) -> None:
    print(f"\nlikes: like → notification visible via GET /notifications ({likes} likes)")
    author_cookie, author_id = account(ports, sql, "bench_author")
    fan_cookie, _ = account(ports, sql, "bench_fan")
    warm_up = 3
    posts = [
        str(row[0])
        for row in sql.rows(
            """
            INSERT INTO posts (user_id, filename)
            SELECT :author, md5(random()::text || n) FROM generate_series(1, :count) AS n
            RETURNING public_id
            """,
            author=author_id,
            count=likes + warm_up,
        )
    ]
    reader = KeptAlive(ports["notifications"], author_cookie)
    latencies: list[float] = []
    requests: list[float] = []
    for index, post in enumerate(posts):
        started = time.perf_counter()
        assert call(ports["likes"], "POST", f"/posts/{post}/likes", cookie=fan_cookie)[0] == 204
        liked = time.perf_counter() - started
        while True:
            status, body = reader.get("/notifications?limit=1")
            assert status == 200
            if body["items"] and body["items"][0]["entityId"] == post:
                break
            if time.perf_counter() - started > 30:
                raise RuntimeError(f"no notification for {post} after 30 s")
            time.sleep(0.005)
        if index >= warm_up:
            latencies.append(time.perf_counter() - started)
            requests.append(liked)
    print(
        f"  like sent → notification listed: p50 {milliseconds(statistics.median(latencies))}  "
        f"p95 {milliseconds(percentile(latencies, 0.95))}  "
        f"max {milliseconds(max(latencies))}   (target p95 < 300 ms)"
    )
    print(
        f"  of which the like request (commit + inline publish): "
        f"p50 {milliseconds(statistics.median(requests))}  "
        f"p95 {milliseconds(percentile(requests, 0.95))}"
    )


def add_followers(sql: Sql, author_id: int, count: int) -> None:
    tag = secrets.token_hex(3)
    sql.rows(
        """
        WITH created AS (
            INSERT INTO users (name, username, email, password_hash)
            SELECT 'Follower', 'f' || :tag || '_' || n, 'f' || :tag || '_' || n || '@example.com',
                   'not-a-hash'
            FROM generate_series(1, :count) AS n
            RETURNING id
        )
        INSERT INTO follows (follower_id, followee_id, created)
        SELECT id, :author, now() - make_interval(secs => id) FROM created
        """,
        tag=tag,
        count=count,
        author=author_id,
    )
    sql.rows(
        "UPDATE users SET follower_count = :count WHERE id = :author", count=count, author=author_id
    )
    sql.rows("ANALYZE follows")


def feed_rows_of(sql: Sql, post_public_id: str) -> int:
    return int(
        sql.value(
            """
            SELECT count(*) FROM feed
            WHERE post_id = (SELECT id FROM posts WHERE public_id = CAST(:post AS uuid))
            """,
            post=post_public_id,
        )
    )


def bench_fanout(ports: dict[str, int], sql: Sql, environment: dict[str, str], rounds: int) -> None:
    print(f"\nfanout: a post by an author with {FOLLOWERS:,} followers ({rounds} rounds)")
    cookie, author_id = account(ports, sql, "bench_popular")
    add_followers(sql, author_id, FOLLOWERS)
    author_public_id = sql.value("SELECT public_id FROM users WHERE id = :id", id=author_id)
    function = get_function("feed-worker")
    runtime = Runtime(function, Settings(_env_file=None, database_url=environment["DATABASE_URL"]))
    handler_seconds: list[float] = []
    try:
        for round_number in range(rounds):
            post_id, public_id, created = sql.rows(
                """
                INSERT INTO posts (user_id, filename) VALUES (:author, md5(random()::text))
                RETURNING id, public_id, created
                """,
                author=author_id,
            )[0]
            payload = PostCreated(
                post_id=public_id,
                author_id=author_public_id,
                username="bench_popular",
                description=None,
                hashtags=[],
                filename="0" * 32,
                filenames=["0" * 32],
                created=created,
                author_is_celebrity=False,
            )
            event = ReceivedEvent(
                id=f"bench-{round_number}",
                type="phasma.post.created",
                source="/phasma/posts",
                subject=str(public_id),
                time=created,
                data=payload.model_dump(mode="json", by_alias=True),
            )
            started = time.perf_counter()
            assert feed_worker.handle(event, runtime) == "applied"
            handler_seconds.append(time.perf_counter() - started)
            assert sql.value("SELECT count(*) FROM feed WHERE post_id = :p", p=post_id) == (
                FOLLOWERS + 1
            )
    finally:
        runtime.close()
    print(
        f"  fan-out handler alone:        median {milliseconds(statistics.median(handler_seconds))}"
        f"  max {milliseconds(max(handler_seconds))}   (target < 1 s)"
    )

    end_to_end: list[float] = []
    for _ in range(rounds):
        filename = secrets.token_hex(16)
        sql.rows(
            """
            INSERT INTO uploads (filename, user_id, width, height, blurhash)
            VALUES (:filename, :author, 12, 8, :blurhash)
            """,
            filename=filename,
            author=author_id,
            blurhash=BLURHASH,
        )
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", ports["posts"], timeout=30)
        connection.request(
            "POST",
            "/posts",
            body=json.dumps({"filename": filename}),
            headers={"Content-Type": "application/json", "Cookie": cookie},
        )
        response = connection.getresponse()
        assert response.status == 201, response.read()
        public_id = json.loads(response.read())["publicId"]
        connection.close()
        while feed_rows_of(sql, public_id) < FOLLOWERS + 1:
            if time.perf_counter() - started > 30:
                raise RuntimeError("the fan-out did not finish within 30 s")
            time.sleep(0.01)
        end_to_end.append(time.perf_counter() - started)
    print(
        f"  POST /posts → 10,001 rows:    median {milliseconds(statistics.median(end_to_end))}"
        f"  max {milliseconds(max(end_to_end))}"
    )


def seed_feed(sql: Sql, viewer_id: int) -> int:
    """About 1,000,000 feed rows: 10,000 readers x 100 posts, plus the viewer's own feed."""
    started = time.perf_counter()
    # Bulk load only: the rows are valid by construction, so foreign keys go unchecked.
    sql.rows("SET session_replication_role = replica")
    for kind, count in (("author", FEED_AUTHORS), ("reader", FEED_READERS)):
        sql.rows(
            """
            INSERT INTO users (name, username, email, password_hash)
            SELECT 'Bench ' || n, 'b' || :kind || '_' || n,
                   'b' || :kind || '_' || n || '@example.com', 'not-a-hash'
            FROM generate_series(1, :count) AS n
            """,
            kind=kind,
            count=count,
        )
    sql.rows(
        """
        INSERT INTO posts (user_id, filename, created)
        SELECT a.id, md5(a.id || '-' || n), now() - random() * interval '80 days'
        FROM users a, generate_series(1, :per_author) AS n
        WHERE a.username LIKE 'bauthor\\_%'
        """,
        per_author=POSTS_PER_AUTHOR,
    )
    first_post, last_post = sql.rows(
        """
        SELECT min(p.id), max(p.id) FROM posts p JOIN users a ON a.id = p.user_id
        WHERE a.username LIKE 'bauthor\\_%'
        """
    )[0]
    post_count = FEED_AUTHORS * POSTS_PER_AUTHOR
    assert last_post - first_post + 1 == post_count  # one statement: consecutive ids
    per_reader = FEED_ROWS // FEED_READERS
    # Reader r gets posts first + (r*7919 + j*1009) mod count, j = 1..100: distinct per reader.
    sql.rows(
        """
        INSERT INTO feed (user_id, post_id, created)
        SELECT r.id, p.id, p.created
        FROM users r CROSS JOIN generate_series(1, :per_reader) AS j
        JOIN posts p ON p.id = :first + (r.id * 7919 + j * 1009) % :posts
        WHERE r.username LIKE 'breader\\_%'
        ON CONFLICT DO NOTHING
        """,
        per_reader=per_reader,
        first=first_post,
        posts=post_count,
    )
    sql.rows(
        """
        INSERT INTO feed (user_id, post_id, created)
        SELECT :viewer, p.id, p.created FROM posts p
        WHERE p.id BETWEEN :first AND :first + :rows - 1
        """,
        viewer=viewer_id,
        first=first_post,
        rows=VIEWER_ROWS,
    )
    # The live branch has work too: three followed celebrities and the viewer's own posts.
    sql.rows(
        """
        WITH celebrities AS (
            UPDATE users SET is_celebrity = true
            WHERE username IN ('bauthor_1', 'bauthor_2', 'bauthor_3')
            RETURNING id
        )
        INSERT INTO follows (follower_id, followee_id) SELECT :viewer, id FROM celebrities
        """,
        viewer=viewer_id,
    )
    sql.rows(
        """
        INSERT INTO posts (user_id, filename, created)
        SELECT :viewer, md5('own' || n), now() - make_interval(days => n)
        FROM generate_series(1, 20) AS n
        """,
        viewer=viewer_id,
    )
    sql.rows("SET session_replication_role = origin")
    sql.rows("VACUUM ANALYZE feed")
    sql.rows("VACUUM ANALYZE posts")
    sql.rows("VACUUM ANALYZE users")
    sql.rows("VACUUM ANALYZE follows")
    total = int(sql.value("SELECT count(*) FROM feed"))
    print(f"  seeded {total:,} feed rows in {time.perf_counter() - started:.0f} s")
    return total


def bench_feed(ports: dict[str, int], sql: Sql, rounds: int, requests_per_round: int) -> None:
    print(f"\nfeed: GET /feed with {FEED_ROWS:,} feed rows")
    cookie, viewer_id = account(ports, sql, "bench_viewer")
    seed_feed(sql, viewer_id)
    client = KeptAlive(ports["feed"], cookie)
    cursor: str | None = None
    for _ in range(99):  # follow the cursors to page 100, as a reader would
        status, body = client.get("/feed" + (f"?cursor={cursor}" if cursor else ""))
        assert status == 200 and len(body["items"]) == 10
        cursor = body["nextCursor"]
    assert cursor is not None
    # The baseline: the same pipeline (session, rate limit, one indexed count) in the
    # same run, so the machine's own noise shows beside the feed's figures.
    baseline = KeptAlive(ports["notifications"], cookie)
    targets = {
        "page 1": (client, "/feed"),
        "page 100": (client, f"/feed?cursor={cursor}"),
        "baseline": (baseline, "/notifications/unread-count"),
    }
    for target, path in targets.values():  # warm the plans and connections
        for _ in range(50):
            assert target.get(path)[0] == 200
    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in targets}
    for _ in range(rounds):
        samples: dict[str, list[float]] = {name: [] for name in targets}
        for _ in range(requests_per_round):
            for name, (target, path) in targets.items():
                started = time.perf_counter()
                status, _ = target.get(path)
                samples[name].append(time.perf_counter() - started)
                assert status == 200
        for name, values in samples.items():
            figures[name].append((statistics.median(values), percentile(values, 0.99)))
    medians: dict[str, tuple[float, float]] = {}
    for name, per_round in figures.items():
        p50 = statistics.median(value[0] for value in per_round)
        p99 = statistics.median(value[1] for value in per_round)
        medians[name] = (p50, p99)
        label = "GET /notifications/unread-count" if name == "baseline" else f"GET /feed {name}"
        print(f"  {label:<32} p50 {milliseconds(p50)}  p99 {milliseconds(p99)}")
    ratio_p50 = medians["page 100"][0] / medians["page 1"][0]
    ratio_p99 = medians["page 100"][1] / medians["page 1"][1]
    print(
        f"  page 100 / page 1: p50 x {ratio_p50:.2f}, p99 x {ratio_p99:.2f}   (target <= 1.5; "
        f"p99 target < 25 ms)   [{rounds} rounds x {requests_per_round} requests each, "
        "medians of rounds]"
    )


def page_100_cursor(client: KeptAlive) -> str:
    """Follow the feed's cursors to page 100, as a reader would."""
    cursor: str | None = None
    for _ in range(99):
        status, body = client.get("/feed" + (f"?cursor={cursor}" if cursor else ""))
        assert status == 200 and len(body["items"]) == 10
        cursor = body["nextCursor"]
    assert cursor is not None
    return cursor


def compare_feeds(
    plain: KeptAlive, other: KeptAlive, label: str, rounds: int, requests: int
) -> None:
    """`GET /feed` pages 1 and 100 of two viewers, interleaved request by request in the
    same rounds so the machine's noise falls on both; prints the medians of the rounds'
    p50 and p99 and `label` / plain ratios (target p99 <= 1.5)."""
    targets = {
        "plain page 1": (plain, "/feed"),
        f"{label} page 1": (other, "/feed"),
        "plain page 100": (plain, f"/feed?cursor={page_100_cursor(plain)}"),
        f"{label} page 100": (other, f"/feed?cursor={page_100_cursor(other)}"),
    }
    for client, path in targets.values():  # warm the plans and connections
        for _ in range(50):
            assert client.get(path)[0] == 200
    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in targets}
    for _ in range(rounds):
        samples: dict[str, list[float]] = {name: [] for name in targets}
        for _ in range(requests):
            for name, (client, path) in targets.items():
                started = time.perf_counter()
                status, _ = client.get(path)
                samples[name].append(time.perf_counter() - started)
                assert status == 200
        for name, values in samples.items():
            figures[name].append((statistics.median(values), percentile(values, 0.99)))
    medians = {
        name: (
            statistics.median(value[0] for value in per_round),
            statistics.median(value[1] for value in per_round),
        )
        for name, per_round in figures.items()
    }
    for name, (p50, p99) in medians.items():
        print(f"  GET /feed {name:<16} p50 {milliseconds(p50)}  p99 {milliseconds(p99)}")
    for page in ("page 1", "page 100"):
        ratio_p50 = medians[f"{label} {page}"][0] / medians[f"plain {page}"][0]
        ratio_p99 = medians[f"{label} {page}"][1] / medians[f"plain {page}"][1]
        print(
            f"  {label} / plain, {page}: p50 x {ratio_p50:.2f}, p99 x {ratio_p99:.2f}"
            "   (target p99 <= 1.5)"
        )
    print(f"  [{rounds} rounds x {requests} requests per target, medians of rounds]")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.events")
    parser.add_argument("--only", choices=["likes", "fanout", "feed"])
    parser.add_argument("--likes", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200, help="per page per round (feed)")
    arguments = parser.parse_args()
    wanted: Callable[[str], bool] = lambda part: arguments.only in (None, part)  # noqa: E731

    with embedded_stack("events") as stack:
        functions = tuple(get_function(name) for name in FUNCTIONS)
        running = start_all(functions, stack.environment, stack.log_dir, report_progress)
        ports = {process.name: process.port for process in running}
        dispatcher = dispatcher_for(
            stack.urls.kafka_brokers,
            functions,
            {process.name: process.url for process in running},
            report_progress,
        )
        dispatcher.start()
        sql = Sql(stack.urls.database_url)
        try:
            if not dispatcher.wait_until_joined(60):
                raise RuntimeError("the workers' consumer groups did not join")
            if wanted("likes"):
                bench_likes(ports, sql, arguments.likes)
            if wanted("fanout"):
                bench_fanout(ports, sql, stack.environment, arguments.rounds)
            if wanted("feed"):
                bench_feed(ports, sql, arguments.rounds, arguments.requests)
        finally:
            sql.connection.close()
            dispatcher.stop()
            for process in running:
                process.stop()


if __name__ == "__main__":
    sys.exit(main())
