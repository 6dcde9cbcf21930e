"""Validate an uploaded image and re-encode it as clean JPEGs (docs/api.md §15.1, docs/api.md §F,
docs/api.md §15.1 and §11).

`process_upload` turns the bytes of an upload (JPEG, PNG, GIF, WebP or HEIC, up to 50
megapixels) into a full rendition (at most 2048 px on its longest side; JPEG quality 90,
stepping down to 50 to fit the byte limit), the responsive renditions pages pick from
with `srcset` (640 and 1080 px wide, never enlarged), a grid thumbnail and a blurhash
placeholder.
Nothing of the input survives but pixels: no metadata, no trailing bytes, no second
frame, so a polyglot that passes the magic-byte check comes out as a plain JPEG.

Resource bound: the pixel count is checked from the header before any pixel is
decoded. A JPEG is then decoded at 1/2, 1/4 or 1/8 scale whenever the stored size
allows (`draft`: a 48 MP photo decodes as 12 MP), and any other format is flattened
and box-reduced a band of rows at a time, so the only full-size buffer is the decoder's
own (at most 50 MP x 4 bytes = 200 MB for RGBA). Decoding runs in the caller's thread
and is the expensive part, so the `uploads` function caps how many uploads a replica
processes at once (docs/api.md §15.1); this module caps only the size of each one.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

import blurhash
import pillow_heif
from PIL import ExifTags, Image, ImageMath

from phasma.config import Limits
from phasma.errors import DomainError

FULL_QUALITY: Final = 90
# Quality steps tried, in order, while the full rendition exceeds the byte limit: at most
# eight encodes of a 2048 px frame (~40 ms each). A photo fits by 70 at that size; the
# lower steps are for grain and fine texture, and only noise-like content fails them.
FALLBACK_QUALITIES: Final = (85, 80, 75, 70, 60, 50)
# Grid cells (frontend.md) are square crops of ~330 CSS px on a 64rem page (~660 device px
# at 2x) and ~130 on a phone (~390 at 3x): 640 on the longest side serves both.
THUMBNAIL_LONGEST_SIDE: Final = 640
THUMBNAIL_QUALITY: Final = 80
# Responsive renditions (Limits.IMAGE_RENDITION_WIDTHS) are sized by width, as `srcset`'s
# `w` descriptors count: 640 fills the 574 px feed column at 1x, 1080 a phone's column
# at 2x and 3x; the original serves anything wider.
RENDITION_QUALITY: Final = 80
BLURHASH_COMPONENTS: Final = (4, 3)
# Blurhash keeps only 12 cosine components, so a 32 px input loses nothing visible.
BLURHASH_LONGEST_SIDE: Final = 32
WHITE: Final = (255, 255, 255)

_MAGIC: Final = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF8", "GIF"),
)
# ISO BMFF `ftyp` brands of HEIF images and sequences coded with HEVC (what phones write),
# and the generic image brands libheif reads; an AVIF one fails to decode (400).
_HEIF_BRANDS: Final = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}
)
# Rows of the output produced per band while flattening and reducing a large frame.
_BAND_ROWS: Final = 64
# EXIF orientation -> the transpose that makes the picture upright (as ImageOps does).
_UPRIGHT: Final = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SIXTEEN_BIT_MODES: Final = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})

# Pillow's own bomb guard (process-wide, every format's `open`) warns above this and
# raises above twice this; `_open` turns the warning into an error, so Pillow refuses
# exactly what the spec refuses.
Image.MAX_IMAGE_PIXELS = Limits.UPLOAD_MAX_PIXELS
# HEIC through libheif: only the primary image is ever decoded, so the embedded
# thumbnails, depth maps and auxiliary images are not even parsed. One decoder thread:
# the process already runs `UPLOAD_MAX_CONCURRENCY` decodes on its few cores.
pillow_heif.register_heif_opener(
    thumbnails=False, depth_images=False, aux_images=False, decode_threads=1
)
# `warnings.catch_warnings` swaps the process-wide filter list on entry and restores it
# on exit; two threads interleaving would restore each other's lists (possibly leaving
# the error filter installed for good), so header parsing holds this lock. It is short:
# only headers are read under it, never pixel data.
_bomb_guard_lock = threading.Lock()


class ImageRejected(DomainError):
    """The upload is not an acceptable image: answered with `status` (400 or 413)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class ProcessedImage:
    """What gets stored for an upload: every rendition is a metadata-free baseline JPEG."""

    jpeg: bytes
    thumbnail: bytes
    width: int
    height: int
    blurhash: str
    # Width in pixels -> JPEG, ascending: only widths narrower than the image.
    renditions: dict[int, bytes]


