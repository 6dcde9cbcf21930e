"""Blocks, mutes and private accounts for tests, in ONE place.

The `PUT /users/{username}/block` and `/mute` routes and the `private` field of
`PUT /users/me` are built beside the read side; until they are merged, these helpers
write the rows directly. Switching them to the API happens here and nowhere else:
`block(database, a, b)` becomes `a.client.put(f"/users/{b.username}/block")` (which also
removes the follows both ways), `mute` the same with `/mute`, and `make_private` a
`PUT /users/me` with `{"private": true}`. Every test that needs one of these calls them.
"""

from __future__ import annotations

from tests.api.conftest import Account, Database


def block(database: Database, blocker: Account, blocked: Account) -> None:
    """`blocker` blocks `blocked` (api-2.md §D)."""
    database.rows(
        """
        INSERT INTO blocks (blocker_id, blocked_id)
        SELECT blocker.id, blocked.id FROM users blocker, users blocked
        WHERE blocker.username = :blocker AND blocked.username = :blocked
        ON CONFLICT DO NOTHING
        """,
        blocker=blocker.username,
        blocked=blocked.username,
    )


def mute(database: Database, muter: Account, muted: Account) -> None:
    """`muter` mutes `muted` (api-2.md §D)."""
    database.rows(
        """
        INSERT INTO mutes (muter_id, muted_id)
        SELECT muter.id, muted.id FROM users muter, users muted
        WHERE muter.username = :muter AND muted.username = :muted
        ON CONFLICT DO NOTHING
        """,
        muter=muter.username,
        muted=muted.username,
    )


def make_private(database: Database, account: Account) -> None:
    """`account` switches to private (api-2.md §E)."""
    database.rows("UPDATE users SET private = true WHERE username = :u", u=account.username)
