"""`notifications-worker`: creates and deletes notifications from events (docs/domain.md §4).

Every handler is idempotent. Creates check the fact under a lock and key the row by
the CloudEvent id; deletes are unconditional. Mentions come from `post.created` and
`comment.created`, never from `post.updated`: editing a caption notifies no one. An
event whose referents are gone, a self-event, a duplicate or a type this worker does
not react to is acknowledged as "skipped".
"""

from __future__ import annotations

from collections.abc import Callable

from phasma.config import Limits
from phasma.db.pool import Executor
from phasma.events.catalogue import (
    CommentChanged,
    FollowChanged,
    PostCreated,
    PostDeleted,
    PostLikeChanged,
    ReportsDecided,
)
from phasma.events.worker import Outcome, ReceivedEvent
from phasma.notifications import queries
from phasma.runtime import Runtime
from phasma.text import find_mentions

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


def mentioned_usernames(*texts: str | None) -> list[str]:
    """The distinct usernames `@mentioned` in every one of `texts`, first ones first, at
    most `MENTIONS_NOTIFIED_PER_TEXT`; a missing text mentions no one."""
    names: list[str] = []
    for mention in find_mentions(texts[0] or ""):
        if mention.username not in names:
            names.append(mention.username)
    names = names[: Limits.MENTIONS_NOTIFIED_PER_TEXT]
    for text in texts[1:]:
        present = {mention.username for mention in find_mentions(text or "")}
        names = [name for name in names if name in present]
    return names


def _posted(executor: Executor, event: ReceivedEvent) -> bool:
    payload = event.payload(PostCreated)
    fact = {"post_id": payload.post_id, "actor_id": payload.author_id}
    if not mentioned_usernames(payload.description):
        return False  # most posts: no lock, no write
    row = executor.fetch_one(queries.POST_TEXT, **fact)
    if row is None:
        return False  # deleted since
    # Only what the new post said and its caption still says: a mention an edit
    # removed before this delivery notifies no one, and one an edit added never does.
    usernames = mentioned_usernames(payload.description, row["description"])
    return bool(usernames) and queries.create_mentions(
        executor, queries.CREATE_POST_MENTIONS, event.id, usernames, **fact
    )


def _commented(executor: Executor, event: ReceivedEvent) -> bool:
    payload = event.payload(CommentChanged)
    commented = queries.create(
        executor,
        queries.CREATE_COMMENT,
        event.id,
        comment_id=payload.comment_id,
        post_id=payload.post_id,
        actor_id=payload.actor_id,
        recipient_id=payload.recipient_id,
    )
    # The payload carries no text; comments are never edited, so the row's is the one.
    fact = {
        "comment_id": payload.comment_id,
        "post_id": payload.post_id,
        "actor_id": payload.actor_id,
    }
    row = executor.fetch_one(queries.COMMENT_TEXT, **fact)
    usernames = mentioned_usernames(row["body"]) if row is not None else []
    mentioned = bool(usernames) and queries.create_mentions(
        executor, queries.CREATE_COMMENT_MENTIONS, event.id, usernames, **fact
    )
    return commented or mentioned


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


def _follow_requested(executor: Executor, event: ReceivedEvent) -> bool:
    payload = event.payload(FollowChanged)
    return queries.create(
        executor,
        queries.CREATE_FOLLOW_REQUEST,
        event.id,
        actor_id=payload.actor_id,
        recipient_id=payload.recipient_id,
    )


def _follow_request_closed(executor: Executor, event: ReceivedEvent) -> bool:
    # Accepted, declined or withdrawn: the request is no longer there to act on. An
    # acceptance's own `user.followed` then brings the `follow` notification.
    payload = event.payload(FollowChanged)
    return bool(
        queries.delete_between(
            executor, "follow_request", payload.actor_id, payload.actor_id, payload.recipient_id
        )
    )


def _post_deleted(executor: Executor, event: ReceivedEvent) -> bool:
    payload = event.payload(PostDeleted)
    return bool(queries.delete_for_post(executor, payload.post_id, payload.comment_ids))


def _reports_decided(executor: Executor, event: ReceivedEvent) -> bool:
    payload = event.payload(ReportsDecided)
    reviewed = queries.create_reports_reviewed(executor, event.id, payload.report_ids)
    removed = payload.content_removed and queries.create_content_removed(
        executor, event.id, payload.author_id, payload.subject_id, payload.report_ids
    )
    return bool(reviewed) or removed


REACTIONS: dict[str, Reaction] = {
    "phasma.post.created": _posted,
    "phasma.post.liked": _liked,
    "phasma.post.unliked": _unliked,
    "phasma.comment.created": _commented,
    "phasma.comment.deleted": _uncommented,
    "phasma.user.followed": _followed,
    "phasma.user.unfollowed": _unfollowed,
    "phasma.user.follow_requested": _follow_requested,
    "phasma.user.follow_request_closed": _follow_request_closed,
    "phasma.post.deleted": _post_deleted,
    "phasma.reports.decided": _reports_decided,
}


def handle(event: ReceivedEvent, runtime: Runtime) -> Outcome:
    """Apply one delivered event; "skipped" when it changed nothing or is not ours."""
    reaction = REACTIONS.get(event.type)
    if reaction is None:
        return "skipped"
    with runtime.db.transaction() as executor:
        changed = reaction(executor, event)
    return "applied" if changed else "skipped"
