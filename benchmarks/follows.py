"""Follower lists and suggested users at scale, printed as medians and ratios.

    .venv/bin/python -m benchmarks.follows [--users 100000] [--requests 200] [--rounds 3]

It starts its own embedded stack in a temporary directory and the `users`,
`sessions` and `follows` functions in their own functions-framework processes (as
`./taskw up` does), then seeds `--users` accounts with plain SQL: every one of them
follows one "star" account (one follow per second of the past), and half of them
have followers or posts, so all are suggestion candidates. On one keep-alive
connection it times, request by request, interleaved over the rounds:

- `GET /users/star/followers?limit=50`: the first page and a page half-way down
  the list (cursor at row `--users / 2`); target: deep page <= 1.5 x first page;
- `GET /users/suggested` (top 5 of every candidate) against `GET /users/{username}`
  (one indexed row) in the same run.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import time

from benchmarks.harness import embedded_stack, launch_functions, sign_in
from phasma.db.connect import connect
from phasma.pagination import Cursor

VIEWER = {
    "name": "Bench Viewer",
    "username": "bench_viewer",
    "email": "viewer@example.com",
    "password": "benchmark password",
}


def seed(owner_url: str, users: int) -> None:
    """`users` followers of `star` (distinct follow times); every second one has counts."""
    connection = connect(owner_url)
    try:
        connection.run(
            """
            INSERT INTO users (name, username, email, password_hash, follower_count, post_count)
            SELECT 'Seeded ' || n, 'seeded_' || n, 'seeded_' || n || '@example.com', 'x',
                   CASE WHEN n % 2 = 0 THEN n % 997 ELSE 0 END,
                   CASE WHEN n % 2 = 0 THEN n % 101 ELSE 0 END
            FROM generate_series(1, CAST(:users AS int)) AS n
            """,
            users=users,
        )
        connection.run(
            """
            INSERT INTO users (name, username, email, password_hash, follower_count)
            VALUES ('Star', 'star', 'star@example.com', 'x', CAST(:users AS int))
            """,
            users=users,
        )
        connection.run(
            """
            INSERT INTO follows (follower_id, followee_id, created)
            SELECT u.id, star.id, now() - u.id * interval '1 second'
            FROM users u, users star
            WHERE star.username = 'star' AND u.username LIKE 'seeded\\_%'
            """
        )
        connection.run("ANALYZE users")
        connection.run("ANALYZE follows")
    finally:
        connection.close()


def deep_cursor(owner_url: str, offset: int) -> str:
    """The cursor a client holds after reading `offset` followers of `star`."""
    connection = connect(owner_url)
    try:
        created, follower_id = connection.run(
            """
            SELECT f.created, f.follower_id
            FROM follows f JOIN users star ON star.id = f.followee_id
            WHERE star.username = 'star'
            ORDER BY f.created DESC, f.follower_id DESC OFFSET CAST(:offset AS int) - 1 LIMIT 1
            """,
            offset=offset,
        )[0]
    finally:
        connection.close()
    return Cursor(created, follower_id).encode()


def timed_get(connection: http.client.HTTPConnection, path: str, cookie: str) -> float:
    started = time.perf_counter()
    connection.request("GET", path, headers={"Cookie": cookie})
    response = connection.getresponse()
    response.read()
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise RuntimeError(f"GET {path}: {response.status}")
    return elapsed * 1000


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.follows")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()

    with embedded_stack("follows") as stack:
        started = time.perf_counter()
        seed(stack.urls.database_url, arguments.users)
        seconds = time.perf_counter() - started
        print(f"  seeded {arguments.users} users and follows in {seconds:.1f} s")
        cursor = deep_cursor(stack.urls.database_url, arguments.users // 2)
        running = launch_functions(
            ("users", "sessions", "follows"), stack.environment, stack.log_dir
        )
        try:
            cookie = sign_in(running["users"].port, running["sessions"].port, VIEWER)
            measure(running["users"].port, running["follows"].port, cookie, cursor, arguments)
        finally:
            for process in running.values():
                process.stop()


def measure(
    users_port: int, follows_port: int, cookie: str, cursor: str, arguments: argparse.Namespace
) -> None:
    targets = {
        "followers, first page": (follows_port, "/users/star/followers?limit=50"),
        "followers, deep page": (follows_port, f"/users/star/followers?limit=50&cursor={cursor}"),
        "GET /users/{username}": (users_port, "/users/star"),
        "GET /users/suggested": (users_port, "/users/suggested"),
    }
    samples: dict[str, list[float]] = {name: [] for name in targets}
    for round_number in range(arguments.rounds + 1):
        for name, (port, path) in targets.items():
            # A connection per block: gunicorn drops keep-alive connections idle for 2 s.
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            timed_get(connection, path, cookie)
            timings = [timed_get(connection, path, cookie) for _ in range(arguments.requests)]
            connection.close()
            if round_number > 0:  # round 0 warms plans, pools and prepared statements
                samples[name].extend(timings)
    median = {name: statistics.median(values) for name, values in samples.items()}
    total = arguments.rounds * arguments.requests
    print(f"\n{arguments.users} followers / candidates, {total} sequential requests each (medians)")
    for name, value in median.items():
        print(f"  {name:<24}{value:>8.2f} ms")
    deep_ratio = median["followers, deep page"] / median["followers, first page"]
    suggested_ratio = median["GET /users/suggested"] / median["GET /users/{username}"]
    print(f"  deep page / first page     {deep_ratio:>6.2f}x   (target <= 1.5)")
    print(f"  suggested / one profile    {suggested_ratio:>6.2f}x")


if __name__ == "__main__":
    sys.exit(main())
