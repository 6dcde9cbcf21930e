"""Block, mute and report from the "…" menus, and Settings → Blocked and muted accounts
(docs/api.md §D; issue 18).

Every action is a plain form POST that lands back with a one-time message, so it works
without JavaScript: the menu's links open a confirmation page (or the report form),
and `safety.js` opens the same form in a native `<dialog>` instead.
"""

from __future__ import annotations

from typing import Any, Final

from werkzeug import Response

from phasma.config import Limits
from phasma.frontend.backend import api_path
from phasma.frontend.context import Context, PageError, SignInRequired
from phasma.frontend.cookies import set_flash
from phasma.frontend.messages import (
    BLOCKED,
    MUTED,
    REPORT_REASONS,
    REPORTED,
    UNBLOCKED,
    UNMUTED,
    status_message,
)
from phasma.frontend.pages import UUID_SHAPE, page_of, username_param
from phasma.frontend.rendering import profile_url
from phasma.text import USERNAME_PATTERN

SUBJECT_TYPES: Final = ("post", "comment", "user")
REPORT_NOTE_MAX_CHARS: Final = Limits.REPORT_NOTE_MAX_CHARS
REASON_REQUIRED = "Choose a reason for your report."
NOTE_TOO_LONG = f"Note must be {REPORT_NOTE_MAX_CHARS:,} characters or fewer."
ALREADY_REPORTED = "You already reported this. We'll review it soon."
REPORT_SUBJECT_GONE = "That content is no longer available."
LISTS_FAILED = "Could not load your blocked and muted accounts. Please try again."

# What each person action asks before it happens, and what it then does on the API.
_ACTIONS: Final = {
    "block": {
        "heading": "Block @{}?",
        "text": (
            "They won't be able to find your profile or posts, follow you, like or comment."
            " You'll stop following each other. They won't be told you blocked them."
        ),
        "button": "Block",
        "method": "PUT",
        "api": "/users/{}/block",
        "flash": BLOCKED,
    },
    "unblock": {"method": "DELETE", "api": "/users/{}/block", "flash": UNBLOCKED},
    "mute": {
        "heading": "Mute @{}?",
        "text": (
            "Their posts leave your feed and their activity stops notifying you."
            " You still follow each other, and they won't be told you muted them."
        ),
        "button": "Mute",
        "method": "PUT",
        "api": "/users/{}/mute",
        "flash": MUTED,
    },
    "unmute": {"method": "DELETE", "api": "/users/{}/mute", "flash": UNMUTED},
}


def confirm_block(context: Context) -> Response:
    """`GET /@{u}/block`: the confirmation a visitor without JavaScript gets."""
    return _confirm(context, "block")


def confirm_mute(context: Context) -> Response:
    """`GET /@{u}/mute`."""
    return _confirm(context, "mute")


def block(context: Context) -> Response:
    """`POST /@{u}/block`: then `next` (the feed by default), which says so once."""
    return _act(context, "block")


def unblock(context: Context) -> Response:
    """`POST /@{u}/unblock`: from Settings → Blocked and muted accounts."""
    return _act(context, "unblock")


def mute(context: Context) -> Response:
    """`POST /@{u}/mute`."""
    return _act(context, "mute")


def unmute(context: Context) -> Response:
    """`POST /@{u}/unmute`."""
    return _act(context, "unmute")


def _confirm(context: Context, action: str) -> Response:
    username = username_param(context)
    viewer = context.require_viewer()
    if viewer.get("username") == username:
        raise PageError(404)
    copy = _ACTIONS[action]
    return context.render(
        "safety_confirm.html",
        title=copy["heading"].format(username),
        heading=copy["heading"].format(username),
        text=copy["text"],
        button=copy["button"],
        action=profile_url(username, action),
        next=context.next_path("/feed"),
        cancel=context.next_path(profile_url(username)),
    )


def _act(context: Context, action: str) -> Response:
    username = username_param(context)
    copy = _ACTIONS[action]
    default = "/settings/blocked" if action.startswith("un") else "/feed"
    location = context.next_path(default)
    response = context.api.call(copy["method"], api_path(copy["api"], username))
    if response.status == 401:
        raise SignInRequired()
    if not response.ok:
        if context.wants_json:
            return context.failed(status_message(response.status), response.status)
        raise PageError.of(response)
    answer = context.done(location)
    set_flash(answer, copy["flash"], secure=context.secure)
    return answer


# -- reports ----------------------------------------------------------------------------


