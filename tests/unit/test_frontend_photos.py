"""The responsive-image helpers of the site's templates: `srcset`, `sizes` and image URLs."""

from __future__ import annotations

from typing import Any

import pytest

from phasma.frontend.rendering import (
    PLACEHOLDER_AVATAR,
    image_url,
    photo_sizes,
    photo_srcset,
)

NAME = "0123456789abcdef0123456789abcdef"


def post(width: Any = 1600, height: Any = 1200, renditions: Any = (640, 1080)) -> dict[str, Any]:
    listed = None if renditions is None else list(renditions)
    return {"filename": NAME, "width": width, "height": height, "renditions": listed}


def test_image_urls_name_the_original_the_thumbnail_or_a_rendition() -> None:
    assert image_url(NAME) == f"/uploads/{NAME}"
    assert image_url(NAME, thumbnail=True) == f"/uploads/{NAME}?variant=thumbnail"
    assert image_url(NAME, width=640) == f"/uploads/{NAME}?w=640"
    assert image_url("../etc/passwd", width=640) == PLACEHOLDER_AVATAR


def test_srcset_lists_the_renditions_then_the_original_by_width() -> None:
    assert photo_srcset(post()) == (
        f"/uploads/{NAME}?w=640 640w, /uploads/{NAME}?w=1080 1080w, /uploads/{NAME} 1600w"
    )
    assert photo_srcset(post(900, 1600, [640])) == (
        f"/uploads/{NAME}?w=640 640w, /uploads/{NAME} 900w"
    )


@pytest.mark.parametrize(
    "shape",
    [
        post(500, 500, []),  # no rendition: `src` alone
        post(renditions=None),  # not backfilled yet (or an older backend)
        {**post(), "filename": "not-a-blob"},
        {"filename": NAME},
    ],
)
def test_srcset_is_empty_when_the_original_is_the_only_candidate(shape: dict[str, Any]) -> None:
    assert photo_srcset(shape) == ""


def test_srcset_leaves_out_an_original_of_unknown_width() -> None:
    assert photo_srcset(post(width=None)) == (
        f"/uploads/{NAME}?w=640 640w, /uploads/{NAME}?w=1080 1080w"
    )


def test_sizes_state_the_slot_of_each_layout() -> None:
    assert photo_sizes(post(1600, 1200)) == "(max-width: 608px) calc(100vw - 34px), 574px"
    assert photo_sizes(post(3000, 1000), "post") == (
        "(min-width: 1024px) 629px, (min-width: 900px) calc(100vw - 395px), "
        "(max-width: 608px) calc(100vw - 34px), 574px"
    )


def test_sizes_shrink_for_a_photo_taller_than_four_by_five() -> None:
    # 1:3 in a 4:5 box: drawn at (1/3) / (4/5) = 0.417 of the slot's width.
    assert photo_sizes(post(1200, 3600)) == (
        "(max-width: 608px) calc(calc(100vw - 34px) * 0.417), calc(574px * 0.417)"
    )
    assert photo_sizes(post(1080, 1350)) == photo_sizes(post())  # exactly 4:5: the slot
    assert photo_sizes(post(None, None)) == photo_sizes(post())
