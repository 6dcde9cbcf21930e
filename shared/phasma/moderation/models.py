"""Report and decision bodies, and the moderation queue's entry shape (docs/api.md §D)."""

from __future__ import annotations

from typing import Any, Final, Literal, get_args
from uuid import UUID

from pydantic import Field

from phasma.accounts import Role
from phasma.http.bodies import RequestBody, Text
from phasma.models import CamelModel, Timestamp

SubjectType = Literal["post", "comment", "user"]
Action = Literal["dismiss", "remove", "suspend"]

SUBJECT_TYPES: Final = ("post", "comment", "user")
REASONS: Final = ("spam", "harassment", "nudity", "violence", "copyright", "other")
ACTIONS: Final = ("dismiss", "remove", "suspend")
ROLES: Final = get_args(Role)
# Who may act on whom: a suspension needs a higher rank than the account's, so a
# moderator cannot suspend another moderator, and nobody an admin.
RANK: Final = {role: rank for rank, role in enumerate(ROLES)}


class ReportBody(RequestBody):
    """`POST /reports`; the route checks the vocabularies and the note's length."""

    subject_type: Text = Field("", alias="subjectType")
    subject_id: Text = Field("", alias="subjectId")
    reason: Text = ""
    note: Text = ""


class DecisionBody(RequestBody):
    """`POST /moderation/reports/{id}/decision`."""

    action: Text = ""
    note: Text = ""


class ReportCreated(CamelModel):
    id: UUID


class Decision(CamelModel):
    """How a closed report was decided. `moderator` is null once that account is gone."""

    action: Action
    note: str | None
    moderator: str | None
    decided: Timestamp


class Author(CamelModel):
    """The account behind a subject: the one a `suspend` acts on."""

    username: str
    name: str
    avatar: str | None
    suspended: bool


class Content(CamelModel):
    """What was reported, as the moderator needs to judge it (beyond docs/api.md §D).

    A post: its first image and caption; a comment: its text and the post it is on; an
    account: its bio. `removed` is true once the post or comment no longer exists.
    """

    author: Author
    post_id: UUID | None = None
    filename: str | None = None
    text: str | None = None
    removed: bool = False


class ReportReason(CamelModel):
    """One open report of a subject's group: who reported it, why."""

    id: UUID
    reason: str
    note: str | None
    reporter: str
    created: Timestamp


class ModerationReport(CamelModel):
    """An entry of `GET /moderation/reports` (docs/api.md §D).

    Open entries are one per subject: its oldest open report, with `reports` counting
    every open report on the subject and `group` listing them (at most
    `Limits.MODERATION_REPORTS_SHOWN`, oldest first). Closed entries are one per report.
    """

    id: UUID
    subject_type: SubjectType
    subject_id: str
    reason: str
    note: str | None
    reporter: str
    reports: int
    created: Timestamp
    status: Literal["open", "closed"]
    decision: Decision | None = None
    content: Content
    group: list[ReportReason]


def moderation_report_json(report: ModerationReport) -> dict[str, Any]:
    """An entry as JSON; `decision` appears only on closed reports."""
    return report.model_dump(
        mode="json", by_alias=True, exclude={"decision"} if report.decision is None else None
    )
