"""Settings → Export your data (docs/api.md §C): request, status, and the download relayed."""

from __future__ import annotations

from typing import Any

from werkzeug import Response

from phasma.frontend.backend import BackendUnavailable, api_path
from phasma.frontend.context import Context, SignInRequired
from phasma.frontend.pages import UUID_SHAPE

EXPORT_PENDING = "An export is already being prepared. Check back in a few minutes."
EXPORT_FAILED = "Could not start the export. Please try again."
EXPORT_GONE = "That export is no longer available. Request a new one."
TEXT = "text/plain; charset=utf-8"
RELAYED_HEADERS = ("Content-Type", "Content-Length", "Content-Disposition", "Cache-Control")


def export_page(context: Context) -> Response:
    """`GET /settings/export[?id=]`: the button, and the status of export `id` if given."""
    context.require_viewer()
    export_id = context.request.args.get("id", "")
    export: dict[str, Any] | None = None
    error = None
    if export_id:
        if not UUID_SHAPE.fullmatch(export_id):
            error = EXPORT_GONE
        else:
            response = context.api.get(api_path("/users/me/exports/{}", export_id.lower()))
            if response.status == 401:
                raise SignInRequired()
            if response.ok:
                export = response.json()
            else:
                error = EXPORT_GONE
    return context.render(
        "settings_export.html", title="Export your data", export=export, error=error
    )


def request_export(context: Context) -> Response:
    """`POST /settings/export`: start an export, then show its status."""
    response = context.api.call("POST", "/users/me/exports")
    if response.status == 401:
        raise SignInRequired()
    if response.ok:
        return context.done(f"/settings/export?id={response.json()['id']}")
    message = EXPORT_PENDING if response.status == 409 else EXPORT_FAILED
    return context.render(
        "settings_export.html",
        title="Export your data",
        export=None,
        error=message,
        status=response.status,
    )


def download(context: Context) -> Response:
    """`GET /settings/export/{id}/download`: the ZIP relayed from the owner-checked route."""
    export_id = context.params["export_id"]
    if not UUID_SHAPE.fullmatch(export_id):
        return Response("Not found.", status=404, content_type=TEXT)
    try:
        upstream = context.api.stream(
            "GET", api_path("/users/me/exports/{}/download", export_id.lower())
        )
    except BackendUnavailable:
        return Response("Download unavailable", status=502, content_type=TEXT)
    if upstream.status != 200:
        upstream.close()
        if upstream.status == 401:
            raise SignInRequired()
        return Response("Not found.", status=404, content_type=TEXT)
    response = Response(upstream.chunks(), status=200, direct_passthrough=True)
    for name in RELAYED_HEADERS:
        value = upstream.headers.get(name)
        if value is not None:
            response.headers[name] = value
    return response
