"""Upload validation and re-encoding (docs/api.md §15.1) on images built in memory."""

import io
import struct
import warnings
import zipfile

import blurhash
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import ExifTags, Image, ImageCms, ImageFile

from phasma.http.errors import HttpError
from phasma.images import (
    ImageRejected,
    ProcessedImage,
    decode_image,
    encode_jpeg,
    process_upload,
    render_renditions,
    rendition_size,
    sniff_format,
)
from tests.api.sample_images import (
    BLUE,
    RED,
    WHITE,
    assert_clean_jpeg,
    encode,
    heic,
    opened,
    png_header_only,
)

GREEN = (0, 160, 0)
TRANSPARENT = (0, 0, 0, 0)
# Segments a metadata-free baseline JPEG may contain: APP0 (JFIF), DQT, SOF0, DHT, DRI, SOS.
MEGABYTE = 1_000_000


# --- building inputs -------------------------------------------------------------------


def halves(mode: str, size: tuple[int, int], left: object, right: object) -> Image.Image:
    """An image whose left half is `left` and right half `right` (flat areas: JPEG keeps them)."""
    image = Image.new(mode, size, left)
    image.paste(right, (size[0] // 2, 0, size[0], size[1]))
    return image


def noise(size: tuple[int, int], sigma: float) -> Image.Image:
    """Independent Gaussian noise per channel: the worst case for JPEG."""
    return Image.merge("RGB", [Image.effect_noise(size, sigma) for _ in range(3)])


# --- reading outputs -------------------------------------------------------------------


def assert_close(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 8) -> None:
    assert all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True)), actual


def rejection(data: bytes) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        process_upload(data)
    return caught.value


# --- format sniffing -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xd8\xff\xe0rest", "JPEG"),
        (b"\x89PNG\r\n\x1a\nrest", "PNG"),
        (b"GIF89a", "GIF"),
        (b"GIF87a", "GIF"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "WEBP"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", None),
        (b"BM\x00\x00", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"\xff\xd8", None),
        (b"", None),
    ],
)
def test_sniff_format_reads_magic_bytes_only(data: bytes, expected: str | None) -> None:
    assert sniff_format(data) == expected


# --- accepted formats and modes --------------------------------------------------------


def test_jpeg_is_reencoded_at_its_size() -> None:
    result = process_upload(encode(halves("RGB", (120, 80), RED, BLUE), "JPEG", quality=95))
    assert isinstance(result, ProcessedImage)
    assert (result.width, result.height) == (120, 80)
    image = opened(result.jpeg)
    assert image.size == (120, 80)
    assert image.mode == "RGB"
    assert_close(image.getpixel((10, 40)), RED)
    assert_close(image.getpixel((110, 40)), BLUE)
    assert_clean_jpeg(result.jpeg)


@pytest.mark.parametrize(("image_format", "params"), [("PNG", {}), ("WEBP", {"lossless": True})])
def test_alpha_is_flattened_onto_white(image_format: str, params: dict[str, object]) -> None:
    source = halves("RGBA", (64, 64), TRANSPARENT, (*RED, 255))
    image = opened(process_upload(encode(source, image_format, **params)).jpeg)
    assert image.mode == "RGB"
    assert_close(image.getpixel((8, 32)), WHITE)
    assert_close(image.getpixel((56, 32)), RED)


def test_half_transparent_pixels_blend_with_white() -> None:
    source = Image.new("RGBA", (32, 32), (0, 0, 0, 128))
    image = opened(process_upload(encode(source, "PNG")).jpeg)
    assert_close(image.getpixel((16, 16)), (127, 127, 127))


def test_grey_with_alpha_is_flattened_onto_white() -> None:
    source = halves("LA", (64, 64), (0, 0), (0, 255))
    image = opened(process_upload(encode(source, "PNG")).jpeg)
    assert_close(image.getpixel((8, 32)), WHITE)
    assert_close(image.getpixel((56, 32)), (0, 0, 0))


def test_palette_png_transparency_is_flattened_onto_white() -> None:
    source = halves("P", (64, 64), 1, 2)
    source.putpalette([*BLUE, *RED, *GREEN])
    image = opened(process_upload(encode(source, "PNG", transparency=1)).jpeg)
    assert_close(image.getpixel((8, 32)), WHITE)
    assert_close(image.getpixel((56, 32)), GREEN)


