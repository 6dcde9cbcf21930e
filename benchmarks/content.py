"""Content reads at scale (issue 3, item 7), printed as medians and ratios.

    .venv/bin/python -m benchmarks.content [--posts 100000] [--seconds 5] [--rounds 3]
                                           [--threads 8] [--requests 200]

It starts its own embedded stack in a temporary directory and the `users`,
`sessions` and `posts` functions in their own functions-framework processes (as
`./taskw up` does) next to the hello-world function, registers one author and
gives them `--posts` posts with one `INSERT ... SELECT generate_series` (one post
per second of the past). Then:

- post page: requests/s of `GET /posts/{id}`, anonymous and signed in, against
  hello-world in the same run; target: >= 50 % of hello-world;
- profile grid: `GET /users/{username}/posts` walked by cursor to page 100 once
  (at the default limit of 10 and at the maximum of 50), then page 1 and page 100
  timed alternately, one request at a time on a kept-alive connection, `--requests`
  pairs per round; target: page 100 <= 1.5 x page 1.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import time
from urllib.parse import quote

from benchmarks.harness import (
    HELLO_SOURCE,
    Target,
    compare_with_hello,
    embedded_stack,
    launch_functions,
    sign_in,
    timed_get,
)
from phasma.db.connect import connect
from phasma.devstack.processes import launch, wait_until_healthy

AUTHOR = {
    "name": "Bench Author",
    "username": "bench_author",
    "email": "author@example.com",
    "password": "benchmark password",
}
PAGE_SIZES = (10, 50)
DEEP_PAGE = 100


def seed(owner_url: str, posts: int) -> str:
    """`posts` posts by the author, one per second of the past; the newest one's publicId."""
    # Seeding takes seconds on a busy machine: more than the default socket timeout.
    connection = connect(owner_url, timeout=600)
    try:
        connection.run(
            """
            INSERT INTO posts (user_id, filename, description, like_count, comment_count,
                               created, width, height, blurhash)
            SELECT u.id, md5('bench post ' || n), 'post number ' || n || ' #bench',
                   n % 50, n % 7, now() - n * interval '1 second',
                   1600, 1200, 'LEHV6nWB2yk8pyo0adR*.7kCMdnj'
            FROM users u, generate_series(1, CAST(:posts AS int)) AS n
            WHERE u.username = :username
            """,
            posts=posts,
            username=AUTHOR["username"],
        )
        connection.run(
            "UPDATE users SET post_count = CAST(:posts AS int) WHERE username = :username",
            posts=posts,
            username=AUTHOR["username"],
        )
        connection.run("ANALYZE posts")
        [[public_id]] = connection.run(
            "SELECT public_id::text FROM posts ORDER BY created DESC, id DESC LIMIT 1"
        )
    finally:
        connection.close()
    return str(public_id)


def cursor_of_page(port: int, path: str, limit: int, page: int) -> str:
    """Follow `nextCursor` from page 1; the cursor that opens page `page`."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    cursor = ""
    try:
        for _ in range(page - 1):
            query = f"?limit={limit}" + (f"&cursor={quote(cursor)}" if cursor else "")
            connection.request("GET", path + query)
            response = connection.getresponse()
            body = json.loads(response.read())
            if response.status != 200 or not body["nextCursor"]:
                raise RuntimeError(f"GET {path}{query}: {response.status}, list ended early")
            cursor = body["nextCursor"]
    finally:
        connection.close()
    return cursor


def bench_post_page(
    ports: dict[str, int], public_id: str, cookie: str, arguments: argparse.Namespace
) -> None:
    targets: dict[str, Target] = {
        "hello": (ports["hello"], "/", {}),
        "GET /users/{username}": (ports["users"], f"/users/{AUTHOR['username']}", {}),
        "GET /posts/{id}": (ports["posts"], f"/posts/{public_id}", {}),
        "GET /posts/{id} signed in": (ports["posts"], f"/posts/{public_id}", {"Cookie": cookie}),
    }
    compare_with_hello(targets, arguments.seconds, arguments.threads, arguments.rounds)
    print("  target: GET /posts/{id} >= 50 % of hello")


def bench_profile_pages(port: int, arguments: argparse.Namespace) -> None:
    path = f"/users/{AUTHOR['username']}/posts"
    pairs: dict[int, tuple[str, str]] = {}
    for limit in PAGE_SIZES:
        deep = cursor_of_page(port, path, limit, DEEP_PAGE)
        pairs[limit] = (f"{path}?limit={limit}", f"{path}?limit={limit}&cursor={quote(deep)}")
    first: dict[int, list[float]] = {limit: [] for limit in PAGE_SIZES}
    deep_page: dict[int, list[float]] = {limit: [] for limit in PAGE_SIZES}
    for round_number in range(arguments.rounds + 1):
        for limit, (first_path, deep_path) in pairs.items():
            # Page 1 and page 100 alternate request by request, so the noise of a shared
            # machine falls on both alike; a fresh connection per block, because gunicorn
            # drops keep-alive connections idle for 2 s.
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for _ in range(arguments.requests):
                first_ms = timed_get(connection, first_path, {})
                deep_ms = timed_get(connection, deep_path, {})
                if round_number > 0:  # round 0 warms plans, pools and prepared statements
                    first[limit].append(first_ms)
                    deep_page[limit].append(deep_ms)
            connection.close()
    total = arguments.rounds * arguments.requests
    print(f"\nprofile grid of {arguments.posts} posts, {total} alternating request pairs (medians)")
    print(f"  {'limit':<8}{'page 1 ms':>12}{f'page {DEEP_PAGE} ms':>14}{'ratio':>9}")
    for limit in PAGE_SIZES:
        first_median = statistics.median(first[limit])
        deep_median = statistics.median(deep_page[limit])
        print(
            f"  {limit:<8}{first_median:>12.2f}{deep_median:>14.2f}"
            f"{deep_median / first_median:>8.2f}x"
        )
    print(f"  target: page {DEEP_PAGE} <= 1.5 x page 1")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.content")
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--requests", type=int, default=200)
    arguments = parser.parse_args()
    if arguments.posts < DEEP_PAGE * max(PAGE_SIZES):
        parser.error(f"--posts must be at least {DEEP_PAGE * max(PAGE_SIZES)} for page 100")

    with embedded_stack("content") as stack:
        running = launch_functions(("users", "sessions", "posts"), stack.environment, stack.log_dir)
        running["hello"] = launch("hello", HELLO_SOURCE, stack.environment, stack.log_dir)
        try:
            wait_until_healthy(running["hello"])
            ports = {name: process.port for name, process in running.items()}
            cookie = sign_in(ports["users"], ports["sessions"], AUTHOR)
            started = time.perf_counter()
            public_id = seed(stack.urls.database_url, arguments.posts)
            seconds = time.perf_counter() - started
            print(f"  seeded {arguments.posts} posts in {seconds:.1f} s", flush=True)
            bench_post_page(ports, public_id, cookie, arguments)
            bench_profile_pages(ports["posts"], arguments)
        finally:
            for process in running.values():
                process.stop()


if __name__ == "__main__":
    sys.exit(main())
