"""JSON request bodies (api.md §7) and the pydantic types their models use."""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StrictStr,
    ValidationError,
)
from werkzeug import Request

from phasma.config import Limits
from phasma.http.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

Body = TypeVar("Body", bound="RequestBody")


def _none_as_empty(value: Any) -> Any:
    return "" if value is None else value


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")  # PostgreSQL text cannot hold one
    return value


# A string field: missing or null counts as "", any other non-string is a 400.
Text = Annotated[StrictStr, BeforeValidator(_none_as_empty), AfterValidator(_no_nul)]


class RequestBody(BaseModel):
    """Base of every JSON body model: unknown fields ignored, camelCase names accepted."""

    model_config = ConfigDict(extra="ignore", frozen=True)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def read_json_object(request: Request) -> dict[str, Any]:
    """The request's JSON object, enforcing content type, size and syntax."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("Content-Type must be application/json")
    limit = Limits.JSON_BODY_MAX_BYTES
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge("Request body is too large")
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        raise PayloadTooLarge("Request body is too large")
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("Request body must be valid JSON") from None
    if not isinstance(value, dict):
        raise BadRequest("Request body must be a JSON object")
    return value


def parse_body(model: type[Body], data: dict[str, Any]) -> Body:
    """Validate `data` against `model`; a wrong field type is a 400 naming the field."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        if first["type"] == "value_error":
            raise BadRequest(f"{field} {first['ctx']['error']}") from None
        raise BadRequest(f"{field} has the wrong type") from None
