"""Blocks, mutes and private accounts for tests, in ONE place: written through the API,
read back by the rows that record them.

Every test that needs one of these calls them, so the routes under test are the ones
a person uses: `PUT /users/{username}/block` (which also ends follows and pending
requests both ways), `PUT /users/{username}/mute` and `PUT /users/me` with `private`.
"""

from __future__ import annotations

from tests.api.conftest import Account, Database


def block(blocker: Account, blocked: Account) -> None:
    """`blocker` blocks `blocked` (docs/api.md §D)."""
    response = blocker.client.put(f"/users/{blocked.username}/block")
    assert response.status_code == 204, response.text


def mute(muter: Account, muted: Account) -> None:
    """`muter` mutes `muted` (docs/api.md §D)."""
    response = muter.client.put(f"/users/{muted.username}/mute")
    assert response.status_code == 204, response.text


def make_private(account: Account) -> None:
    """`account` switches to private (docs/api.md §E), its other fields unchanged."""
    body = {"name": account.name, "username": account.username, "email": account.email}
    response = account.client.put("/users/me", json={**body, "private": True})
    assert response.status_code == 204, response.text


def _pair_rows(database: Database, table: str, first: str, second: str, a: str, z: str) -> int:
    return int(
        database.value(
            f"""
            SELECT count(*) FROM {table} r
            JOIN users a ON a.id = r.{first} JOIN users z ON z.id = r.{second}
            WHERE a.username = :a AND z.username = :z
            """,
            a=a,
            z=z,
        )
    )


def block_rows(database: Database, blocker: str, blocked: str) -> int:
    """How many `blocks` rows say `blocker` blocked `blocked` (0 or 1)."""
    return _pair_rows(database, "blocks", "blocker_id", "blocked_id", blocker, blocked)


def mute_rows(database: Database, muter: str, muted: str) -> int:
    """How many `mutes` rows say `muter` muted `muted` (0 or 1)."""
    return _pair_rows(database, "mutes", "muter_id", "muted_id", muter, muted)


def follows(database: Database, follower: str, followee: str) -> bool:
    """Whether `follower` follows `followee` (by usernames)."""
    return bool(_pair_rows(database, "follows", "follower_id", "followee_id", follower, followee))
