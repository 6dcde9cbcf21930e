"""Follow, unfollow and follow requests: each change in one transaction with its counter
and outbox events."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from phasma.db.pool import Database, Executor
from phasma.events.catalogue import FollowChanged
from phasma.events.outbox import record_event
from phasma.follows import queries
from phasma.http.errors import BadRequest, NotFound
from phasma.sessions.queries import Viewer

SOURCE = "follows"

# What `follow` did: a follow (public account, or already followed) or a pending
# request (a private account the viewer does not follow, api-2.md §E).
FollowOutcome = Literal["followed", "requested"]


def _target(executor: Executor, username: str) -> dict[str, Any]:
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
        followee = queries.lock_followee(executor, username)
        if followee is None:
            raise NotFound()
        if followee["id"] == viewer.user_id:
            raise BadRequest("you cannot follow yourself")
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
        if queries.delete_request(executor, viewer.user_id, followee["id"]):
            _record(
                executor,
                "phasma.user.follow_request_closed",
                viewer.user_public_id,
                followee["public_id"],
            )
        if not queries.delete_follow(executor, viewer.user_id, followee["id"]):
            return
        queries.count_lost_follower(executor, followee["id"])
        _record(executor, "phasma.user.unfollowed", viewer.user_public_id, followee["public_id"])


def accept_request(database: Database, viewer: Viewer, username: str) -> None:
    """The viewer accepts `username`'s pending request: it becomes a follow, with the
    counter and the `phasma.user.followed` event any follow has. No request: 404."""
    with database.transaction() as executor:
        requester = _target(executor, username)
        if not queries.delete_request(executor, requester["id"], viewer.user_id):
            raise NotFound()
        _record(
            executor,
            "phasma.user.follow_request_closed",
            requester["public_id"],
            viewer.user_public_id,
        )
        if queries.insert_follow(executor, requester["id"], viewer.user_id):
            queries.count_new_follower(executor, viewer.user_id)
            _record(executor, "phasma.user.followed", requester["public_id"], viewer.user_public_id)


def decline_request(database: Database, viewer: Viewer, username: str) -> None:
    """The viewer declines `username`'s pending request: it is gone. No request: 404."""
    with database.transaction() as executor:
        requester = _target(executor, username)
        if not queries.delete_request(executor, requester["id"], viewer.user_id):
            raise NotFound()
        _record(
            executor,
            "phasma.user.follow_request_closed",
            requester["public_id"],
            viewer.user_public_id,
        )


def accept_all_requests(executor: Executor, target_id: int, target_public_id: UUID) -> int:
    """Inside the caller's transaction (an account turning public, api-2.md §E): every
    pending request to `target_id` becomes a follow, each with the events an accepted
    request has. The caller holds the target's row lock. Returns the follows made."""
    requesters = queries.take_all_requests(executor, target_id)
    made = 0
    for requester in requesters:
        _record(
            executor, "phasma.user.follow_request_closed", requester["public_id"], target_public_id
        )
        if queries.insert_follow(executor, requester["id"], target_id):
            made += 1
            _record(executor, "phasma.user.followed", requester["public_id"], target_public_id)
    if made:
        queries.count_new_followers(executor, target_id, made)
    return made
