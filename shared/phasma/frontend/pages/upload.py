"""Creating a post: its images (one, or an album of up to 10), caption and alt texts
(docs/frontend.md §7.8).

The browser resizes the image before sending it when JavaScript runs; without it
the original arrives and the limits below apply. They are for usability and load
shedding only: the `uploads` function is authoritative (docs/api.md §15.1).
"""

from __future__ import annotations

from dataclasses import dataclass

from urllib3 import encode_multipart_formdata
from werkzeug import Response
from werkzeug.datastructures import FileStorage

from phasma.config import Limits
from phasma.frontend.backend import BackendResponse
from phasma.frontend.context import Context, RequestTooLarge, SignInRequired

CAPTION_MAX_CHARS = 1000
ALT_TEXT_MAX_CHARS = 1000
IMAGE_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/heif"}
)
SELECT_AN_IMAGE = "Please select an image."
IMAGE_TOO_LARGE = "Image must be smaller than 20 MB."
WRONG_IMAGE_TYPE = "Please select a JPEG, PNG, GIF, WEBP, or HEIC image."
TOO_MANY_IMAGES = f"Please select at most {Limits.POST_IMAGES_MAX} photos."
UPLOAD_FAILED = "Image upload failed. Please try again."
POST_FAILED = "Could not create post. Please try again."


class ImageProblem(Exception):
    """The submitted image cannot be sent on: `message` for the form, with `status`."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class ImageFile:
    """An image part read from a form, within the upload limit."""

    name: str
    content_type: str
    data: bytes


def _looks_like_an_image(data: bytes) -> bool:
    head = data[:12]
    return (
        head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF8"))
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
        or head[4:8] == b"ftyp"  # HEIC: `uploads` checks the brand
    )


def read_image(context: Context, field: str, *, required: bool) -> ImageFile | None:
    """The image part `field`, or None when absent and not `required` (`ImageProblem`)."""
    try:
        part = context.files().get(field)
    except RequestTooLarge:
        raise ImageProblem(IMAGE_TOO_LARGE, 413) from None
    if part is None or not part.filename:
        if required:
            raise ImageProblem(SELECT_AN_IMAGE, 400)
        return None
    return _read_part(part)


def read_images(context: Context, field: str) -> list[ImageFile]:
    """Every image part `field` in the order sent (the selection's, or the order the
    upload page's script arranged): 1 to `POST_IMAGES_MAX` of them (`ImageProblem`)."""
    try:
        parts = [part for part in context.files().getlist(field) if part.filename]
    except RequestTooLarge:
        raise ImageProblem(IMAGE_TOO_LARGE, 413) from None
    if not parts:
        raise ImageProblem(SELECT_AN_IMAGE, 400)
    if len(parts) > Limits.POST_IMAGES_MAX:
        raise ImageProblem(TOO_MANY_IMAGES, 400)
    return [_read_part(part) for part in parts]


def _read_part(part: FileStorage) -> ImageFile:
    data = part.stream.read(Limits.UPLOAD_MAX_BYTES + 1)
    if not data:
        raise ImageProblem(SELECT_AN_IMAGE, 400)
    if len(data) > Limits.UPLOAD_MAX_BYTES:
        raise ImageProblem(IMAGE_TOO_LARGE, 413)
    if part.mimetype not in IMAGE_TYPES and not _looks_like_an_image(data):
        raise ImageProblem(WRONG_IMAGE_TYPE, 400)
    return ImageFile(part.filename or "", part.mimetype or "application/octet-stream", data)


def send_image(context: Context, image: ImageFile) -> str:
    """`POST /uploads`: the new pending upload's filename (`ImageProblem` on failure)."""
    body, content_type = encode_multipart_formdata(
        {"image": (image.name, image.data, image.content_type)}
    )
    response = context.api.call(
        "POST", "/uploads", body=body, headers={"Content-Type": content_type}
    )
    if response.status == 401:
        raise SignInRequired()
    filename = _field(response, "filename")
    if response.status != 201 or filename is None:
        raise ImageProblem(UPLOAD_FAILED, response.status if response.status >= 400 else 502)
    return filename


def upload_page(context: Context) -> Response:
    """`GET /upload`."""
    context.require_viewer()
    return _form(context, description="", alt_text="", error=None, status=200)


def create_post(context: Context) -> Response:
    """`POST /upload`: `POST /uploads` per photo, then `POST /posts`, then the feed.

    Several photos make an album, in the order sent. Each has its alt text: the
    script's per-photo `alt_texts` fields, or without it the one `alt_text` field,
    which describes the first photo.
    """
    try:
        form = context.form()
        description = form.get("description", "").strip()
        alt_text = form.get("alt_text", "").strip()
        per_image = [text.strip() for text in form.getlist("alt_texts")]
        images = read_images(context, "image")
    except RequestTooLarge:
        return _form(context, "", "", IMAGE_TOO_LARGE, 413)
    except ImageProblem as problem:
        return _form(context, description, alt_text, problem.message, problem.status)
    if len(description) > CAPTION_MAX_CHARS:
        message = f"Caption must be {CAPTION_MAX_CHARS:,} characters or fewer."
        return _form(context, description, alt_text, message, 400)
    alt_texts = per_image or [alt_text]
    alt_texts = [*alt_texts, *[""] * len(images)][: len(images)]
    if any(len(text) > ALT_TEXT_MAX_CHARS for text in alt_texts):
        message = f"Alt text must be {ALT_TEXT_MAX_CHARS:,} characters or fewer."
        return _form(context, description, alt_text, message, 400)
    try:
        filenames = [send_image(context, image) for image in images]
    except ImageProblem as problem:
        return _form(context, description, alt_text, problem.message, problem.status)
    body: dict[str, object] = {"description": description}
    if len(filenames) == 1:
        body |= {"filename": filenames[0], "altText": alt_texts[0]}
    else:
        body |= {"filenames": filenames, "altTexts": alt_texts}
    created = context.api.call("POST", "/posts", json_body=body)
    if created.status == 401:
        raise SignInRequired()
    if created.status != 201:
        status = created.status if created.status >= 400 else 502
        return _form(context, description, alt_text, POST_FAILED, status)
    return context.done("/feed", redirect="/feed")


def _field(response: BackendResponse, name: str) -> str | None:
    body = response.json()
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


def _form(
    context: Context, description: str, alt_text: str, error: str | None, status: int
) -> Response:
    if error and context.wants_json:
        return context.failed(error, status)
    return context.render(
        "upload.html",
        title="Create Post",
        status=status,
        description=description,
        alt_text=alt_text,
        error=error,
    )
