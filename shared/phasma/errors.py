"""Expected failures that carry the contract's status: `{"message": ...}` with `status`.

Below every slice and the HTTP plumbing, so domain code (actions, pagination, image
checks, the per-process bounds) says *what* went wrong without speaking HTTP; the
pipeline (`phasma.http.pipeline`) turns a `DomainError` into its response, and
`phasma.http.errors` re-exports these classes for handlers.
"""

from __future__ import annotations


class DomainError(Exception):
    """An expected failure answered as JSON `{"message": message}` with `status`."""

    status = 500
    default_message = "Internal Server Error"

    def __init__(self, message: str | None = None, *, headers: dict[str, str] | None = None):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.headers = headers or {}


class BadRequest(DomainError):
    status = 400
    default_message = "Bad Request"


class Unauthorized(DomainError):
    status = 401
    default_message = "Unauthorized"


class Forbidden(DomainError):
    status = 403
    default_message = "Forbidden"


class NotFound(DomainError):
    status = 404
    default_message = "Not Found"


class MethodNotAllowed(DomainError):
    status = 405
    default_message = "Method Not Allowed"


class Conflict(DomainError):
    status = 409
    default_message = "Conflict"


class PayloadTooLarge(DomainError):
    status = 413
    default_message = "Payload Too Large"


class UnsupportedMediaType(DomainError):
    status = 415
    default_message = "Unsupported Media Type"


class TooManyRequests(DomainError):
    status = 429
    default_message = "Too many requests"


class ServiceUnavailable(DomainError):
    status = 503
    default_message = "Service unavailable"
