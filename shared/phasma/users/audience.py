"""The statuses of an account's posts and follow lists for one viewer (api-2.md §D, §E).

`GET /users/{username}/posts`, `/followers` and `/following` answer alike: 404 when the
account is gone for the viewer (absent, removed, suspended, or a block either way), 403
when it is private and the viewer neither owns nor follows it. The rule itself is SQL in
`phasma.users.queries` (`visible`, `shows_posts`); this only turns its answer into HTTP.
"""

from __future__ import annotations

from phasma.http.errors import Forbidden, NotFound
from phasma.users.queries import Audience

PRIVATE_ACCOUNT = "This account is private"


def open_account_id(audience: Audience | None) -> int:
    """The account's internal id when the viewer may read its posts and lists."""
    if audience is None:
        raise NotFound()
    if not audience.shows_posts:
        raise Forbidden(PRIVATE_ACCOUNT)
    return audience.user_id