def test_animated_gif_keeps_its_first_frame() -> None:
    frames = [Image.new("RGB", (48, 48), colour) for colour in (RED, BLUE, GREEN)]
    source = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    assert Image.open(io.BytesIO(source)).n_frames == 3
    result = process_upload(source)
    assert_close(opened(result.jpeg).getpixel((24, 24)), RED)
    assert_clean_jpeg(result.jpeg)


def test_animated_webp_keeps_its_first_frame() -> None:
    frames = [Image.new("RGBA", (48, 48), (*colour, 255)) for colour in (BLUE, RED)]
    source = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    assert_close(opened(process_upload(source).jpeg).getpixel((24, 24)), BLUE)


def test_cmyk_jpeg_becomes_rgb() -> None:
    source = encode(Image.new("CMYK", (32, 32), (0, 255, 255, 0)), "JPEG", quality=95)
    image = opened(process_upload(source).jpeg)
    assert image.mode == "RGB"
    assert_close(image.getpixel((16, 16)), RED)


def test_sixteen_bit_grey_png_is_scaled_not_clipped() -> None:
    source = Image.new("I;16", (32, 32), 32768)
    assert Image.open(io.BytesIO(encode(source, "PNG"))).mode == "I;16"
    image = opened(process_upload(encode(source, "PNG")).jpeg)
    assert_close(image.getpixel((16, 16)), (128, 128, 128), tolerance=2)


def test_sixteen_bit_grey_transparent_level_becomes_white() -> None:
    source = halves("I;16", (64, 64), 40000, 0)
    image = opened(process_upload(encode(source, "PNG", transparency=40000)).jpeg)
    assert_close(image.getpixel((8, 32)), WHITE)
    assert_close(image.getpixel((56, 32)), (0, 0, 0))


# --- orientation and metadata ----------------------------------------------------------


def test_exif_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # "rotate 90° clockwise to display"
    source = encode(halves("RGB", (60, 40), RED, BLUE), "JPEG", quality=95, exif=exif)
    result = process_upload(source)
    assert (result.width, result.height) == (40, 60)
    image = opened(result.jpeg)
    assert image.size == (40, 60)
    # The stored left half (red) is the top once rotated clockwise.
    assert_close(image.getpixel((20, 5)), RED)
    assert_close(image.getpixel((20, 55)), BLUE)
    assert_clean_jpeg(result.jpeg)


def metadata_params(image_format: str) -> dict[str, object]:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Phasma Camera"
    exif[ExifTags.Base.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (52.0, 22.0, 1.0),
    }
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    params: dict[str, object] = {"exif": exif, "icc_profile": icc}
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">where I live</x:xmpmeta>'
    if image_format == "JPEG":
        params |= {"comment": b"<script>alert(1)</script>", "xmp": xmp}
    if image_format == "WEBP":
        params |= {"xmp": xmp}
    return params


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_exif_gps_icc_xmp_and_comments_are_dropped(image_format: str) -> None:
    source = encode(Image.new("RGB", (32, 32), RED), image_format, **metadata_params(image_format))
    original = Image.open(io.BytesIO(source))
    original.load()
    assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the input really carries GPS
    assert "icc_profile" in original.info
    result = process_upload(source)
    assert_clean_jpeg(result.jpeg)
    assert_clean_jpeg(result.thumbnail)
    assert b"Phasma Camera" not in result.jpeg
    assert b"where I live" not in result.jpeg


# --- rejected input --------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        encode(Image.new("RGB", (8, 8)), "BMP"),
        encode(Image.new("RGB", (8, 8)), "TIFF"),
        b"just some text, definitely not an image",
        b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>",
        b"",
    ],
    ids=["bmp", "tiff", "text", "svg", "empty"],
)
def test_wrong_magic_is_400(data: bytes) -> None:
    error = rejection(data)
    assert error.status == 400
    assert isinstance(error, HttpError)  # the HTTP pipeline answers it as it is


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xd8\xff" + b"\x00" * 64,
        b"\x89PNG\r\n\x1a\n" + b"garbage" * 10,
        b"GIF89a" + b"\xff" * 20,
        b"RIFF\x10\x00\x00\x00WEBPVP8 garbage",
    ],
    ids=["jpeg", "png", "gif", "webp"],
)
def test_right_magic_with_garbage_is_400(data: bytes) -> None:
    assert rejection(data).status == 400