def sniff_format(data: bytes) -> str | None:
    """The Pillow format name ("JPEG", "PNG", "GIF", "WEBP", "HEIF") the magic bytes announce,
    or None."""
    for magic, image_format in _MAGIC:
        if data.startswith(magic):
            return image_format
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "HEIF"
    return None


def process_upload(data: bytes) -> ProcessedImage:
    """Validate `data` and re-encode it; raises ImageRejected (400 or 413) for unacceptable input.

    CPU-bound (a few hundred milliseconds for a 12 MP phone photo, about a second for
    48 MP): callers bound how many run at once.
    """
    picture = decode_image(data)
    jpeg = encode_within_limit(picture)
    thumbnail = render_thumbnail(picture)
    return ProcessedImage(
        jpeg=jpeg,
        thumbnail=encode_jpeg(thumbnail, THUMBNAIL_QUALITY),
        width=picture.width,
        height=picture.height,
        blurhash=compute_blurhash(thumbnail),
        renditions=render_renditions(picture, len(jpeg), scaled=(thumbnail,)),
    )


def decode_image(data: bytes) -> Image.Image:
    """Check and decode the first frame: upright RGB on white, at most 2048 px on its longest
    side, with no metadata attached."""
    image_format = sniff_format(data)
    if image_format is None:
        raise ImageRejected(400, "Unsupported image type: use JPEG, PNG, GIF, WebP or HEIC")
    image = _open(data, image_format)
    try:
        # The longest side is the same before and after the EXIF rotation.
        target = _fit(image.size, Limits.IMAGE_STORED_LONGEST_SIDE)
        if image_format == "JPEG":
            # libjpeg scales by 1/2, 1/4 or 1/8 while decoding, never below `target`:
            # a quarter or less of the pixels to decode and hold.
            image.draft(None, target)
        # `open` leaves the first frame of an animation selected; `load` decodes only it.
        image.load()
        upright = _UPRIGHT.get(image.getexif().get(ExifTags.Base.Orientation, 1))
        picture = _scaled_to_rgb(image, target)
        if upright is not None:
            picture = picture.transpose(upright)
    except MemoryError:
        raise  # the server's problem, not the upload's: let it become a 500
    except Exception as error:
        # Pillow signals malformed input with many exception types (OSError, SyntaxError,
        # ValueError, struct.error, zlib.error, ...): every one means "not decodable".
        raise ImageRejected(400, "The image could not be decoded") from error
    # Everything in `info` (ICC profile, comments, XMP, EXIF) could reach the encoder.
    picture.info = {}
    return picture


def encode_within_limit(picture: Image.Image) -> bytes:
    """The full rendition: quality 90, else the first of 85..50 that fits; 413 if none does."""
    for quality in (FULL_QUALITY, *FALLBACK_QUALITIES):
        encoded = encode_jpeg(picture, quality)
        if len(encoded) <= Limits.IMAGE_STORED_MAX_BYTES:
            return encoded
    raise ImageRejected(413, "The image is too large even after compression")


def encode_jpeg(picture: Image.Image, quality: int) -> bytes:
    """A baseline JPEG of an RGB image; carries no metadata as long as `picture.info` is empty."""
    buffer = io.BytesIO()
    # No `optimize`: on a 2 MP photo it saves ~1% of bytes and makes the encode 4x slower.
    picture.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def render_thumbnail(picture: Image.Image) -> Image.Image:
    """The grid rendition: at most 640 px on its longest side, never enlarged."""
    size = _fit(picture.size, THUMBNAIL_LONGEST_SIDE)
    if size == picture.size:
        return picture
    # reducing_gap=1: box-reduce by the integer part of the ratio, then Lanczos the rest
    # (under 2x). Half the time of plain Lanczos on a phone photo; at 640 px the
    # difference is under one grey level on average.
    return picture.resize(size, Image.Resampling.LANCZOS, reducing_gap=1.0)


def rendition_size(size: tuple[int, int], width: int) -> tuple[int, int] | None:
    """The size of the `width` px wide rendition of an image of `size`, aspect ratio kept;
    None when the image is not wider than that (renditions never enlarge)."""
    original_width, original_height = size
    if width >= original_width:
        return None
    return width, max(1, round(original_height * width / original_width))


