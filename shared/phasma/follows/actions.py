"""Follow, unfollow, follow requests, blocks and mutes: each change in one transaction
with its counters and outbox events."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from phasma.auth.sessions import Viewer
from phasma.db.pool import Database, Executor
from phasma.errors import BadRequest, Forbidden, NotFound
from phasma.events.catalogue import FollowChanged
from phasma.events.outbox import record_event
from phasma.follows import queries

SOURCE = "follows"

# What `follow` did: a follow (public account, or already followed) or a pending
# request (a private account the viewer does not follow, docs/api.md §E).
FollowOutcome = Literal["followed", "requested"]


def _target(executor: Executor, username: str) -> queries.UserKey:
    target = queries.user_key(executor, username)
    if target is None:
        raise NotFound()
    return target


def _record(executor: Executor, event_type: str, actor_id: UUID, recipient_id: UUID) -> None:
    record_event(
        executor,
        event_type=event_type,
        source_function=SOURCE,
        subject=str(recipient_id),
        payload=FollowChanged(actor_id=actor_id, recipient_id=recipient_id),
    )


def follow(database: Database, viewer: Viewer, username: str) -> FollowOutcome:
    """Follow `username`, or ask to when the account is private; each is idempotent
    (no counter change, no event the second time)."""
    with database.transaction() as executor:
        # Locked first, as `block` below locks both accounts: a block and a follow
        # between the same two run one after the other, so a block never misses a
        # follow committed beside it and a follow never slips past a new block. A
        # privacy switch locks the same row (see `queries.lock_followee`).
        followee = queries.lock_followee(executor, username)
        if followee is None:
            raise NotFound()
        if followee["id"] == viewer.user_id:
            raise BadRequest("you cannot follow yourself")
        if queries.blocked_between(executor, viewer.user_id, followee["id"]):
            raise Forbidden("you cannot follow this account")
        if followee["private"] and not queries.is_following(
            executor, viewer.user_id, followee["id"]
        ):
            if queries.insert_request(executor, viewer.user_id, followee["id"]):
                _record(
                    executor,
                    "phasma.user.follow_requested",
                    viewer.user_public_id,
                    followee["public_id"],
                )
            return "requested"
        if queries.insert_follow(executor, viewer.user_id, followee["id"]):
            queries.count_new_follower(executor, followee["id"])
            _record(executor, "phasma.user.followed", viewer.user_public_id, followee["public_id"])
        return "followed"


def unfollow(database: Database, viewer: Viewer, username: str) -> None:
    """Stop following `username` and withdraw a pending request to them; neither (or
    oneself) is a no-op."""
    with database.transaction() as executor:
        followee = _target(executor, username)
        follower = queries.UserKey(id=viewer.user_id, public_id=viewer.user_public_id)
        withdraw_request(executor, follower, followee)
        remove_follow(executor, follower, followee)


def remove_follow(executor: Executor, follower: queries.UserKey, followee: queries.UserKey) -> None:
    """Inside the caller's transaction: end `follower`'s follow of `followee`, with its
    counter and `phasma.user.unfollowed`; no follow is a no-op.

    An unfollow and a block (both directions) run this, so both say the same downstream.
    """
    if not queries.delete_follow(executor, follower["id"], followee["id"]):
        return
    queries.count_lost_follower(executor, followee["id"])
    _record(executor, "phasma.user.unfollowed", follower["public_id"], followee["public_id"])


def withdraw_request(
    executor: Executor, requester: queries.UserKey, target: queries.UserKey
) -> None:
    """Inside the caller's transaction: `requester`'s pending request to `target` is gone,
    with `phasma.user.follow_request_closed`; none is a no-op (an unfollow, a block)."""
    if queries.delete_request(executor, requester["id"], target["id"]):
        _record(
            executor,
            "phasma.user.follow_request_closed",
            requester["public_id"],
            target["public_id"],
        )


def _take_request(executor: Executor, viewer: Viewer, username: str) -> queries.UserKey:
    """`username`'s pending request to the viewer, now gone (with its closing event); the
    requester's key. No such request: 404."""
    requester = _target(executor, username)
    if not queries.delete_request(executor, requester["id"], viewer.user_id):
        raise NotFound()
    _record(
        executor, "phasma.user.follow_request_closed", requester["public_id"], viewer.user_public_id
    )
    return requester


