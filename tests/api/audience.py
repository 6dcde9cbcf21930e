"""Blocks, mutes and private accounts for tests, in ONE place, through the API.

Every test that needs one of these calls them, so the routes under test are the ones
a person uses: `PUT /users/{username}/block` (which also ends follows and pending
requests both ways), `PUT /users/{username}/mute` and `PUT /users/me` with `private`.
"""

from __future__ import annotations

from tests.api.conftest import Account


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
