"""Follow and unfollow: each change in one transaction with its counter and outbox event."""

from __future__ import annotations

from uuid import UUID

from phasma.auth.sessions import Viewer
from phasma.db.pool import Database, Executor
from phasma.errors import BadRequest, Forbidden, NotFound
from phasma.events.catalogue import FollowChanged
from phasma.events.outbox import record_event
from phasma.follows import queries

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
        # Locked first, as `block` below locks both accounts: a block and a
        # follow between the same two run one after the other, so a block never misses
        # a follow committed beside it and a follow never slips past a new block.
        followee = queries.lock_user_key(executor, username)
        if followee is None:
            raise NotFound()
        if followee["id"] == viewer.user_id:
            raise BadRequest("you cannot follow yourself")
        if queries.blocked_between(executor, viewer.user_id, followee["id"]):
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


# -- blocks and mutes (api-2.md §D) -------------------------------------------------
#
# Block, unblock, mute and unmute: each idempotent, in one transaction.
# A block ends the follows between the two accounts through the follows slice's own
# `remove_follow`, so counters and `phasma.user.unfollowed` events are exactly an
# unfollow's; blocks and mutes themselves emit no event: nothing downstream keeps state
# about them, every read applies them when it runs (`users.queries.visible`,
# `not_muted`).


def _other(executor: Executor, viewer: Viewer, username: str, verb: str) -> queries.UserKey:
    target = queries.user_key(executor, username)
    if target is None:
        raise NotFound()
    if target["id"] == viewer.user_id:
        raise BadRequest(f"you cannot {verb} yourself")
    return target


def block(database: Database, viewer: Viewer, username: str) -> None:
    """Block `username`: follows both ways end (each as an unfollow); blocking again is a no-op.

    No follow request is withdrawn here: this branch has no `follow_requests` table.
    """
    with database.transaction() as executor:
        target = _other(executor, viewer, username, "block")
        queries.lock_pair(executor, viewer.user_id, target["id"])
        if not queries.insert_block(executor, viewer.user_id, target["id"]):
            return
        me = queries.UserKey(id=viewer.user_id, public_id=viewer.user_public_id)
        remove_follow(executor, me, target)
        remove_follow(executor, target, me)


def unblock(database: Database, viewer: Viewer, username: str) -> None:
    """Lift the viewer's block of `username` (the follows do not come back); none is a no-op."""
    with database.transaction() as executor:
        target = _other(executor, viewer, username, "unblock")
        queries.delete_block(executor, viewer.user_id, target["id"])


def mute(database: Database, viewer: Viewer, username: str) -> None:
    """Mute `username`; muting again is a no-op. Nothing else changes (api-2.md §D)."""
    with database.transaction() as executor:
        target = _other(executor, viewer, username, "mute")
        queries.insert_mute(executor, viewer.user_id, target["id"])


def unmute(database: Database, viewer: Viewer, username: str) -> None:
    """Lift the viewer's mute of `username`; none is a no-op."""
    with database.transaction() as executor:
        target = _other(executor, viewer, username, "unmute")
        queries.delete_mute(executor, viewer.user_id, target["id"])
