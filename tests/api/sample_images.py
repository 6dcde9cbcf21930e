"""Small images built in memory for the upload, media and avatar API tests."""

from __future__ import annotations

import functools
import io
import random
import struct
import zlib

import pillow_heif
from PIL import ExifTags, Image

RED = (255, 0, 0)
BLUE = (0, 0, 255)
WHITE = (255, 255, 255)
# Segments a metadata-free baseline JPEG may contain: APP0 (JFIF), DQT, SOF0, DHT, DRI, SOS.
CLEAN_JPEG_MARKERS = {0xE0, 0xDB, 0xC0, 0xC4, 0xDD, 0xDA}


def encode(image: Image.Image, image_format: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **params)
    return buffer.getvalue()


def halves(size: tuple[int, int], left: object, right: object, mode: str = "RGB") -> Image.Image:
    """Left half `left`, right half `right`: flat areas survive JPEG, so colours can be read."""
    image = Image.new(mode, size, left)
    image.paste(right, (size[0] // 2, 0, size[0], size[1]))
    return image


def photo_jpeg(size: tuple[int, int] = (64, 48), orientation: int | None = None) -> bytes:
    """A JPEG carrying metadata that must not survive: GPS, a comment, optionally a rotation."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhasmaCam"
    exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] = "N"
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    return encode(halves(size, RED, BLUE), "JPEG", exif=exif, comment=b"secret comment")


def png_with_alpha(size: tuple[int, int] = (40, 30)) -> bytes:
    """Left half opaque red, right half fully transparent (must come out white)."""
    return encode(halves(size, (*RED, 255), (0, 0, 0, 0), mode="RGBA"), "PNG")


def animated_gif(size: tuple[int, int] = (30, 20)) -> bytes:
    """Two frames: red, then blue; only the first must survive."""
    frames = [Image.new("RGB", size, RED), Image.new("RGB", size, BLUE)]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)


def webp(size: tuple[int, int] = (50, 40)) -> bytes:
    return encode(Image.new("RGB", size, RED), "WEBP", lossless=True)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width x height RGB pixels: a decompression bomb's header."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        checksum = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", checksum)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


def png_bomb(width: int, height: int) -> bytes:
    """A complete, valid 1-bit PNG of width x height white pixels: its IDAT inflates to
    height x (1 + width / 8) bytes, compressed about a thousand to one."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        checksum = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", checksum)

    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\xff" * -(-width // 8)  # filter byte "none", then the row's bits
    rows_per_block = max(1, 4_000_000 // len(row))
    blocks, rest = divmod(height, rows_per_block)
    data = b"".join(compressor.compress(row * rows_per_block) for _ in range(blocks))
    data += compressor.compress(row * rest) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def heic(size: tuple[int, int], orientation: int | None = None) -> bytes:
    """A HEIC (HEVC-coded HEIF, as phones write it) of red and blue halves, with EXIF."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhasmaCam"
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    buffer = io.BytesIO()
    heif = pillow_heif.from_pillow(halves(size, RED, BLUE))
    heif.save(buffer, quality=90, exif=exif.tobytes())
    return buffer.getvalue()


@functools.cache
def noisy_jpeg(size: tuple[int, int], spread: int, quality: int) -> bytes:
    """A large JPEG that stays large: a tile of uniform noise (`spread` grey levels wide
    around mid-grey) repeated over `size`. Noise is the worst case for JPEG, so a few
    megapixels of it weigh as many megabytes as a camera's original; seeded, so the bytes
    are the same every run."""
    side = 512
    tile = Image.frombytes("RGB", (side, side), random.Random(7).randbytes(3 * side * side))
    tile = tile.point(lambda value: 128 - spread // 2 + value * spread // 256)
    picture = Image.new("RGB", size)
    for top in range(0, size[1], side):
        for left in range(0, size[0], side):
            picture.paste(tile, (left, top))
    return encode(picture, "JPEG", quality=quality)


def opened(jpeg: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(jpeg))
    image.load()
    return image


def jpeg_markers(jpeg: bytes) -> list[int]:
    """The marker of every segment from SOI up to and including SOS."""
    assert jpeg[:2] == b"\xff\xd8"
    markers, position = [], 2
    while True:
        assert jpeg[position] == 0xFF
        marker = jpeg[position + 1]
        markers.append(marker)
        if marker == 0xDA:
            return markers
        (length,) = struct.unpack(">H", jpeg[position + 2 : position + 4])
        position += 2 + length


def assert_clean_jpeg(jpeg: bytes) -> None:
    """A baseline JPEG: no metadata segment, nothing after the end-of-image marker."""
    assert set(jpeg_markers(jpeg)) <= CLEAN_JPEG_MARKERS
    assert jpeg.endswith(b"\xff\xd9")
    image = opened(jpeg)
    assert image.format == "JPEG"
    assert not image.getexif()
    assert not {"exif", "icc_profile", "comment", "xmp"} & set(image.info)


def colour_at(jpeg: bytes, position: tuple[int, int]) -> tuple[int, ...]:
    return opened(jpeg).convert("RGB").getpixel(position)  # type: ignore[return-value]


def close_to(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 10) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))
