"""The account field rules (domain.md §2.1): name, username, email and a new password.

Below the slices: the `users` slice enforces them, and the site (`phasma.frontend`)
checks a settings form with the same rules before it calls the backend.
"""

from __future__ import annotations

import re

from phasma.config import Limits
from phasma.errors import BadRequest
from phasma.text import USERNAME_PATTERN

# `\s` is ASCII whitespace in the spec, hence re.ASCII.
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+", re.ASCII)


class ProfileFields:
    """Normalised, validated profile fields shared by registration and profile updates."""

    def __init__(self, name: str, username: str, email: str) -> None:
        self.name = name.strip()
        self.username = username.strip().lower()
        self.email = email.strip().lower()

    def validate(self, *, password: str | None = None) -> None:
        """Raise 400 for the first rule broken, in the order of api.md §10."""
        required = [self.name, self.username, self.email]
        if password is not None:
            required.append(password)
        if not all(required):
            raise BadRequest("name, username and email are required")
        if len(self.name) > Limits.NAME_MAX_CHARS:
            raise BadRequest(f"name must be at most {Limits.NAME_MAX_CHARS} characters")
        if not USERNAME_PATTERN.fullmatch(self.username):
            raise BadRequest("username must be 3-30 of a-z, 0-9, '.' and '_'")
        if password is not None:
            validate_new_password(password)
        if len(self.email) > Limits.EMAIL_MAX_CHARS or not EMAIL_PATTERN.fullmatch(self.email):
            raise BadRequest("email is not a valid address")


def validate_new_password(password: str) -> None:
    """8-128 UTF-8 bytes, untrimmed; checked only where a password is set."""
    size = len(password.encode("utf-8"))
    if not Limits.PASSWORD_MIN_BYTES <= size <= Limits.PASSWORD_MAX_BYTES:
        raise BadRequest(
            f"password must be {Limits.PASSWORD_MIN_BYTES}-{Limits.PASSWORD_MAX_BYTES} bytes"
        )