def report_page(context: Context) -> Response:
    """`GET /reports/new?type=&id=&next=`: the report form a visitor without JS gets."""
    context.require_viewer()
    subject_type, subject_id = _subject(
        context.request.args.get("type", ""), context.request.args.get("id", "")
    )
    return _report_form(context, subject_type, subject_id, reason="", note="", error=None)


def report(context: Context) -> Response:
    """`POST /reports`: `POST /reports` on the API; "Thanks, we'll review it" on `201`."""
    form = context.form()
    subject_type, subject_id = _subject(form.get("subject_type", ""), form.get("subject_id", ""))
    reason = form.get("reason", "")
    note = form.get("note", "").strip()
    if reason not in dict(REPORT_REASONS):
        return _report_failed(context, subject_type, subject_id, reason, note, REASON_REQUIRED, 400)
    if len(note) > REPORT_NOTE_MAX_CHARS:
        return _report_failed(context, subject_type, subject_id, reason, note, NOTE_TOO_LONG, 400)
    body: dict[str, Any] = {"subjectType": subject_type, "subjectId": subject_id, "reason": reason}
    if note:
        body["note"] = note
    response = context.api.call("POST", "/reports", json_body=body)
    if response.status == 401:
        raise SignInRequired()
    if response.status == 201:
        answer = context.done(context.next_path("/feed"))
        set_flash(answer, REPORTED, secure=context.secure)
        return answer
    message = {409: ALREADY_REPORTED, 404: REPORT_SUBJECT_GONE}.get(
        response.status, status_message(response.status)
    )
    return _report_failed(context, subject_type, subject_id, reason, note, message, response.status)


def _subject(subject_type: str, subject_id: str) -> tuple[str, str]:
    """A report's subject as the API names it; any other shape is a 404 page."""
    if subject_type == "user":
        subject_id = subject_id.lower()
        if USERNAME_PATTERN.fullmatch(subject_id):
            return subject_type, subject_id
    elif subject_type in SUBJECT_TYPES and UUID_SHAPE.fullmatch(subject_id):
        return subject_type, subject_id.lower()
    raise PageError(404)


def _report_failed(
    context: Context,
    subject_type: str,
    subject_id: str,
    reason: str,
    note: str,
    message: str,
    status: int,
) -> Response:
    if context.wants_json:
        return context.failed(message, status)
    return _report_form(
        context, subject_type, subject_id, reason=reason, note=note, error=message, status=status
    )


def _report_form(
    context: Context,
    subject_type: str,
    subject_id: str,
    *,
    reason: str,
    note: str,
    error: str | None,
    status: int = 200,
) -> Response:
    noun = {"post": "post", "comment": "comment", "user": f"@{subject_id}"}[subject_type]
    return context.render(
        "report.html",
        title="Report",
        status=status,
        heading=f"Report {noun}" if subject_type == "user" else f"Report this {noun}",
        subject_type=subject_type,
        subject_id=subject_id,
        reason=reason,
        note=note,
        error=error,
        next=context.next_path("/feed"),
    )


# -- settings ---------------------------------------------------------------------------


def blocked_page(context: Context) -> Response:
    """`GET /settings/blocked`: the accounts the viewer blocked and muted, newest first,
    each with its Unblock or Unmute button; `?blocks=` / `?mutes=` page on."""
    context.require_viewer()
    args = context.request.args
    blocks_call, mutes_call = context.api.gather(
        lambda: context.api.get("/users/me/blocks", cursor=args.get("blocks") or None),
        lambda: context.api.get("/users/me/mutes", cursor=args.get("mutes") or None),
    )
    if 401 in (blocks_call.status, mutes_call.status):
        raise SignInRequired()
    load_error = None if blocks_call.ok and mutes_call.ok else LISTS_FAILED
    blocked, blocks_next = page_of(blocks_call) if blocks_call.ok else ([], None)
    muted, mutes_next = page_of(mutes_call) if mutes_call.ok else ([], None)
    return context.render(
        "settings_blocked.html",
        title="Blocked and muted accounts",
        blocked=[user for user in blocked if _named(user)],
        muted=[user for user in muted if _named(user)],
        blocks_next=blocks_next,
        mutes_next=mutes_next,
        load_error=load_error,
    )


def _named(user: dict[str, Any]) -> bool:
    username = user.get("username")
    return isinstance(username, str) and bool(USERNAME_PATTERN.fullmatch(username))