def _follow_accepted(
    executor: Executor, requester: queries.UserKey, target: queries.UserKey
) -> bool:
    """The follow an accepted request becomes (its event, not its counter: the caller
    counts one or many); False when it already existed."""
    if not queries.insert_follow(executor, requester["id"], target["id"]):
        return False
    _record(executor, "phasma.user.followed", requester["public_id"], target["public_id"])
    return True


def accept_request(database: Database, viewer: Viewer, username: str) -> None:
    """The viewer accepts `username`'s pending request: it becomes a follow, with the
    counter and the `phasma.user.followed` event any follow has. No request: 404."""
    with database.transaction() as executor:
        requester = _take_request(executor, viewer, username)
        me = queries.UserKey(id=viewer.user_id, public_id=viewer.user_public_id)
        if _follow_accepted(executor, requester, me):
            queries.count_new_follower(executor, viewer.user_id)


def decline_request(database: Database, viewer: Viewer, username: str) -> None:
    """The viewer declines `username`'s pending request: it is gone. No request: 404."""
    with database.transaction() as executor:
        _take_request(executor, viewer, username)


def accept_all_requests(executor: Executor, target_id: int, target_public_id: UUID) -> int:
    """Inside the caller's transaction (an account turning public, docs/api.md §E): every
    pending request to `target_id` becomes a follow, each with the events an accepted
    request has. The caller holds the target's row lock. Returns the follows made."""
    target = queries.UserKey(id=target_id, public_id=target_public_id)
    made = 0
    for requester in queries.take_all_requests(executor, target_id):
        _record(
            executor, "phasma.user.follow_request_closed", requester["public_id"], target_public_id
        )
        made += _follow_accepted(executor, requester, target)
    if made:
        queries.count_new_followers(executor, target_id, made)
    return made


# -- blocks and mutes (docs/api.md §D) -------------------------------------------------
#
# Block, unblock, mute and unmute: each idempotent, in one transaction.
# A block ends the follows between the two accounts through the follows slice's own
# `remove_follow`, so counters and `phasma.user.unfollowed` events are exactly an
# unfollow's; blocks and mutes themselves emit no event: nothing downstream keeps state
# about them, every read applies them when it runs (`visibility.visible`,
# `not_muted`).


def _other(executor: Executor, viewer: Viewer, username: str, verb: str) -> queries.UserKey:
    target = queries.user_key(executor, username)
    if target is None:
        raise NotFound()
    if target["id"] == viewer.user_id:
        raise BadRequest(f"you cannot {verb} yourself")
    return target


def block(database: Database, viewer: Viewer, username: str) -> None:
    """Block `username`: follows both ways end (each as an unfollow), and so do pending
    follow requests both ways (each as a withdrawal); blocking again is a no-op."""
    with database.transaction() as executor:
        target = _other(executor, viewer, username, "block")
        queries.lock_pair(executor, viewer.user_id, target["id"])
        if not queries.insert_block(executor, viewer.user_id, target["id"]):
            return
        me = queries.UserKey(id=viewer.user_id, public_id=viewer.user_public_id)
        remove_follow(executor, me, target)
        remove_follow(executor, target, me)
        withdraw_request(executor, me, target)
        withdraw_request(executor, target, me)


def unblock(database: Database, viewer: Viewer, username: str) -> None:
    """Lift the viewer's block of `username` (the follows do not come back); none is a no-op."""
    with database.transaction() as executor:
        target = _other(executor, viewer, username, "unblock")
        queries.delete_block(executor, viewer.user_id, target["id"])


def mute(database: Database, viewer: Viewer, username: str) -> None:
    """Mute `username`; muting again is a no-op. Nothing else changes (docs/api.md §D)."""
    with database.transaction() as executor:
        target = _other(executor, viewer, username, "mute")
        queries.insert_mute(executor, viewer.user_id, target["id"])


def unmute(database: Database, viewer: Viewer, username: str) -> None:
    """Lift the viewer's mute of `username`; none is a no-op."""
    with database.transaction() as executor:
        target = _other(executor, viewer, username, "unmute")
        queries.delete_mute(executor, viewer.user_id, target["id"])
