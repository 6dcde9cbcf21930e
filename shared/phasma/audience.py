"""What one viewer may see of one account, for the routes of its posts and lists.

`GET /users/{username}/posts`, `/likes`, `/followers` and `/following` answer alike
(docs/api.md §D, §E): 404 when the account is gone for the viewer (absent, removed,
suspended, or a block either way), 403 when it is private and the viewer neither owns
nor follows it. The rule itself is SQL in `phasma.visibility`; this reads its answer
for one account, and gives it to engines that filter by value (Meilisearch) as lists.
Below the slices because `posts`, `likes`, `follows` and `search` all ask it.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from phasma.db.pool import Executor
from phasma.errors import Forbidden, NotFound
from phasma.visibility import shows_posts, visible

PRIVATE_ACCOUNT = "This account is private"


@dataclass(frozen=True)
class Audience:
    """What the viewer may see of an account they can meet: its id, and whether its posts
    and follow lists are open to them (`shows_posts`)."""

    user_id: int
    shows_posts: bool


def audience(executor: Executor, username: str, viewer_id: int | None) -> Audience | None:
    """The viewer's audience of `username`; None when the account is gone for them."""
    row = executor.fetch_one(
        f"""
        SELECT u.id, {shows_posts("u")} AS shows_posts
        FROM users u WHERE u.username = :username AND {visible("u")}
        """,
        username=username,
        viewer_id=viewer_id,
    )
    return Audience(row["id"], bool(row["shows_posts"])) if row else None


def open_account_id(audience: Audience | None) -> int:
    """The account's internal id when the viewer may read its posts and lists."""
    if audience is None:
        raise NotFound()
    if not audience.shows_posts:
        raise Forbidden(PRIVATE_ACCOUNT)
    return audience.user_id


# The same rule as lists of public ids, for an engine that filters by value rather than
# probing these tables (Meilisearch): the accounts a block hides from the viewer (either
# direction), and the private accounts whose posts the viewer may see (their own, and
# those they follow). `shows_posts` is then "not hidden, and public or in the second list".
_AUDIENCE_LISTS = """
    SELECT users.public_id, true AS hidden
    FROM blocks JOIN users ON users.id = blocks.blocked_id
    WHERE blocks.blocker_id = :viewer_id
    UNION
    SELECT users.public_id, true AS hidden
    FROM blocks JOIN users ON users.id = blocks.blocker_id
    WHERE blocks.blocked_id = :viewer_id
    UNION ALL
    SELECT users.public_id, false AS hidden
    FROM follows JOIN users ON users.id = follows.followee_id
    WHERE follows.follower_id = :viewer_id AND users.private
    UNION ALL
    SELECT users.public_id, false AS hidden FROM users WHERE users.id = :viewer_id
"""


def audience_lists(executor: Executor, viewer_id: int) -> tuple[list[UUID], list[UUID]]:
    """(hidden, private_shown): see `_AUDIENCE_LISTS`."""
    rows = executor.fetch_all(_AUDIENCE_LISTS, viewer_id=viewer_id)
    hidden = [row["public_id"] for row in rows if row["hidden"]]
    return hidden, [row["public_id"] for row in rows if not row["hidden"]]
