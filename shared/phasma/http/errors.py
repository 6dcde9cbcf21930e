"""Errors a handler raises to answer with a status and `{"message": ...}` body."""

from __future__ import annotations


class HttpError(Exception):
    """An expected failure answered as JSON `{"message": message}` with `status`."""

    status = 500
    default_message = "Internal Server Error"

    def __init__(self, message: str | None = None, *, headers: dict[str, str] | None = None):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.headers = headers or {}


class BadRequest(HttpError):
    status = 400
    default_message = "Bad Request"


class Unauthorized(HttpError):
    status = 401
    default_message = "Unauthorized"


class Forbidden(HttpError):
    status = 403
    default_message = "Forbidden"


class NotFound(HttpError):
    status = 404
    default_message = "Not Found"


class MethodNotAllowed(HttpError):
    status = 405
    default_message = "Method Not Allowed"


class Conflict(HttpError):
    status = 409
    default_message = "Conflict"


class PayloadTooLarge(HttpError):
    status = 413
    default_message = "Payload Too Large"


class UnsupportedMediaType(HttpError):
    status = 415
    default_message = "Unsupported Media Type"


class TooManyRequests(HttpError):
    status = 429
    default_message = "Too many requests"


class ServiceUnavailable(HttpError):
    status = 503
    default_message = "Service unavailable"
