"""Upload re-encode benchmark: `process_upload` on a photo-like ~900 KB, 1600 px wide JPEG.

    .venv/bin/python -m benchmarks.reencode [--runs 30]

It builds the source in memory (smooth gradients, hard-edged shapes and fine grain, so
it compresses like a phone photo), prints its size, then times whole `process_upload`
calls (p50 / p95) and each stage on its own: decode (header check, decode, orientation,
flattening), the full re-encode, the thumbnail (resize and encode), the blurhash and
the responsive renditions (the 1080 px one resized and encoded, the 640 px one encoded
from the thumbnail, which has its size).
Target: p50 under 60 ms on one core.

A second, grainier source of the same size, saved at a lower quality, grows past
1 MB at quality 90: it times the step-down path the spec describes (docs/api.md §15.1).
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import time
from collections.abc import Callable

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from phasma.images import (
    THUMBNAIL_QUALITY,
    compute_blurhash,
    decode_image,
    encode_jpeg,
    encode_within_limit,
    process_upload,
    render_renditions,
    render_thumbnail,
)

SOURCE_SIZE = (1600, 1200)
SOURCE_TARGET_BYTES = 900_000
# Grain (noise sigma, blur radius): fine and correlated like a phone sensor's, or coarse.
TYPICAL_GRAIN = (14.0, 0.6)
COARSE_GRAIN = (24.0, 0.0)


def photo_like_jpeg(grain: tuple[float, float] = TYPICAL_GRAIN, seed: int = 7) -> bytes:
    """A 1600 x 1200 JPEG of about 900 KB whose content compresses the way a photo does."""
    picture = _photo_like_pixels(random.Random(seed), grain)
    # The highest source quality that stays under the target, as a camera app's export would.
    for quality in range(98, 60, -1):
        encoded = _jpeg(picture, quality)
        if len(encoded) <= SOURCE_TARGET_BYTES:
            return encoded
    raise RuntimeError("could not build a source under the target size")


def _photo_like_pixels(rng: random.Random, grain: tuple[float, float]) -> Image.Image:
    width, height = SOURCE_SIZE
    # Sky-to-ground gradients per channel: the smooth areas of a photo.
    channels = [
        Image.linear_gradient("L").resize(SOURCE_SIZE),
        Image.radial_gradient("L").resize(SOURCE_SIZE),
        Image.linear_gradient("L").rotate(90).resize(SOURCE_SIZE),
    ]
    picture = Image.merge("RGB", channels)
    # Objects: hard edges and flat patches, which cost the encoder the most bits per area.
    draw = ImageDraw.Draw(picture)
    for _ in range(60):
        left, top = rng.randrange(width), rng.randrange(height)
        box = (left, top, left + rng.randrange(20, 400), top + rng.randrange(20, 300))
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape(box, fill=colour, outline=(0, 0, 0), width=rng.randrange(1, 5))
    picture = picture.filter(ImageFilter.GaussianBlur(1.2))
    sigma, blur = grain
    noise = Image.effect_noise(SOURCE_SIZE, sigma)
    if blur:
        noise = noise.filter(ImageFilter.BoxBlur(blur))
    return ImageChops.add(picture, Image.merge("RGB", [noise] * 3), offset=-128)


def _jpeg(picture: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _milliseconds(action: Callable[[], object], runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        action()
        timings.append((time.perf_counter() - began) * 1000)
    return timings


def _percentile(timings: list[float], fraction: float) -> float:
    ordered = sorted(timings)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _report(label: str, timings: list[float]) -> None:
    p50, p95 = statistics.median(timings), _percentile(timings, 0.95)
    print(f"{label:<22} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reencode")
    parser.add_argument("--runs", type=int, default=30, help="timed calls per measurement")
    runs = parser.parse_args().runs

    source = photo_like_jpeg()
    result = process_upload(source)
    print(f"source     {SOURCE_SIZE[0]}x{SOURCE_SIZE[1]} JPEG, {len(source):,} bytes")
    print(f"full       {result.width}x{result.height}, {len(result.jpeg):,} bytes")
    thumbnail = Image.open(io.BytesIO(result.thumbnail))
    print(f"thumbnail  {thumbnail.width}x{thumbnail.height}, {len(result.thumbnail):,} bytes")
    print(f"blurhash   {result.blurhash}")
    sizes = ", ".join(
        f"{width} px {len(data):,} bytes" for width, data in result.renditions.items()
    )
    print(f"renditions {sizes}")
    print(f"{runs} runs each")

    picture = decode_image(source)
    small = render_thumbnail(picture)
    _report("process_upload", _milliseconds(lambda: process_upload(source), runs))
    _report("  decode", _milliseconds(lambda: decode_image(source), runs))
    _report("  re-encode", _milliseconds(lambda: encode_within_limit(picture), runs))
    _report(
        "  thumbnail",
        _milliseconds(lambda: encode_jpeg(render_thumbnail(picture), THUMBNAIL_QUALITY), runs),
    )
    _report("  blurhash", _milliseconds(lambda: compute_blurhash(small), runs))
    full_bytes = len(result.jpeg)
    _report(
        "  renditions",
        _milliseconds(lambda: render_renditions(picture, full_bytes, scaled=(small,)), runs),
    )

    grainy = photo_like_jpeg(COARSE_GRAIN)
    stepped = process_upload(grainy)
    print(f"step-down  source {len(grainy):,} bytes, quality 90 gives ", end="")
    print(f"{len(encode_jpeg(decode_image(grainy), 90)):,}, stored {len(stepped.jpeg):,}")
    _report("process_upload", _milliseconds(lambda: process_upload(grainy), runs))


if __name__ == "__main__":
    main()
