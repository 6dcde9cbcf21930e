"""Request bodies, the User response shape and the field rules (docs/domain.md §2.1)."""

from __future__ import annotations

import re
from uuid import UUID

from pydantic import Field

from phasma.config import Limits
from phasma.http.bodies import RequestBody, Text
from phasma.http.errors import BadRequest
from phasma.models import CamelModel, Timestamp
from phasma.text import USERNAME_PATTERN

# `\s` is ASCII whitespace in the spec, hence re.ASCII.
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+", re.ASCII)


class RegisterBody(RequestBody):
    name: Text = ""
    username: Text = ""
    email: Text = ""
    password: Text = ""


class UpdateMeBody(RequestBody):
    name: Text = ""
    username: Text = ""
    email: Text = ""
    avatar: Text = ""
    bio: Text = ""
    password: Text = ""
    old_password: Text = Field("", alias="oldPassword")


class User(CamelModel):
    """docs/api.md §9.1."""

    id: UUID
    name: str
    username: str
    email: str
    avatar: str | None
    bio: str | None
    posts: int
    likes: int
    followers: int
    following: int
    is_following: bool
    created: Timestamp


class OwnUser(User):
    """The signed-in account's own view (`GET /users/me`): docs/api.md §B adds `emailVerified`."""

    email_verified: bool


class TokenBody(RequestBody):
    token: Text = ""


class EmailBody(RequestBody):
    email: Text = ""


class DeleteAccountBody(RequestBody):
    password: Text = ""


class NewPasswordBody(RequestBody):
    password: Text = ""


class UserList(CamelModel):
    """`{"items": [User, ...]}` without a cursor (`GET /users/suggested`)."""

    items: list[User]


class ProfileFields:
    """Normalised, validated profile fields shared by registration and profile updates."""

    def __init__(self, name: str, username: str, email: str) -> None:
        self.name = name.strip()
        self.username = username.strip().lower()
        self.email = email.strip().lower()

    def validate(self, *, password: str | None = None) -> None:
        """Raise 400 for the first rule broken, in the order of docs/api.md §10."""
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
