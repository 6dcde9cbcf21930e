"""Follow and unfollow: each change in one transaction with its counter and outbox event."""

from __future__ import annotations

from uuid import UUID

from phasma.blocks.queries import blocked_between
from phasma.db.pool import Database, Executor
from phasma.events.catalogue import FollowChanged
from phasma.events.outbox import record_event
from phasma.follows import queries
from phasma.http.errors import BadRequest, Forbidden, NotFound
from phasma.sessions.queries import Viewer

SOURCE = "follows"


def _target(executor: Executor, username: str) -> queries.UserKey:
    target = queries.user_key(executor, username)
    if target is None:
        raise NotFound()
    return target


def _record(
    executor: Executor, event_type: str, follower_public_id: UUID, followee: queries.UserKey
) -> None:
    record_event(
        executor,
        event_type=event_type,
        source_function=SOURCE,
        subject=str(followee["public_id"]),
        payload=FollowChanged(actor_id=follower_public_id, recipient_id=followee["public_id"]),
    )


def follow(database: Database, viewer: Viewer, username: str) -> None:
    """Follow `username`; following them already is a no-op (no counter change, no event)."""
    with database.transaction() as executor:
        # Locked first, as `blocks.actions.block` locks both accounts: a block and a
        # follow between the same two run one after the other, so a block never misses
        # a follow committed beside it and a follow never slips past a new block.
        followee = queries.lock_user_key(executor, username)
        if followee is None:
            raise NotFound()
        if followee["id"] == viewer.user_id:
            raise BadRequest("you cannot follow yourself")
        if blocked_between(executor, viewer.user_id, followee["id"]):
            raise Forbidden("you cannot follow this account")
        if not queries.insert_follow(executor, viewer.user_id, followee["id"]):
            return
        queries.count_new_follower(executor, followee["id"])
        _record(executor, "phasma.user.followed", viewer.user_public_id, followee)


def unfollow(database: Database, viewer: Viewer, username: str) -> None:
    """Stop following `username`; not following them (or oneself) is a no-op."""
    with database.transaction() as executor:
        followee = _target(executor, username)
        follower = queries.UserKey(id=viewer.user_id, public_id=viewer.user_public_id)
        remove_follow(executor, follower, followee)


def remove_follow(executor: Executor, follower: queries.UserKey, followee: queries.UserKey) -> None:
    """Inside the caller's transaction: end `follower`'s follow of `followee` (each an `id` and
    `public_id`), with its counter and `phasma.user.unfollowed`; no follow is a no-op.

    An unfollow and a block (both directions) run this, so both say the same downstream.
    """
    if not queries.delete_follow(executor, follower["id"], followee["id"]):
        return
    queries.count_lost_follower(executor, followee["id"])
    _record(executor, "phasma.user.unfollowed", follower["public_id"], followee)
