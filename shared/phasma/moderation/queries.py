"""SQL for reports, the moderation queue, decisions, suspensions and roles (docs/api.md §D)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from phasma.accounts import Role
from phasma.config import Limits
from phasma.db.pool import Executor
from phasma.moderation.models import (
    Author,
    Content,
    Decision,
    ModerationReport,
    ReportReason,
)
from phasma.pagination import Page, PageRequest, build_page
from phasma.visibility import shows_posts, visible

# -- reporting -------------------------------------------------------------------------
#
# A reporter can report only what they can see: the post or comment under the same rule
# as its page, the account under the rule of its profile. Anything else is "unknown".

POST_SUBJECT = f"""
    SELECT p.public_id AS subject_id, p.user_id AS author_id
    FROM posts p JOIN users u ON u.id = p.user_id
    WHERE p.public_id = :subject_id AND {shows_posts("u")}
"""
COMMENT_SUBJECT = f"""
    SELECT c.public_id AS subject_id, c.user_id AS author_id
    FROM comments c
    JOIN users cu ON cu.id = c.user_id
    JOIN posts p ON p.id = c.post_id
    JOIN users pu ON pu.id = p.user_id
    WHERE c.public_id = :subject_id AND {visible("cu")} AND {shows_posts("pu")}
"""
USER_SUBJECT = f"""
    SELECT u.public_id AS subject_id, u.id AS author_id
    FROM users u WHERE u.username = :subject_id AND {visible("u")}
"""
_SUBJECTS = {"post": POST_SUBJECT, "comment": COMMENT_SUBJECT, "user": USER_SUBJECT}


def find_subject(
    executor: Executor, subject_type: str, subject_id: UUID | str, viewer_id: int
) -> dict[str, Any] | None:
    """`subject_id` (the stored uuid) and `author_id` of a subject the viewer can see."""
    return executor.fetch_one(_SUBJECTS[subject_type], subject_id=subject_id, viewer_id=viewer_id)


def insert_report(
    executor: Executor,
    reporter_id: int,
    subject_type: str,
    subject: dict[str, Any],
    reason: str,
    note: str | None,
) -> UUID | None:
    """The new report's public id; None when the reporter already has one open on it.

    The partial unique index decides, so two racing reports cannot both be inserted.
    """
    public_id: UUID | None = executor.fetch_value(
        """
        INSERT INTO reports (reporter_id, subject_type, subject_id, author_id, reason, note)
        VALUES (:reporter_id, :subject_type, :subject_id, :author_id, :reason, :note)
        ON CONFLICT (reporter_id, subject_type, subject_id) WHERE status = 'open' DO NOTHING
        RETURNING public_id
        """,
        reporter_id=reporter_id,
        subject_type=subject_type,
        subject_id=subject["subject_id"],
        author_id=subject["author_id"],
        reason=reason,
        note=note,
    )
    return public_id


# -- roles -----------------------------------------------------------------------------


def role_of(executor: Executor, user_id: int) -> Role | None:
    """The account's role as stored now: every moderation request reads it afresh."""
    role: Role | None = executor.fetch_value(
        "SELECT role FROM users WHERE id = :user_id", user_id=user_id
    )
    return role


def set_role(executor: Executor, user_id: int, role: str) -> None:
    executor.execute(
        "UPDATE users SET role = :role WHERE id = :user_id", role=role, user_id=user_id
    )


# -- the queue -------------------------------------------------------------------------

