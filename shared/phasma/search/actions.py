"""Every write of the search slice: recording and deleting recent searches (docs/domain.md §2.8).

Recent searches are private to their user and feed no other part of the system, so
they emit no events.
"""

from __future__ import annotations

from uuid import UUID

from phasma.db.pool import Database
from phasma.errors import NotFound
from phasma.search import queries


def record_recent(database: Database, user_id: int, entity_type: str, reference: str) -> None:
    """Add or bump `(entity_type, reference)` and trim to the newest 10, in one transaction."""
    with database.transaction() as executor:
        queries.record(executor, user_id, entity_type, reference)


def delete_recent(database: Database, user_id: int, public_id: UUID) -> None:
    """Delete one of the user's entries; 404 when it is someone else's or does not exist."""
    with database.transaction() as executor:
        deleted = queries.delete_one(executor, user_id, public_id)
    if not deleted:
        raise NotFound()


def clear_recent(database: Database, user_id: int) -> None:
    """Delete every entry of the user."""
    with database.transaction() as executor:
        queries.delete_all(executor, user_id)
