"""The account field rules (docs/domain.md §2.1) and the User shape every slice returns.

Below the slices: the `users` slice enforces the rules, and the site (`phasma.frontend`)
checks a settings form with the same rules before it calls the backend. The User shape
(its select list, row and API model) is here rather than in `users` because the
`follows` slice lists users and `users` turns pending follow requests into follows
when an account goes public: each needs the other, so the shared part sits below both.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal, TypedDict
from uuid import UUID

from phasma.config import Limits
from phasma.errors import BadRequest
from phasma.models import CamelModel, Timestamp
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


# The roles of docs/api.md §D, lowest first (moderation ranks them by this order).
Role = Literal["member", "moderator", "admin"]


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
    private: bool  # docs/api.md §E: only followers see the posts and lists
    follow_requested: bool  # the viewer has a pending request (false anonymous)


# The select list of the User shape (docs/api.md §9.1) over `users u`, for every slice that
# returns users: select it with a `:viewer_id` parameter and pass each row to `to_user`.
# Likes given and accounts followed are live counts (docs/domain.md §2.7); the viewer
# decides `isFollowing`, `followRequested` (a pending request to a private account,
# docs/api.md §E) and whether `email` is shown. `is_following` is a scalar
# subquery, not EXISTS, for the reason given at `posts.queries.POST_COLUMNS`: one
# primary-key probe per listed user under any plan.


USER_COLUMNS = """
    u.id, u.public_id, u.name, u.username, u.email, u.avatar, u.bio,
    u.post_count, u.follower_count, u.created,
    (SELECT count(*) FROM likes WHERE likes.user_id = u.id) AS likes_given,
    (SELECT count(*) FROM follows WHERE follows.follower_id = u.id) AS following_count,
    COALESCE((
        SELECT true FROM follows
        WHERE follows.follower_id = CAST(:viewer_id AS bigint) AND follows.followee_id = u.id
    ), false) AS is_following,
    u.private,
    COALESCE((
        SELECT true FROM follow_requests
        WHERE follow_requests.requester_id = CAST(:viewer_id AS bigint)
          AND follow_requests.target_id = u.id
    ), false) AS follow_requested
"""


class UserRow(TypedDict):
    """A row selected with USER_COLUMNS."""

    id: int
    public_id: UUID
    name: str
    username: str
    email: str
    avatar: str | None
    bio: str | None
    post_count: int
    follower_count: int
    created: datetime
    likes_given: int
    following_count: int
    is_following: bool
    private: bool
    follow_requested: bool


def to_user(row: UserRow, viewer_id: int | None) -> User:
    """The API shape of a user row as `viewer_id` may see it."""
    return User(
        id=row["public_id"],
        name=row["name"],
        username=row["username"],
        email=row["email"] if row["id"] == viewer_id else "",
        avatar=row["avatar"],
        bio=row["bio"],
        posts=row["post_count"],
        likes=row["likes_given"],
        followers=row["follower_count"],
        following=row["following_count"],
        is_following=bool(row["is_following"]) and row["id"] != viewer_id,
        created=row["created"],
        private=row["private"],
        follow_requested=bool(row["follow_requested"]),
    )