_ENTRY_COLUMNS = """
    r.id, r.public_id, r.subject_type, r.subject_id, r.reason, r.note, r.status,
    r.created, r.decision, r.decision_note, r.decided,
    reporter.username AS reporter, moderator.username AS moderator,
    (SELECT count(*) FROM reports o
     WHERE o.status = 'open' AND o.subject_type = r.subject_type
       AND o.subject_id = r.subject_id) AS open_reports,
    author.username AS author_username, author.name AS author_name,
    author.avatar AS author_avatar, author.bio AS author_bio,
    author.suspended_at IS NOT NULL AS author_suspended,
    p.public_id AS post_id, p.filename AS post_filename, p.description AS post_text,
    c.body AS comment_text, cp.public_id AS comment_post_id,
    cp.filename AS comment_post_filename
"""
# The moderator sees the subject whatever blocks or privacy hide it from others, and a
# suspended author too (the entry offers to reinstate it).
_ENTRY_SOURCE = """
    reports r
    JOIN users reporter ON reporter.id = r.reporter_id
    JOIN users author ON author.id = r.author_id
    LEFT JOIN users moderator ON moderator.id = r.moderator_id
    LEFT JOIN posts p ON r.subject_type = 'post' AND p.public_id = r.subject_id
    LEFT JOIN comments c ON r.subject_type = 'comment' AND c.public_id = r.subject_id
    LEFT JOIN posts cp ON cp.id = c.post_id
"""
# One entry per subject: its oldest open report (nothing older and open on the same
# subject), oldest first. Reports close a subject at a time, so the entry that stands
# for a subject never changes while it is open and the keyset stays stable.
_OPEN = f"""
    SELECT {_ENTRY_COLUMNS} FROM {_ENTRY_SOURCE}
    WHERE r.status = 'open'
      AND NOT EXISTS (
          SELECT 1 FROM reports older
          WHERE older.status = 'open' AND older.subject_type = r.subject_type
            AND older.subject_id = r.subject_id
            AND (older.created, older.id) < (r.created, r.id))
      {{after}}
    ORDER BY r.created, r.id
    LIMIT :limit
"""
OPEN_FIRST_PAGE = _OPEN.format(after="")
OPEN_NEXT_PAGE = _OPEN.format(
    after="AND (r.created, r.id) > (CAST(:cursor_created AS timestamptz),"
    " CAST(:cursor_id AS bigint))"
)
# Closed reports one by one, the latest decision first.
_CLOSED = f"""
    SELECT {_ENTRY_COLUMNS} FROM {_ENTRY_SOURCE}
    WHERE r.status = 'closed' {{after}}
    ORDER BY r.decided DESC, r.id DESC
    LIMIT :limit
"""
CLOSED_FIRST_PAGE = _CLOSED.format(after="")
CLOSED_NEXT_PAGE = _CLOSED.format(
    after="AND (r.decided, r.id) < (CAST(:cursor_created AS timestamptz),"
    " CAST(:cursor_id AS bigint))"
)
# The open reports of each listed subject, oldest first, a bounded number per subject.
GROUPS = """
    SELECT s.subject_type, s.subject_id, g.public_id, g.reason, g.note, g.reporter, g.created
    FROM unnest(CAST(:subject_types AS varchar[]), CAST(:subject_ids AS uuid[]))
        AS s(subject_type, subject_id)
    CROSS JOIN LATERAL (
        SELECT r.public_id, r.reason, r.note, r.created, reporter.username AS reporter
        FROM reports r JOIN users reporter ON reporter.id = r.reporter_id
        WHERE r.status = 'open' AND r.subject_type = s.subject_type
          AND r.subject_id = s.subject_id
        ORDER BY r.created, r.id
        LIMIT :shown
    ) AS g
"""


def report_page(executor: Executor, status: str, page: PageRequest) -> Page[ModerationReport]:
    """One page of the queue: open subjects oldest first, or closed reports newest first."""
    first, following = (
        (OPEN_FIRST_PAGE, OPEN_NEXT_PAGE)
        if status == "open"
        else (CLOSED_FIRST_PAGE, CLOSED_NEXT_PAGE)
    )
    params: dict[str, Any] = {"limit": page.limit + 1}
    if page.cursor is None:
        rows = executor.fetch_all(first, **params)
    else:
        rows = executor.fetch_all(
            following, cursor_created=page.cursor.created, cursor_id=page.cursor.id, **params
        )
    sort_time = "created" if status == "open" else "decided"
    trimmed = build_page(rows, page.limit, lambda row: (row[sort_time], row["id"]))
    groups = _groups(executor, trimmed.items) if status == "open" else {}
    entries = [
        _entry(row, groups.get((row["subject_type"], row["subject_id"]), []))
        for row in trimmed.items
    ]
    return Page(entries, trimmed.next_cursor)


def _groups(
    executor: Executor, rows: Sequence[dict[str, Any]]
) -> dict[tuple[str, UUID], list[ReportReason]]:
    if not rows:
        return {}
    found = executor.fetch_all(
        GROUPS,
        subject_types=[row["subject_type"] for row in rows],
        subject_ids=[str(row["subject_id"]) for row in rows],
        shown=Limits.MODERATION_REPORTS_SHOWN,
    )
    groups: dict[tuple[str, UUID], list[ReportReason]] = {}
    for row in found:
        groups.setdefault((row["subject_type"], row["subject_id"]), []).append(
            ReportReason(
                id=row["public_id"],
                reason=row["reason"],
                note=row["note"],
                reporter=row["reporter"],
                created=row["created"],
            )
        )
    return groups


