"""The response shape of `POST /uploads`."""

from __future__ import annotations

from phasma.models import CamelModel


class UploadCreated(CamelModel):
    """`201` body: the baseline `filename` plus the image facts pages use before loading it."""

    filename: str
    width: int
    height: int
    blurhash: str
    thumbnail: bool  # a grid rendition exists (`GET /uploads/{filename}?variant=thumbnail`)
    renditions: list[int]  # widths of the responsive renditions (`GET /uploads/{filename}?w=`)
