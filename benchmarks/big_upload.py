"""Real-size photos (issue 19): a 20 MB, 48 MP JPEG through the real `uploads` function.

    .venv/bin/python -m benchmarks.big_upload [--runs 10]

It starts its own embedded stack and the `users`, `sessions` and `uploads` functions,
each in its own functions-framework process (as `./taskw up` does), signs one member
in and posts the same photo `--runs` times to `POST /uploads` over HTTP: an 8000 x 6000
JPEG of seeded noise at quality 85, ~19.6 MB (noise keeps a JPEG that heavy, as a
camera's original is). Each upload is stored at 2048 x 1536 within 1 MB, with its
thumbnail and 640/1080 renditions.

- time: p50 and max of the whole request, client side (send, multipart read, decode,
  re-encode, blob writes, the row);
- memory: the `uploads` process tree's resident set (gunicorn's master and its worker,
  via psutil), sampled every 2 ms. Growth is its peak during the uploads minus its
  resident set after one small warm-up upload (so imports, pools and the S3 client are
  counted in the baseline, not in the growth).

Targets: p50 under 1.5 s, RSS growth under 300 MB. The member's pending-upload cap
(20) bounds `--runs` to 19.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import threading
import time

import psutil

from benchmarks.harness import embedded_stack, launch_functions, report_progress, sign_in
from tests.api.sample_images import noisy_jpeg, photo_jpeg

BOUNDARY = "----phasma-big-upload"
PHOTO_SIZE = (8000, 6000)
MEMBER = {
    "name": "Bench Camera",
    "username": "bench_camera",
    "email": "camera@example.com",
    "password": "benchmark password",
}
MEBIBYTE = 1024 * 1024


def multipart_body(image: bytes) -> bytes:
    head = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="image"; filename="IMG_0001.JPG"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    return head + image + f"\r\n--{BOUNDARY}--\r\n".encode()


def upload(port: int, cookie: str, body: bytes) -> float:
    """One `POST /uploads`; its latency in seconds (anything but 201 is an error)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Cookie": cookie,
        "X-Forwarded-For": "198.51.100.7",
    }
    started = time.perf_counter()
    connection.request("POST", "/uploads", body=body, headers=headers)
    response = connection.getresponse()
    answer = response.read()
    elapsed = time.perf_counter() - started
    connection.close()
    if response.status != 201:
        raise RuntimeError(f"POST /uploads: {response.status} {answer[:200]!r}")
    return elapsed


def tree_rss(process: psutil.Process) -> int:
    """Resident memory of a process and its children (gunicorn serves from a child)."""
    return sum(p.memory_info().rss for p in (process, *process.children(recursive=True)))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.big_upload")
    parser.add_argument("--runs", type=int, default=10, choices=range(1, 20), metavar="1-19")
    arguments = parser.parse_args()
    photo = noisy_jpeg(PHOTO_SIZE, 76, 85)
    body = multipart_body(photo)
    report_progress(f"photo: {PHOTO_SIZE[0]}x{PHOTO_SIZE[1]}, {len(photo):,} bytes")
    with embedded_stack("big-upload") as stack:
        running = launch_functions(
            ("users", "sessions", "uploads"), stack.environment, stack.log_dir
        )
        try:
            cookie = sign_in(running["users"].port, running["sessions"].port, MEMBER)
            port = running["uploads"].port
            upload(port, cookie, multipart_body(photo_jpeg()))  # warm-up: a small photo
            server = psutil.Process(running["uploads"].process.pid)
            baseline = tree_rss(server)
            peak = baseline
            done = threading.Event()

            def sample() -> None:
                nonlocal peak
                while not done.is_set():
                    peak = max(peak, tree_rss(server))
                    time.sleep(0.002)

            sampler = threading.Thread(target=sample)
            sampler.start()
            timings = []
            try:
                for run in range(arguments.runs):
                    timings.append(upload(port, cookie, body))
                    report_progress(f"upload {run + 1}/{arguments.runs}: {timings[-1]:.2f} s")
            finally:
                done.set()
                sampler.join()
        finally:
            for process in running.values():
                process.stop()
    p50 = statistics.median(timings)
    growth = (peak - baseline) / MEBIBYTE
    print(f"\n{arguments.runs} uploads of a {len(photo):,} byte, 48 MP JPEG (one at a time)")
    print(f"  p50 {p50:.2f} s, max {max(timings):.2f} s   (target p50 < 1.5 s)")
    print(
        f"  uploads process RSS: {baseline / MEBIBYTE:.0f} MiB after warm-up, "
        f"peak {peak / MEBIBYTE:.0f} MiB, growth +{growth:.0f} MiB   (target < 300 MB)"
    )


if __name__ == "__main__":
    main()
