"""The API's writes: flipping `read`, one notification or all of them. No events."""

from __future__ import annotations

from uuid import UUID

from phasma.auth.sessions import Viewer
from phasma.db.pool import Database
from phasma.errors import NotFound
from phasma.notifications import queries


def mark_read(database: Database, viewer: Viewer, public_id: UUID) -> None:
    """Mark the viewer's notification read (again is fine); 404 when it is not theirs."""
    with database.transaction() as executor:
        if not queries.mark_read(executor, viewer.user_id, public_id):
            raise NotFound()


def mark_all_read(database: Database, viewer: Viewer) -> None:
    """Mark every notification of the viewer read."""
    with database.transaction() as executor:
        queries.mark_all_read(executor, viewer.user_id)
