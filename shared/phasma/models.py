"""Base types for response and event models: camelCase JSON and RFC 3339 UTC timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel


def format_timestamp(value: datetime) -> str:
    """RFC 3339 in UTC with a `Z` suffix, microseconds when non-zero."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


Timestamp = Annotated[datetime, PlainSerializer(format_timestamp, return_type=str)]


class CamelModel(BaseModel):
    """Serialises field `like_this` as `likeThis` (API bodies, events, search documents)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)
