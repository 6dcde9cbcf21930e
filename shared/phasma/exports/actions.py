"""Writes of data exports: the request (with its `phasma.export.requested` event)."""

from __future__ import annotations

from phasma.auth.sessions import Viewer
from phasma.db.pool import Database
from phasma.errors import Conflict, NotFound
from phasma.events.catalogue import ExportRequested
from phasma.events.outbox import record_event
from phasma.exports import queries
from phasma.exports.models import Export

SOURCE = "users"  # the function that owns the export routes
EXPORT_PENDING = "An export is already being prepared."


def request_export(database: Database, viewer: Viewer) -> Export:
    """A pending export and its event in one transaction; 409 while one is pending."""
    with database.transaction() as executor:
        user_public_id = queries.user_public_id(executor, viewer.user_id)
        if user_public_id is None:
            raise NotFound()
        row = queries.insert_pending(executor, viewer.user_id)
        if row is None:
            raise Conflict(EXPORT_PENDING)
        record_event(
            executor,
            event_type="phasma.export.requested",
            source_function=SOURCE,
            subject=str(row["public_id"]),
            payload=ExportRequested(export_id=row["public_id"], user_id=user_public_id),
        )
    return queries.to_export(row)
