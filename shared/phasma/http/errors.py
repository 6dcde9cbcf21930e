"""Errors a handler raises to answer with a status and `{"message": ...}` body.

They are the domain errors of `phasma.errors` (one class hierarchy, so the pipeline
answers an action's `NotFound` and a handler's alike); `HttpError` is their base
under the name the HTTP layer uses.
"""

from __future__ import annotations

from phasma.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
)
from phasma.errors import DomainError as HttpError

__all__ = [
    "BadRequest",
    "Conflict",
    "Forbidden",
    "HttpError",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "ServiceUnavailable",
    "TooManyRequests",
    "Unauthorized",
    "UnsupportedMediaType",
]
