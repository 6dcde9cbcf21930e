"""HTTP handler of the `uploads` function (docs/api.md §15.1)."""

from __future__ import annotations

from werkzeug import Response

from phasma.http.context import RequestContext
from phasma.http.responses import json_response
from phasma.images import process_upload
from phasma.uploads import actions
from phasma.uploads.models import UploadCreated
from phasma.uploads.multipart import read_image_part


def upload(context: RequestContext) -> Response:
    """`POST /uploads`: validate and re-encode the `image` part, keep it as a pending upload."""
    viewer = context.signed_in
    runtime = context.runtime
    data = read_image_part(context.request)
    # Decoding is the memory-hungry step (a 50 MP RGBA frame is 200 MB): bounded per process.
    image = runtime.image_decoding.run(lambda: process_upload(data))
    filename = actions.create_upload(runtime.db, runtime.blob_store, viewer.user_id, image)
    created = UploadCreated(
        filename=filename,
        width=image.width,
        height=image.height,
        blurhash=image.blurhash,
        thumbnail=True,
        renditions=list(image.renditions),
    )
    return json_response(created, 201)
