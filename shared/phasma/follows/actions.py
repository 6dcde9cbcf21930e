"""Follow and unfollow: each change in one transaction with its counter and outbox event."""

from __future__ import annotations

from typing import Any

from phasma.auth.sessions import Viewer
from phasma.db.pool import Database, Executor
from phasma.errors import BadRequest, NotFound
from phasma.events.catalogue import FollowChanged
from phasma.events.outbox import record_event
from phasma.follows import queries

SOURCE = "follows"


def _target(executor: Executor, username: str) -> dict[str, Any]:
    target = queries.user_key(executor, username)
    if target is None:
        raise NotFound()
    return target


def _record(executor: Executor, event_type: str, viewer: Viewer, followee: dict[str, Any]) -> None:
    record_event(
        executor,
        event_type=event_type,
        source_function=SOURCE,
        subject=str(followee["public_id"]),
        payload=FollowChanged(actor_id=viewer.user_public_id, recipient_id=followee["public_id"]),
    )


def follow(database: Database, viewer: Viewer, username: str) -> None:
    """Follow `username`; following them already is a no-op (no counter change, no event)."""
    with database.transaction() as executor:
        followee = _target(executor, username)
        if followee["id"] == viewer.user_id:
            raise BadRequest("you cannot follow yourself")
        if not queries.insert_follow(executor, viewer.user_id, followee["id"]):
            return
        queries.count_new_follower(executor, followee["id"])
        _record(executor, "phasma.user.followed", viewer, followee)


def unfollow(database: Database, viewer: Viewer, username: str) -> None:
    """Stop following `username`; not following them (or oneself) is a no-op."""
    with database.transaction() as executor:
        followee = _target(executor, username)
        if not queries.delete_follow(executor, viewer.user_id, followee["id"]):
            return
        queries.count_lost_follower(executor, followee["id"])
        _record(executor, "phasma.user.unfollowed", viewer, followee)
