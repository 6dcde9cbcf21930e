"""Upload benchmark: the bounded multipart read, and what the decode bound does to memory.

    .venv/bin/python -m benchmarks.uploads [--runs 50] [--uploads 8]

1. The multipart read (`phasma.uploads.multipart.read_image_part`) of a ~860 KB photo
   body: p50 over `--runs` calls. (`python -m benchmarks.reencode` times the re-encode.)
2. `--uploads` 25-megapixel uploads arriving at once, each on its own request thread,
   doing what the `uploads` handler does before storage: read the body, then
   `process_upload` under a bound. Three ways, each in a fresh Python process whose RSS
   is sampled every 2 ms (wall time, uploads/s, peak RSS growth):
   - `pool`: what ships: `phasma.concurrency.ConcurrencyLimit` with the default
     `UPLOAD_MAX_CONCURRENCY` of 2 (decodes on 2 dedicated threads);
   - `semaphore`: the same bound of 2, but decoding on the request threads;
   - `none`: no bound at all.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psutil
from PIL import Image
from werkzeug import Request
from werkzeug.test import EnvironBuilder

from benchmarks.reencode import photo_like_jpeg
from phasma.concurrency import ConcurrencyLimit
from phasma.config import Limits, Settings
from phasma.images import process_upload
from phasma.uploads.multipart import read_image_part

BOUNDARY = "----phasma-benchmark"
# 5000 x 5000 (25 MP, half the pixel limit): as a JPEG it decodes at 1/2 scale (draft).
LARGEST_SIDE = 5000
WAYS = ("pool", "semaphore", "none")


def multipart_body(image: bytes) -> bytes:
    head = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="image"; filename="photo.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    return head + image + f"\r\n--{BOUNDARY}--\r\n".encode()


def request_for(body: bytes) -> Request:
    environ = EnvironBuilder(method="POST").get_environ()
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ["CONTENT_TYPE"] = f"multipart/form-data; boundary={BOUNDARY}"
    return Request(environ)


def largest_upload() -> bytes:
    """A 25 MP JPEG of about a megabyte (smooth content compresses that well)."""
    gradient = Image.linear_gradient("L").resize((LARGEST_SIDE, LARGEST_SIDE))
    picture = Image.merge("RGB", [gradient, gradient.rotate(90), gradient.rotate(180)])
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=60)
    data = buffer.getvalue()
    assert len(data) <= Limits.UPLOAD_MAX_BYTES, len(data)
    return data


def bench_read(runs: int) -> None:
    body = multipart_body(photo_like_jpeg())
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        read_image_part(request_for(body))
        timings.append((time.perf_counter() - began) * 1000)
    print(f"multipart read of a {len(body):,} byte body: p50 {statistics.median(timings):.2f} ms")


def burst(uploads: int, way: str) -> dict[str, float]:
    """Run in a child process: `uploads` concurrent uploads, bounded the `way` named."""
    body = multipart_body(largest_upload())
    bound = Settings(_env_file=None).upload_max_concurrency
    pool = ConcurrencyLimit(bound, wait_timeout_seconds=600, name="decode")
    semaphore = threading.BoundedSemaphore(bound)
    me = psutil.Process()
    baseline = me.memory_info().rss
    peak = baseline
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, me.memory_info().rss)
            time.sleep(0.002)

    def one_upload() -> None:
        data = read_image_part(request_for(body))
        if way == "pool":
            pool.run(lambda: process_upload(data))
        elif way == "semaphore":
            with semaphore:
                process_upload(data)
        else:
            process_upload(data)

    sampler = threading.Thread(target=sample)
    sampler.start()
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=uploads) as requests:
        for future in [requests.submit(one_upload) for _ in range(uploads)]:
            future.result()
    seconds = time.perf_counter() - began
    done.set()
    sampler.join()
    return {"seconds": seconds, "baseline": baseline, "peak": peak}


def bench_burst(uploads: int) -> None:
    print(
        f"{uploads} concurrent {LARGEST_SIDE}x{LARGEST_SIDE} uploads, each way in a fresh process:"
    )
    print("| bound | wall s | uploads/s | RSS before | peak | growth |")
    print("| --- | --- | --- | --- | --- | --- |")
    mebibyte = 1024 * 1024
    for way in WAYS:
        output = subprocess.run(
            [sys.executable, "-m", "benchmarks.uploads", "--child", str(uploads), way],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        figures = json.loads(output)
        baseline, peak = figures["baseline"] / mebibyte, figures["peak"] / mebibyte
        print(
            f"| {way} | {figures['seconds']:.2f} | {uploads / figures['seconds']:.2f} "
            f"| {baseline:.0f} MiB | {peak:.0f} MiB | +{peak - baseline:.0f} MiB |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.uploads")
    parser.add_argument("--runs", type=int, default=50, help="timed multipart reads")
    parser.add_argument("--uploads", type=int, default=8, help="uploads in the burst")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        uploads, way = arguments.child
        print(json.dumps(burst(int(uploads), way)))
        return
    bench_read(arguments.runs)
    bench_burst(arguments.uploads)


if __name__ == "__main__":
    main()
