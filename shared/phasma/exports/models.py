"""The Export response shape (docs/api.md §C)."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from phasma.models import CamelModel, Timestamp

ExportStatus = Literal["pending", "ready", "failed"]


class Export(CamelModel):
    """`url` and `expires` only while the ZIP is downloadable."""

    id: UUID
    status: ExportStatus
    created: Timestamp
    url: str | None = None
    expires: Timestamp | None = None


def export_json(export: Export) -> dict[str, Any]:
    """The JSON object: absent, not null, `url` and `expires` when not ready."""
    return export.model_dump(mode="json", by_alias=True, exclude_none=True)
