"""`notifications-worker`: creates and deletes notifications from activity events (domain.md §4).

Every handler is idempotent. Creates check the fact under a lock and key the row by
the CloudEvent id; deletes are unconditional. An event whose referents are gone,
a self-event, a duplicate or a type this worker does not react to is acknowledged
as "skipped".
"""

from __future__ import annotations

from collections.abc import Callable

from phasma.db.pool import Executor
from phasma.events.catalogue import CommentChanged, FollowChanged, PostDeleted, PostLikeChanged
from phasma.events.worker import Outcome, ReceivedEvent
from phasma.notifications import queries
from phasma.runtime import Runtime

# Each reaction runs in one transaction and says whether it changed anything.
Reaction = Callable[[Executor, ReceivedEvent], bool]


def _liked(executor: Executor, event: ReceivedEvent) -> bool:
    payload = event.payload(PostLikeChanged)
    return queries.create(
        executor,
        queries.CREATE_LIKE,
        event.id,
        post_id=payload.post_id,
        actor_id=payload.actor_id,
        recipient_id=payload.recipient_id,
    )


def _unliked(executor: Executor, event: ReceivedEvent) -> bool:
    payload = event.payload(PostLikeChanged)
    return bool(
        queries.delete_between(
            executor, "like", payload.post_id, payload.actor_id, payload.recipient_id
        )
    )


def _commented(executor: Executor, event: ReceivedEvent) -> bool:
    payload = event.payload(CommentChanged)
    return queries.create(
        executor,
        queries.CREATE_COMMENT,
        event.id,
        comment_id=payload.comment_id,
        post_id=payload.post_id,
        actor_id=payload.actor_id,
        recipient_id=payload.recipient_id,
    )


def _uncommented(executor: Executor, event: ReceivedEvent) -> bool:
    # The actor of a deletion may be the post's author rather than the commenter, so
    # the comment id alone identifies the notification.
    payload = event.payload(CommentChanged)
    return bool(queries.delete_comment(executor, payload.comment_id))


def _followed(executor: Executor, event: ReceivedEvent) -> bool:
    payload = event.payload(FollowChanged)
    return queries.create(
        executor,
        queries.CREATE_FOLLOW,
        event.id,
        actor_id=payload.actor_id,
        recipient_id=payload.recipient_id,
    )


def _unfollowed(executor: Executor, event: ReceivedEvent) -> bool:
    payload = event.payload(FollowChanged)
    # A follow notification's entity is the follower's own public id.
    return bool(
        queries.delete_between(
            executor, "follow", payload.actor_id, payload.actor_id, payload.recipient_id
        )
    )


def _post_deleted(executor: Executor, event: ReceivedEvent) -> bool:
    payload = event.payload(PostDeleted)
    return bool(queries.delete_for_post(executor, payload.post_id, payload.comment_ids))


REACTIONS: dict[str, Reaction] = {
    "phasma.post.liked": _liked,
    "phasma.post.unliked": _unliked,
    "phasma.comment.created": _commented,
    "phasma.comment.deleted": _uncommented,
    "phasma.user.followed": _followed,
    "phasma.user.unfollowed": _unfollowed,
    "phasma.post.deleted": _post_deleted,
}


def handle(event: ReceivedEvent, runtime: Runtime) -> Outcome:
    """Apply one delivered event; "skipped" when it changed nothing or is not ours."""
    reaction = REACTIONS.get(event.type)
    if reaction is None:
        return "skipped"
    with runtime.db.transaction() as executor:
        changed = reaction(executor, event)
    return "applied" if changed else "skipped"