@pytest.mark.parametrize("image_format", ["JPEG", "PNG"])
def test_truncated_image_is_400(image_format: str) -> None:
    whole = encode(noise((200, 200), 40), image_format)
    assert rejection(whole[: len(whole) // 2]).status == 400


def test_image_in_a_format_other_than_its_magic_is_400() -> None:
    # A GIF body behind a PNG signature: Pillow is only allowed to try PNG.
    gif = encode(Image.new("RGB", (8, 8), RED), "GIF")
    assert rejection(b"\x89PNG\r\n\x1a\n" + gif).status == 400


# --- polyglots -------------------------------------------------------------------------


def test_zip_appended_to_a_jpeg_is_gone() -> None:
    jpeg = encode(Image.new("RGB", (64, 64), RED), "JPEG")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("payload.html", "<script>alert(document.cookie)</script>")
    result = process_upload(jpeg + archive.getvalue())
    assert b"PK\x03\x04" not in result.jpeg
    assert b"<script>" not in result.jpeg
    assert_clean_jpeg(result.jpeg)


def test_garbage_after_a_png_is_gone() -> None:
    trailer = b"<?php system($_GET['c']); ?>" * 20
    result = process_upload(encode(Image.new("RGB", (64, 64), BLUE), "PNG") + trailer)
    assert b"<?php" not in result.jpeg
    assert_clean_jpeg(result.jpeg)
    assert_close(opened(result.jpeg).getpixel((32, 32)), BLUE)


# --- pixel limit (decompression bombs) -------------------------------------------------


@pytest.fixture
def decode_calls(monkeypatch: pytest.MonkeyPatch) -> list[ImageFile.ImageFile]:
    """Every ImageFile.load (full pixel decode) made during the test."""
    calls: list[ImageFile.ImageFile] = []
    original = ImageFile.ImageFile.load

    def spy(self: ImageFile.ImageFile) -> object:
        calls.append(self)
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    return calls


def test_pixel_bomb_png_is_400_before_decoding(decode_calls: list[ImageFile.ImageFile]) -> None:
    bomb = png_header_only(8000, 8000)  # 64 MP claimed in a ~100 byte file
    assert len(bomb) < 200
    error = rejection(bomb)
    assert error.status == 400
    assert "pixels" in error.message
    assert decode_calls == []


def test_pixel_bomb_jpeg_is_400_before_decoding(decode_calls: list[ImageFile.ImageFile]) -> None:
    jpeg = bytearray(encode(Image.new("RGB", (8, 8)), "JPEG"))
    start_of_frame = jpeg.index(b"\xff\xc0")
    jpeg[start_of_frame + 5 : start_of_frame + 9] = struct.pack(">HH", 10_000, 10_000)
    assert len(jpeg) < 1000
    error = rejection(bytes(jpeg))
    assert (error.status, "pixels" in error.message) == (400, True)
    assert decode_calls == []


def test_own_pixel_check_holds_without_pillows_guard(
    monkeypatch: pytest.MonkeyPatch, decode_calls: list[ImageFile.ImageFile]
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    error = rejection(png_header_only(10_001, 5000))
    assert (error.status, "pixels" in error.message) == (400, True)
    assert decode_calls == []


def test_exactly_the_pixel_limit_passes_the_header_check() -> None:
    # 10 000 x 5000 is allowed; this one then fails to decode (its body is a stub).
    error = rejection(png_header_only(10_000, 5000))
    assert error.status == 400
    assert "pixels" not in error.message


def test_a_large_jpeg_is_decoded_at_reduced_scale(
    decode_calls: list[ImageFile.ImageFile],
) -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    source = encode(halves("RGB", (6000, 4000), RED, BLUE), "JPEG", quality=80, exif=exif)
    result = process_upload(source)
    # libjpeg decoded 1/2 scale (3000 x 2000 is the smallest not below 2048 x 1365).
    assert {call.size for call in decode_calls} == {(3000, 2000)}
    assert (result.width, result.height) == (1365, 2048)  # then turned upright
    stored = opened(result.jpeg)
    assert stored.size == (1365, 2048)
    assert_close(stored.getpixel((680, 20)), RED)
    assert_close(stored.getpixel((680, 2020)), BLUE)


def test_a_large_transparent_png_is_flattened_and_scaled_in_bands() -> None:
    # 8200 x 300 RGBA: reduced by 4 in bands of rows, then to 2048 px; transparency white.
    source = encode(halves("RGBA", (8200, 300), (*RED, 255), TRANSPARENT), "PNG")
    result = process_upload(source)
    assert (result.width, result.height) == (2048, 75)
    stored = opened(result.jpeg)
    assert_close(stored.getpixel((10, 37)), RED)
    assert_close(stored.getpixel((2040, 37)), WHITE)
    assert_close(stored.getpixel((10, 74)), RED)  # the last, partial band is there too


def test_heic_decodes_through_pillow_heif() -> None:
    assert sniff_format(heic((64, 48))) == "HEIF"
    result = process_upload(heic((400, 300)))
    assert (result.width, result.height) == (400, 300)
    assert_clean_jpeg(result.jpeg)
    stored = opened(result.jpeg)
    assert_close(stored.getpixel((20, 150)), RED, tolerance=24)
    assert_close(stored.getpixel((380, 150)), BLUE, tolerance=24)


def test_bomb_guard_leaves_warning_filters_as_they_were() -> None:
    before = list(warnings.filters)
    rejection(png_header_only(8000, 8000))
    process_upload(encode(Image.new("RGB", (8, 8)), "PNG"))
    assert warnings.filters == before


# --- output size -----------------------------------------------------------------------


def test_output_over_a_megabyte_steps_quality_down() -> None:
    source = encode(noise((2000, 2000), 12), "PNG", compress_level=1)
    picture = decode_image(source)
    sizes = {quality: len(encode_jpeg(picture, quality)) for quality in (90, 85, 80, 75, 70)}
    assert sizes[90] > MEGABYTE  # the premise: quality 90 does not fit
    expected = next(quality for quality, size in sizes.items() if size <= MEGABYTE)
    result = process_upload(source)
    assert len(result.jpeg) <= MEGABYTE
    assert result.jpeg == encode_jpeg(picture, expected)  # the first quality that fits
    assert (result.width, result.height) == (2000, 2000)
    # The worst case for the renditions too: each stays under what the original needed.
    assert set(result.renditions) <= {640, 1080}
    assert all(len(rendition) < len(result.jpeg) for rendition in result.renditions.values())


def test_output_over_a_megabyte_at_quality_50_is_413() -> None:
    size = (2000, 2000)  # under 2048 px: stored at this size
    source = encode(noise(size, 64), "JPEG", quality=95)
    assert len(encode_jpeg(decode_image(source), 50)) > MEGABYTE  # noise: nothing fits
    assert rejection(source).status == 413


# --- thumbnail and blurhash ------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "thumbnail_size"),
    [
        ((1600, 900), (640, 360)),
        ((900, 1600), (360, 640)),
        ((1000, 1000), (640, 640)),
        ((300, 200), (300, 200)),  # never enlarged
        ((2048, 6), (640, 2)),
    ],
)
def test_thumbnail_fits_640_pixels(size: tuple[int, int], thumbnail_size: tuple[int, int]) -> None:
    result = process_upload(encode(Image.new("RGB", size, GREEN), "PNG"))
    assert (result.width, result.height) == size
    thumbnail = opened(result.thumbnail)
    assert thumbnail.size == thumbnail_size
    assert_close(thumbnail.getpixel((0, 0)), GREEN)


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((1600, 1200), {640: (640, 480), 1080: (1080, 810)}),
        ((1200, 2000), {640: (640, 1067), 1080: (1080, 1800)}),  # 3:5, taller than 4:5
        ((3000, 1000), {640: (640, 213), 1080: (1080, 360)}),  # 3:1, wider than 1.91:1
        ((900, 1600), {640: (640, 1138)}),  # narrower than 1080: no 1080 rendition
        ((1080, 1350), {640: (640, 800)}),  # exactly 1080 wide: the original is that one
        ((640, 480), {}),
        ((500, 500), {}),  # never enlarged
    ],
)
def test_renditions_are_the_widths_narrower_than_the_image(
    size: tuple[int, int], expected: dict[int, tuple[int, int]]
) -> None:
    result = process_upload(encode(halves("RGB", size, GREEN, BLUE), "PNG"))
    assert list(result.renditions) == sorted(expected)  # ascending, as posts list them
    for width, encoded in result.renditions.items():
        rendition = opened(encoded)
        assert rendition.size == expected[width]
        assert rendition.mode == "RGB"
        assert_clean_jpeg(encoded)
        assert len(encoded) < len(result.jpeg) <= MEGABYTE
        # The whole picture, scaled: both halves keep their colour, nothing is cropped.
        assert_close(rendition.getpixel((2, rendition.height // 2)), GREEN, tolerance=12)
        assert_close(rendition.getpixel((width - 3, rendition.height // 2)), BLUE, tolerance=12)


@settings(max_examples=200, deadline=None)
@given(
    width=st.integers(1, 25_000), height=st.integers(1, 25_000), target=st.sampled_from([640, 1080])
)
def test_rendition_size_keeps_the_aspect_ratio_and_never_enlarges(
    width: int, height: int, target: int
) -> None:
    size = rendition_size((width, height), target)
    if width <= target:
        assert size is None
        return
    assert size is not None
    new_width, new_height = size
    assert new_width == target and 1 <= new_height <= height
    # Rounded to the nearest pixel: the ratio is off by at most half a pixel of height.
    assert abs(new_height - height * target / width) <= 0.5 or new_height == 1


def test_a_rendition_no_smaller_than_the_original_is_not_kept() -> None:
    picture = decode_image(encode(noise((1400, 1000), 40), "PNG"))
    kept = render_renditions(picture, MEGABYTE)
    assert list(kept) == [640, 1080]
    # Against an original of fewer bytes than a rendition, that rendition would only cost.
    smallest = len(kept[640])
    assert list(render_renditions(picture, len(kept[1080]))) == [640]
    assert render_renditions(picture, smallest) == {}


def test_blurhash_has_four_by_three_components_and_the_image_colour() -> None:
    result = process_upload(encode(Image.new("RGB", (400, 300), RED), "PNG"))
    assert len(result.blurhash) == 28  # 1 + 1 + 4 + 2 x (4 x 3 - 1)
    assert blurhash.components(result.blurhash) == (4, 3)
    rows = blurhash.decode(result.blurhash, 4, 3)
    assert_close(tuple(round(channel) for channel in rows[1][2]), RED, tolerance=12)


# --- any small image in any mode -------------------------------------------------------

MODES_BY_FORMAT = {
    "JPEG": ["RGB", "L", "CMYK"],
    "PNG": ["RGB", "RGBA", "L", "LA", "P", "1", "I;16"],
    "GIF": ["P", "L"],
    "WEBP": ["RGB", "RGBA"],
}


@st.composite
def small_images(draw: st.DrawFn) -> tuple[bytes, tuple[int, int]]:
    image_format = draw(st.sampled_from(sorted(MODES_BY_FORMAT)))
    mode = draw(st.sampled_from(MODES_BY_FORMAT[image_format]))
    size = (draw(st.integers(1, 96)), draw(st.integers(1, 96)))
    sigma = draw(st.floats(0, 100))
    image = Image.effect_noise(size, sigma).convert(mode)
    return encode(image, image_format), size


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(upload=small_images())
def test_any_small_image_becomes_clean_jpegs(upload: tuple[bytes, tuple[int, int]]) -> None:
    data, size = upload
    result = process_upload(data)
    assert (result.width, result.height) == size
    assert opened(result.jpeg).size == size
    assert opened(result.jpeg).mode == "RGB"
    assert opened(result.thumbnail).size == size  # all under 640 px
    assert result.renditions == {}  # and so no narrower rendition
    assert_clean_jpeg(result.jpeg)
    assert len(result.blurhash) == 28