def render_renditions(
    picture: Image.Image, full_bytes: int, scaled: Iterable[Image.Image] = ()
) -> dict[int, bytes]:
    """Every responsive rendition narrower than `picture`, by width, as JPEG bytes.

    Each is scaled from the original (box-reduced by the integer part of the ratio,
    then bicubic: on a 1600 px photo, a third faster than Lanczos for the 1080 one, and
    within half a grey level of it on average). `scaled` holds copies already made
    (the thumbnail): one of a rendition's exact size is encoded as it is, so a
    landscape photo's 640 rendition costs no second resize. A rendition is kept only
    when it is smaller than the full rendition (`full_bytes`, already within the byte
    limit): a narrower candidate must never download more.
    """
    ready = {image.size: image for image in scaled}
    renditions: dict[int, bytes] = {}
    for width in sorted(Limits.IMAGE_RENDITION_WIDTHS):
        size = rendition_size(picture.size, width)
        if size is None:
            continue
        source = ready.get(size) or picture.resize(size, Image.Resampling.BICUBIC, reducing_gap=1.0)
        encoded = encode_jpeg(source, RENDITION_QUALITY)
        if len(encoded) < full_bytes:
            renditions[width] = encoded
    return renditions


def compute_blurhash(picture: Image.Image) -> str:
    """The blurhash (4 x 3 components) of an RGB image, computed from a 32 px copy."""
    tiny = picture.resize(_fit(picture.size, BLURHASH_LONGEST_SIDE), Image.Resampling.BOX)
    x_components, y_components = BLURHASH_COMPONENTS
    encoded: str = blurhash.encode(_pixel_rows(tiny), x_components, y_components)
    return encoded


def _pixel_rows(picture: Image.Image) -> list[list[bytes]]:
    """rows[y][x] = the (r, g, b) bytes of that pixel: the layout the blurhash encoder reads."""
    raw = picture.tobytes()
    row_bytes = picture.width * 3
    return [
        [raw[start : start + 3] for start in range(row, row + row_bytes, 3)]
        for row in range(0, len(raw), row_bytes)
    ]


def _open(data: bytes, image_format: str) -> Image.Image:
    """Parse the header only (restricted to the sniffed format) and enforce the pixel limit."""
    try:
        with _bomb_guard_lock, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[image_format])
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
        raise ImageRejected(400, "The image has too many pixels") from error
    except Exception as error:
        raise ImageRejected(400, "The image could not be decoded") from error
    width, height = image.size
    if width * height > Limits.UPLOAD_MAX_PIXELS:
        raise ImageRejected(400, "The image has too many pixels")
    return image


def _scaled_to_rgb(image: Image.Image, target: tuple[int, int]) -> Image.Image:
    """`image` as RGB on white, scaled to `target` (no larger than the image).

    A frame at least twice the target is first box-reduced by the integer part of the
    ratio, a band of rows at a time: each band is flattened onto white and then averaged
    (which is what compositing the scaled picture would give), so no full-size RGB or
    RGBA copy is ever made. Bicubic then scales the rest of the way (under 2x): a third
    of Lanczos's time on a 12 MP frame, and the renditions' choice too.
    """
    width, height = image.size
    factor = min(width // target[0], height // target[1])
    if factor < 2:
        picture = _flatten_to_rgb(image)
    else:
        picture = Image.new("RGB", (-(-width // factor), -(-height // factor)), WHITE)
        band = factor * _BAND_ROWS
        for top in range(0, height, band):
            rows = image.crop((0, top, width, min(top + band, height)))
            picture.paste(_flatten_to_rgb(rows).reduce(factor), (0, top // factor))
    if picture.size == target:
        return picture
    return picture.resize(target, Image.Resampling.BICUBIC)


def _flatten_to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB, with any transparency composited onto white."""
    if image.mode in _SIXTEEN_BIT_MODES:
        return _flatten_sixteen_bit_grey(image)
    if not image.has_transparency_data:
        return image if image.mode == "RGB" else image.convert("RGB")
    return _onto_white(image.convert("RGBA"))


def _flatten_sixteen_bit_grey(image: Image.Image) -> Image.Image:
    """8-bit RGB from 16-bit grey (PNG), its transparent grey level (tRNS) made white."""
    # Converting 16-bit grey straight to 8 bits clips everything above 255 to white.
    grey = image.point(lambda value: value / 256).convert("L")
    transparent = image.info.get("transparency")
    if transparent is None:
        return grey.convert("RGB")
    # Pillow's conversions ignore a 16-bit transparent grey level, so build the mask here.
    opaque = ImageMath.lambda_eval(
        lambda operands: (operands["grey"] != transparent) * 255, grey=image.convert("I")
    )
    grey.putalpha(opaque.convert("L"))
    return _onto_white(grey)


def _onto_white(image: Image.Image) -> Image.Image:
    """An RGBA or LA image composited onto a white RGB background."""
    background = Image.new("RGB", image.size, WHITE)
    background.paste(image, mask=image.getchannel("A"))
    return background


def _fit(size: tuple[int, int], longest_side: int) -> tuple[int, int]:
    """`size` scaled down so its longest side is `longest_side` (unchanged if already smaller)."""
    width, height = size
    scale = longest_side / max(width, height)
    if scale >= 1:
        return size
    return max(1, round(width * scale)), max(1, round(height * scale))
