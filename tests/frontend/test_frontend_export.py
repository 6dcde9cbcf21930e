"""Settings → Export your data (docs/api.md §C): request, status, and the relayed download."""

from __future__ import annotations

import re

from phasma.exports.queries import object_key
from tests.api.conftest import Bucket, Database
from tests.frontend.conftest import Member


def test_the_export_section_requests_shows_status_and_downloads(
    member: Member, sign_up, database: Database, bucket: Bucket
) -> None:
    settings = member.visitor.get("/settings").get_data(as_text=True)
    assert 'href="/settings/export"' in settings and "Export your data" in settings
    page = member.visitor.get("/settings/export").get_data(as_text=True)
    assert 'action="/settings/export"' in page and "Request an export" in page

    requested = member.visitor.post("/settings/export")
    assert requested.status_code == 303, requested.get_data(as_text=True)
    location = requested.headers["Location"]
    export_id = re.fullmatch(r"/settings/export\?id=([0-9a-f-]{36})", location).group(1)
    pending = member.visitor.get(location).get_data(as_text=True)
    assert 'data-export-status="pending"' in pending and "Request an export" not in pending
    again = member.visitor.post("/settings/export")
    assert again.status_code == 409 and "already being prepared" in again.get_data(as_text=True)

    # What the exporter leaves behind (its own tests drive it): the object and the state.
    bucket.put(object_key(export_id), b"PK zip bytes", "application/zip")
    database.rows(
        "UPDATE exports SET status = 'ready', expires = now() + interval '1 day' "
        "WHERE public_id = :id",
        id=export_id,
    )
    ready = member.visitor.get(location).get_data(as_text=True)
    assert 'data-export-status="ready"' in ready
    assert f'href="/settings/export/{export_id}/download"' in ready
    download = member.visitor.get(f"/settings/export/{export_id}/download")
    assert download.status_code == 200 and download.get_data() == b"PK zip bytes"
    assert download.headers["Content-Type"] == "application/zip"
    assert "attachment" in download.headers["Content-Disposition"]

    stranger = sign_up()
    assert stranger.visitor.get(f"/settings/export/{export_id}/download").status_code == 404
    assert member.visitor.get("/settings/export/not-a-uuid/download").status_code == 404
