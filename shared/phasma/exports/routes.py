"""HTTP handlers of data exports (docs/api.md §C), served by the `users` function."""

from __future__ import annotations

from werkzeug import Response

from phasma.db.pool import Executor
from phasma.exports import actions, queries
from phasma.exports.models import export_json
from phasma.http.context import RequestContext
from phasma.http.errors import NotFound
from phasma.http.responses import json_response
from phasma.models import format_timestamp


def request_export(context: RequestContext) -> Response:
    """`POST /users/me/exports`: `202` with the pending export; `409` while one is pending."""
    export = actions.request_export(context.runtime.db, context.signed_in)
    return json_response(export_json(export), 202)


def get_export(context: RequestContext) -> Response:
    """`GET /users/me/exports/{id}`: `400` not a UUID, `404` unknown, expired or not the
    caller's, else the export with `url` and `expires` once ready."""
    public_id = context.uuid_param("id")
    user_id = context.signed_in.user_id

    def read(executor: Executor) -> queries.ExportRow | None:
        return queries.own_export(executor, user_id, public_id)

    row = context.runtime.db.read(read)
    if row is None:
        raise NotFound()
    return json_response(export_json(queries.to_export(row)))


def download_export(context: RequestContext) -> Response:
    """`GET /users/me/exports/{id}/download`: the caller's ready ZIP, streamed from the
    private bucket; `404` unless it is theirs, ready and not expired."""
    public_id = context.uuid_param("id")
    user_id = context.signed_in.user_id
    row = context.runtime.db.read(lambda executor: queries.own_export(executor, user_id, public_id))
    if row is None or row["status"] != "ready":
        raise NotFound()
    blob = context.runtime.blob_store.open(queries.object_key(public_id))
    if blob is None:
        raise NotFound()
    # direct_passthrough: the ZIP goes out chunk by chunk, never held whole.
    response = Response(
        blob.chunks(), status=200, content_type="application/zip", direct_passthrough=True
    )
    response.headers["Content-Length"] = str(blob.content_length)
    day = format_timestamp(row["created"])[:10]
    response.headers["Content-Disposition"] = f'attachment; filename="phasma-export-{day}.zip"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
