"""JSON request bodies (docs/api.md §7, §A.7) and the pydantic types their models use."""

from __future__ import annotations

import json
import math
import re
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


class InvalidJson(ValueError):
    """A body `decode_json` refuses; the text says why, for the client's 400."""


def _reject_constant(name: str) -> float:
    raise InvalidJson(f"Request body must be valid JSON ({name} is not a JSON number)")


# PostgreSQL's widest integer: a larger one could only fail later, as a 500.
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


def _bounded_int(digits: str) -> int:
    # Python refuses more than 4300 digits itself; the length check keeps int() cheap.
    value = int(digits) if len(digits) <= 20 else None
    if value is None or not _INT_MIN <= value <= _INT_MAX:
        raise InvalidJson("Request body has a number out of range")
    return value


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses as infinity
        raise InvalidJson("Request body has a number out of range")
    return value


# A JSON string (possessive, so an unterminated one costs one pass, not one per quote)
# or a bracket. Control characters, which JSON forbids in strings, make json.loads stop
# at that string, before any nesting after it.
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*+"?|[\[\]{}]', re.DOTALL)


def nesting_depth_exceeds(text: str, limit: int) -> bool:
    """Whether `text` nests arrays and objects deeper than `limit`, brackets inside strings
    not counted: a linear scan, so that json.loads never recurses deeper than `limit`."""
    if text.count("[") + text.count("{") <= limit:
        return False  # the common case: too few brackets to nest that deep
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        first = match.group()[0]
        if first in "[{":
            depth += 1
            if depth > limit:
                return True
        elif first in "]}":
            depth -= 1
    return False


def decode_json(raw: bytes) -> Any:
    """Parse a body as JSON; `InvalidJson` (a ValueError) for anything that is not plainly
    JSON: bad UTF-8, bad syntax, NaN/Infinity, nesting deeper than `JSON_MAX_DEPTH`,
    numbers out of range, lone UTF-16 surrogates (PostgreSQL cannot store them)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidJson("Request body must be UTF-8") from None
    if nesting_depth_exceeds(text, Limits.JSON_MAX_DEPTH):
        raise InvalidJson(f"Request body is nested deeper than {Limits.JSON_MAX_DEPTH} levels")
    try:
        value = json.loads(
            text,
            parse_constant=_reject_constant,
            parse_int=_bounded_int,
            parse_float=_finite_float,
        )
    except InvalidJson:
        raise
    except ValueError:
        raise InvalidJson("Request body must be valid JSON") from None
    if "\\u" in text:
        # Only an escape can produce a surrogate; a paired one was joined into one character.
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidJson("Request body must be valid JSON (unpaired surrogate)") from None
    return value


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
        value = decode_json(raw)
    except InvalidJson as error:
        raise BadRequest(str(error)) from None
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
