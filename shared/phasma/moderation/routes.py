"""HTTP handlers of the `moderation` function: reports, the queue, decisions (docs/api.md §D)."""

from __future__ import annotations

import uuid
from typing import cast

from werkzeug import Response

from phasma.config import Limits
from phasma.db.pool import Executor
from phasma.http.context import RequestContext
from phasma.http.errors import BadRequest
from phasma.http.responses import json_response, no_content
from phasma.moderation import actions, queries
from phasma.moderation.models import (
    ACTIONS,
    REASONS,
    SUBJECT_TYPES,
    Action,
    DecisionBody,
    ModerationReport,
    ReportBody,
    ReportCreated,
    moderation_report_json,
)
from phasma.pagination import Page, parse_page_request
from phasma.posts.models import check_user_text
from phasma.text import USERNAME_PATTERN


def create_report(context: RequestContext) -> Response:
    """`POST /reports`: `201 {"id"}`; every field is checked before anything is read."""
    body = context.body(ReportBody)
    if body.subject_type not in SUBJECT_TYPES:
        raise BadRequest("subjectType must be one of " + ", ".join(SUBJECT_TYPES))
    if body.reason not in REASONS:
        raise BadRequest("reason must be one of " + ", ".join(REASONS))
    note = _note(body.note, Limits.REPORT_NOTE_MAX_CHARS)
    subject_id = _subject_id(body.subject_type, body.subject_id.strip())
    report_id = actions.create_report(
        context.runtime.db, context.signed_in, body.subject_type, subject_id, body.reason, note
    )
    return json_response(ReportCreated(id=report_id), 201)


def list_reports(context: RequestContext) -> Response:
    """`GET /moderation/reports?status=open|closed`: moderators and admins only."""
    status = context.request.args.get("status", "open")
    if status not in ("open", "closed"):
        raise BadRequest("status must be open or closed")
    page_request = parse_page_request(context.request.args)
    viewer = context.signed_in

    def read(executor: Executor) -> Page[ModerationReport]:
        actions.require_moderator(executor, viewer)
        return queries.report_page(executor, status, page_request)

    page = context.runtime.db.read(read)
    return json_response(page.to_json(moderation_report_json))


def decide(context: RequestContext) -> Response:
    """`POST /moderation/reports/{id}/decision`: `204`, every open report on the subject closed."""
    report_id = context.uuid_param("id")
    body = context.body(DecisionBody)
    if body.action not in ACTIONS:
        raise BadRequest("action must be one of " + ", ".join(ACTIONS))
    note = _note(body.note, Limits.DECISION_NOTE_MAX_CHARS)
    # Checked against ACTIONS just above, which is the `Action` literal's own list.
    action = cast(Action, body.action)
    actions.decide(context.runtime, context.signed_in, report_id, action, note)
    return no_content()


def reinstate(context: RequestContext) -> Response:
    """`POST /moderation/users/{username}/reinstate`: `204`, the suspension lifted."""
    username = context.username_param(invalid=BadRequest)
    actions.reinstate(context.runtime.db, context.signed_in, username, None)
    return no_content()


def _note(raw: str, max_chars: int) -> str | None:
    """The trimmed note (an empty one is stored as null)."""
    note = raw.strip()
    check_user_text(note, "note", max_chars)
    return note or None


def _subject_id(subject_type: str, raw: str) -> uuid.UUID | str:
    """A post's or comment's id must be a UUID, an account's a username, else `400`."""
    if subject_type == "user":
        username = raw.lower()
        if not USERNAME_PATTERN.fullmatch(username):
            raise BadRequest("subjectId must be a username")
        return username
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise BadRequest("subjectId must be a UUID") from None
