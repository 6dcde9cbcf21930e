"""Response builders: JSON with the contract's headers, 204 without a body."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from werkzeug import Response

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


def json_response(payload: Any, status: int = 200) -> Response:
    """`payload` (a pydantic model, dict or list) as JSON; models dump by alias (camelCase)."""
    if isinstance(payload, BaseModel):
        body = payload.model_dump_json(by_alias=True)
    else:
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    response = Response(body, status=status, content_type=JSON_CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """The contract's error body `{"message": ...}`."""
    response = json_response({"message": message}, status)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def no_content() -> Response:
    """204: no body and no Content-Type (docs/api.md §1)."""
    response = Response(status=204)
    del response.headers["Content-Type"]
    return response
