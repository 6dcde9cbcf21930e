"""Request bodies and the User response shape; the field rules are `phasma.accounts`."""

from __future__ import annotations

from pydantic import Field, StrictBool

from phasma.accounts import Role, User
from phasma.http.bodies import RequestBody, Text
from phasma.models import CamelModel


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
    # docs/api.md §E. Missing or null keeps the current setting, so a client that predates
    # it never turns an account public by saving its profile; a non-boolean is a 400.
    private: StrictBool | None = None


class OwnUser(User):
    """The signed-in account's own view (`GET /users/me`): `emailVerified` (docs/api.md §B)
    and the account's `role` (docs/api.md §D.4, never shown to anyone else)."""

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