def _entry(row: dict[str, Any], group: list[ReportReason]) -> ModerationReport:
    kind = row["subject_type"]
    subject_id = row["author_username"] if kind == "user" else str(row["subject_id"])
    return ModerationReport(
        id=row["public_id"],
        subject_type=kind,
        subject_id=subject_id,
        reason=row["reason"],
        note=row["note"],
        reporter=row["reporter"],
        reports=row["open_reports"],
        created=row["created"],
        status=row["status"],
        decision=Decision(
            action=row["decision"],
            note=row["decision_note"],
            moderator=row["moderator"],
            decided=row["decided"],
        )
        if row["status"] == "closed"
        else None,
        content=_content(row),
        group=group,
    )


def _content(row: dict[str, Any]) -> Content:
    author = Author(
        username=row["author_username"],
        name=row["author_name"],
        avatar=row["author_avatar"],
        suspended=bool(row["author_suspended"]),
    )
    kind = row["subject_type"]
    if kind == "post":
        if row["post_id"] is None:
            return Content(author=author, removed=True)
        return Content(
            author=author,
            post_id=row["post_id"],
            filename=row["post_filename"],
            text=row["post_text"],
        )
    if kind == "comment":
        if row["comment_post_id"] is None:
            return Content(author=author, removed=True)
        return Content(
            author=author,
            post_id=row["comment_post_id"],
            filename=row["comment_post_filename"],
            text=row["comment_text"],
        )
    return Content(author=author, text=row["author_bio"])


# -- decisions -------------------------------------------------------------------------


def report_subject(executor: Executor, public_id: UUID) -> dict[str, Any] | None:
    """The subject a report is about (unlocked: the caller then locks its open group)."""
    return executor.fetch_one(
        "SELECT subject_type, subject_id FROM reports WHERE public_id = :public_id",
        public_id=public_id,
    )


def lock_open_group(
    executor: Executor, subject_type: str, subject_id: UUID
) -> list[dict[str, Any]]:
    """Every open report on the subject, locked in id order, with the author's account.

    Two decisions on reports of one subject lock the same rows in the same order, so the
    second waits for the first and then finds its report closed, never a deadlock.
    """
    return executor.fetch_all(
        """
        SELECT r.id, r.public_id, r.author_id, author.public_id AS author_public_id,
               author.username AS author_username, author.role AS author_role
        FROM reports r JOIN users author ON author.id = r.author_id
        WHERE r.status = 'open' AND r.subject_type = :subject_type
          AND r.subject_id = :subject_id
        ORDER BY r.id
        FOR UPDATE OF r
        """,
        subject_type=subject_type,
        subject_id=subject_id,
    )


def close_reports(
    executor: Executor, report_ids: list[int], action: str, note: str | None, moderator_id: int
) -> list[UUID]:
    """Close the locked reports with the decision; their public ids."""
    rows = executor.fetch_all(
        """
        UPDATE reports
        SET status = 'closed', decision = :action, decision_note = :note, decided = now(),
            moderator_id = :moderator_id
        WHERE id = ANY(CAST(:ids AS bigint[])) AND status = 'open'
        RETURNING public_id
        """,
        ids=report_ids,
        action=action,
        note=note,
        moderator_id=moderator_id,
    )
    return [row["public_id"] for row in rows]


def comment_post_id(executor: Executor, comment_id: UUID) -> UUID | None:
    """The public id of the post a comment is on (None when the comment is gone)."""
    post_id: UUID | None = executor.fetch_value(
        """
        SELECT p.public_id FROM comments c JOIN posts p ON p.id = c.post_id
        WHERE c.public_id = :comment_id
        """,
        comment_id=comment_id,
    )
    return post_id


def suspend(executor: Executor, user_id: int) -> bool:
    """Mark the account suspended; False when it already was, or is being removed."""
    return bool(
        executor.execute(
            """
            UPDATE users SET suspended_at = now()
            WHERE id = :user_id AND suspended_at IS NULL AND deleted_at IS NULL
            """,
            user_id=user_id,
        )
    )


def lock_account(executor: Executor, username: str) -> dict[str, Any] | None:
    """The account named `username` unless it is being removed, locked, with its state."""
    return executor.fetch_one(
        """
        SELECT id, public_id, username, role, suspended_at IS NOT NULL AS suspended FROM users
        WHERE username = :username AND deleted_at IS NULL
        FOR UPDATE
        """,
        username=username,
    )


def reinstate(executor: Executor, user_id: int) -> None:
    executor.execute("UPDATE users SET suspended_at = NULL WHERE id = :user_id", user_id=user_id)


def write_audit(
    executor: Executor, user_id: int, action: str, subject: str, note: str | None
) -> None:
    """An insert-only audit entry: who (`user_id`), what, on what, and their note."""
    executor.execute(
        """
        INSERT INTO audit_log (user_id, action, subject, note)
        VALUES (:user_id, :action, :subject, :note)
        """,
        user_id=user_id,
        action=action,
        subject=subject,
        note=note,
    )
