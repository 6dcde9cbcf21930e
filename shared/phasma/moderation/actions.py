"""Every write of reporting and moderation (docs/api.md §D), one function each.

A moderator's rights are read from the account's row inside the transaction of every
request (`_require_moderator`), never from the session or a cache: a role taken away
takes effect on the next request. Each decision and reinstatement writes its audit
entry in the same transaction as the change itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from phasma.auth.sessions import Viewer, delete_all_sessions
from phasma.comments.actions import remove_locked_comment
from phasma.comments.queries import lock_comment_on_post
from phasma.db.pool import Database, Executor
from phasma.errors import BadRequest, Conflict, Forbidden, NotFound
from phasma.events.catalogue import ReportsDecided, UserModerated
from phasma.events.outbox import record_event
from phasma.moderation import queries
from phasma.moderation.models import RANK, Action
from phasma.posts.actions import delete_post_blobs, remove_locked_post
from phasma.posts.queries import lock_post
from phasma.runtime import Runtime

SOURCE = "moderation"
NOT_A_MODERATOR = "Moderators only"


class UnknownAccount(LookupError):
    """`grant_role`: no account (that is not being removed) has this username."""


@dataclass(frozen=True)
class Granted:
    """What `grant_role` changed."""

    username: str
    previous_role: str
    role: str


def create_report(
    database: Database,
    viewer: Viewer,
    subject_type: str,
    subject_id: UUID | str,
    reason: str,
    note: str | None,
) -> UUID:
    """Report a subject the viewer can see; its id. 404 unknown, 409 one already open.

    Nothing is notified yet: reporters hear back only when a moderator decides.
    """
    with database.transaction() as executor:
        subject = queries.find_subject(executor, subject_type, subject_id, viewer.user_id)
        if subject is None:
            raise NotFound()
        report_id = queries.insert_report(
            executor, viewer.user_id, subject_type, subject, reason, note
        )
        if report_id is None:
            raise Conflict("You already reported this and it is still open")
    return report_id


def _require_moderator(executor: Executor, viewer: Viewer) -> str:
    """The viewer's role as stored now; 403 unless it is moderator or admin."""
    role = queries.role_of(executor, viewer.user_id)
    if role not in ("moderator", "admin"):
        raise Forbidden(NOT_A_MODERATOR)
    return role


def require_moderator(executor: Executor, viewer: Viewer) -> None:
    """For reads (`database.read`): 403 unless the viewer is a moderator or admin now."""
    _require_moderator(executor, viewer)


def decide(
    runtime: Runtime, viewer: Viewer, report_public_id: UUID, action: Action, note: str | None
) -> None:
    """Decide a report: close every open report on its subject with `action`.

    `remove` deletes the post or comment through its one deletion path (counters,
    events, search and, after commit, blobs follow); `suspend` acts on the subject's
    author. 403 for a member, or for a suspension of an account of equal or higher
    rank; 404 unknown report; 409 already closed; 400 `remove` on an account.
    One `phasma.reports.decided` tells the reporters (and the author of removed content).
    """
    filenames: list[str] = []
    with runtime.db.transaction() as executor:
        role = _require_moderator(executor, viewer)
        report = queries.report_subject(executor, report_public_id)
        if report is None:
            raise NotFound()
        subject_type, subject_id = report["subject_type"], report["subject_id"]
        if action == "remove" and subject_type == "user":
            raise BadRequest("remove applies to posts and comments; suspend an account")
        group = queries.lock_open_group(executor, subject_type, subject_id)
        if report_public_id not in {row["public_id"] for row in group}:
            raise Conflict("This report is already closed")
        author = group[0]
        removed = False
        if action == "remove":
            removed, filenames = _remove_content(executor, viewer, author, subject_type, subject_id)
        elif action == "suspend":
            if RANK[author["author_role"]] >= RANK[role]:
                raise Forbidden("You cannot suspend this account")
            _suspend(executor, author)
        closed = queries.close_reports(
            executor, [row["id"] for row in group], action, note, viewer.user_id
        )
        queries.write_audit(
            executor, viewer.user_id, f"moderation_{action}", f"{subject_type}:{subject_id}", note
        )
        record_event(
            executor,
            event_type="phasma.reports.decided",
            source_function=SOURCE,
            subject=str(subject_id),
            payload=ReportsDecided(
                action=action,
                subject_type=subject_type,
                subject_id=subject_id,
                author_id=author["author_public_id"],
                content_removed=removed,
                report_ids=closed,
            ),
        )
    if filenames:
        delete_post_blobs(runtime, filenames)


def _remove_content(
    executor: Executor,
    viewer: Viewer,
    author: dict[str, Any],
    subject_type: str,
    subject_id: UUID,
) -> tuple[bool, list[str]]:
    """Delete the reported post or comment if it still exists: (deleted, blob filenames).

    Content its author deleted meanwhile is simply gone: the reports still close.
    """
    if subject_type == "post":
        post = lock_post(executor, subject_id)
        if post is None:
            return False, []
        if not remove_locked_post(executor, post, subject_id, author["author_public_id"]):
            return False, []
        return True, list(post["filenames"])
    post_id = queries.comment_post_id(executor, subject_id)
    found = lock_comment_on_post(executor, subject_id, post_id) if post_id else None
    if post_id is None or found is None:
        return False, []
    removed = remove_locked_comment(
        executor,
        found,
        subject_id,
        post_id,
        deleter_id=found["user_id"],
        actor_public_id=viewer.user_public_id,
    )
    return removed, []


def _suspend(executor: Executor, author: dict[str, Any]) -> None:
    """Hide the account and end its sessions; already suspended changes nothing more."""
    if not queries.suspend(executor, author["author_id"]):
        return
    delete_all_sessions(executor, author["author_id"])
    public_id = author["author_public_id"]
    # Readers filter suspended accounts at once (`visibility.live`); the event is for
    # what keeps copies: the search indexer drops the account's documents.
    record_event(
        executor,
        event_type="phasma.user.suspended",
        source_function=SOURCE,
        subject=str(public_id),
        payload=UserModerated(user_id=public_id, username=author["author_username"]),
    )


def reinstate(database: Database, viewer: Viewer, username: str, note: str | None) -> None:
    """Lift a suspension. 403 for a member, 404 no such account, 409 not suspended."""
    with database.transaction() as executor:
        _require_moderator(executor, viewer)
        account = queries.lock_account(executor, username)
        if account is None:
            raise NotFound()
        if not account["suspended"]:
            raise Conflict("This account is not suspended")
        queries.reinstate(executor, account["id"])
        queries.write_audit(
            executor,
            viewer.user_id,
            "moderation_reinstate",
            f"user:{account['public_id']}",
            note,
        )
        record_event(
            executor,
            event_type="phasma.user.reinstated",
            source_function=SOURCE,
            subject=str(account["public_id"]),
            payload=UserModerated(user_id=account["public_id"], username=account["username"]),
        )


def grant_role(database: Database, username: str, role: str) -> Granted:
    """Set an account's role (`./taskw admin:grant`), with an audit entry on the account.

    An operator's command, not a request: there is no acting account, so the entry is
    the grantee's own (`role_granted`, the new role as its note).
    """
    with database.transaction() as executor:
        account = queries.lock_account(executor, username)
        if account is None:
            raise UnknownAccount(username)
        queries.set_role(executor, account["id"], role)
        queries.write_audit(
            executor, account["id"], "role_granted", f"user:{account['public_id']}", role
        )
    return Granted(username=account["username"], previous_role=account["role"], role=role)
