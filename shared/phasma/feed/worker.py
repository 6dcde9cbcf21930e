"""`feed-worker`: fan-out on write, follow backfill and unfollow prune (docs/domain.md §3.2).

Every handler is idempotent (feed rows are conflict-ignored inserts and conditional
deletes) and decides by the celebrity flag, never the live follower count. Events
it does not react to, and those whose post or follow is gone, are "skipped".
"""

from __future__ import annotations

from collections.abc import Callable

from phasma.events.catalogue import FollowChanged, PostCreated
from phasma.events.worker import Outcome, ReceivedEvent
from phasma.feed import queries
from phasma.runtime import Runtime


def _post_created(event: ReceivedEvent, runtime: Runtime) -> Outcome:
    payload = event.payload(PostCreated)
    with runtime.db.transaction() as executor:
        post = queries.lock_post(executor, payload.post_id)
        if post is None:
            return "skipped"
        author_is_celebrity = queries.lock_author(executor, post["user_id"])
        if payload.author_is_celebrity or author_is_celebrity:
            # Followers read a celebrity's posts live; only the author's row is written.
            inserted = queries.insert_own_row(
                executor, post["user_id"], post["id"], post["created"]
            )
        else:
            inserted = queries.fan_out(executor, post["user_id"], post["id"], post["created"])
    return "applied" if inserted else "skipped"


def _user_followed(event: ReceivedEvent, runtime: Runtime) -> Outcome:
    payload = event.payload(FollowChanged)
    with runtime.db.transaction() as executor:
        follow = queries.lock_follow(executor, payload.actor_id, payload.recipient_id)
        if follow is None or follow["is_celebrity"]:
            return "skipped"  # unfollowed since, or a celebrity: served by the live branch
        inserted = queries.backfill(executor, follow["follower_id"], follow["followee_id"])
    return "applied" if inserted else "skipped"


def _user_unfollowed(event: ReceivedEvent, runtime: Runtime) -> Outcome:
    payload = event.payload(FollowChanged)
    with runtime.db.transaction() as executor:
        deleted = queries.prune(executor, payload.actor_id, payload.recipient_id)
    return "applied" if deleted else "skipped"


# `phasma.post.deleted` needs nothing: the foreign key cascade removed the rows.
# `phasma.post.updated` needs nothing: feed rows hold keys, and pages read the text live.
REACTIONS: dict[str, Callable[[ReceivedEvent, Runtime], Outcome]] = {
    "phasma.post.created": _post_created,
    "phasma.user.followed": _user_followed,
    "phasma.user.unfollowed": _user_unfollowed,
}


def handle(event: ReceivedEvent, runtime: Runtime) -> Outcome:
    """Apply one delivered event; "skipped" when it changed nothing or is not ours."""
    reaction = REACTIONS.get(event.type)
    if reaction is None:
        return "skipped"
    return reaction(event, runtime)
