"""Request bodies and the User response shape; the field rules are `phasma.accounts`."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import Field

from phasma.http.bodies import RequestBody, Text
from phasma.models import CamelModel, Timestamp

# The roles of api-2.md §D, lowest first (moderation ranks them by this order).
Role = Literal["member", "moderator", "admin"]


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
    """api.md §9.1."""

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
    """The signed-in account's own view (`GET /users/me`): api-2 §B adds `emailVerified`,
    §D the account's `role` (never shown to anyone else)."""

    email_verified: bool
    role: Role


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
