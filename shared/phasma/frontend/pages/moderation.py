"""The moderation queue (docs/api.md §D; docs/frontend.md "Moderation").

Every page and form calls the `moderation` API with the visitor's session; the API
reads the role on each call, so a member who guesses the URL gets its `403` as the
site's 403 page. The navbar link is only a convenience for moderators and admins.
"""

from __future__ import annotations

from werkzeug import Response

from phasma.frontend.backend import api_path
from phasma.frontend.context import Context, PageError, SignInRequired
from phasma.frontend.cookies import set_flash
from phasma.frontend.messages import (
    ACCOUNT_REINSTATED,
    DECISION_SAVED,
    status_message,
)
from phasma.frontend.pages import USERNAME_SEGMENT, cursor_param, page_of, uuid_param

STATUSES = ("open", "closed")
ACTIONS = ("dismiss", "remove", "suspend")
NOTE_MAX_CHARS = 1000
NOTE_LENGTH_MESSAGE = "A note must be 1000 characters or fewer."
# What the confirmation asks, per action and subject.
QUESTIONS = {
    "dismiss": "Dismiss the reports on this {subject}?",
    "remove": "Remove this {subject}?",
    "suspend": "Suspend {author}?",
}
CONSEQUENCES = {
    "dismiss": "The reports are closed and nothing else changes. Reporters are told they "
    "were reviewed.",
    "remove": "The {subject} is deleted for everyone and its author is notified. Every open "
    "report on it is closed.",
    "suspend": "{author} is signed out everywhere, cannot log in, and their profile and "
    "posts are hidden until reinstated. Every open report on this {subject} is closed.",
}
SUBJECT_NAMES = {"post": "post", "comment": "comment", "user": "account"}


def queue(context: Context) -> Response:
    """`GET /moderation[?status=closed][&cursor=]`: open reports grouped per subject, oldest
    first, or the closed ones, newest decision first."""
    status = context.request.args.get("status", "open")
    if status not in STATUSES:
        status = "open"
    response = context.expect(
        context.api.get("/moderation/reports", status=status, cursor=cursor_param(context))
    )
    entries, next_cursor = page_of(response)
    return context.render(
        "moderation.html",
        title="Moderation",
        tab=status,
        entries=entries,
        next_cursor=next_cursor,
    )


def decide(context: Context) -> Response:
    """`POST /moderation/reports/{id}/decision`: first the confirmation page, then, with
    `confirm=yes`, the decision; back to the queue with a one-time message."""
    report_id = uuid_param(context, "report_id")
    action = context.field("action")
    if action not in ACTIONS:
        raise PageError(400)
    note = context.field("note").strip()
    if len(note) > NOTE_MAX_CHARS:
        raise PageError(400, NOTE_LENGTH_MESSAGE)
    if context.field("confirm") != "yes":
        return _confirm(context, report_id, action, note)
    body: dict[str, str] = {"action": action}
    if note:
        body["note"] = note
    response = context.api.call(
        "POST", api_path("/moderation/reports/{}/decision", report_id), json_body=body
    )
    if response.status == 401:
        raise SignInRequired()
    if not response.ok:
        raise PageError(response.status, status_message(response.status))
    done = context.redirect("/moderation")
    set_flash(done, DECISION_SAVED, secure=context.secure)
    return done


def reinstate(context: Context) -> Response:
    """`POST /moderation/users/{@username}/reinstate`: lift a suspension."""
    match = USERNAME_SEGMENT.fullmatch(context.params["handle"])
    if match is None:
        raise PageError(404)
    response = context.api.call("POST", api_path("/moderation/users/{}/reinstate", match.group(1)))
    if response.status == 401:
        raise SignInRequired()
    if not response.ok:
        raise PageError(response.status, status_message(response.status))
    done = context.redirect(context.next_path("/moderation?status=closed"))
    set_flash(done, ACCOUNT_REINSTATED, secure=context.secure)
    return done


def _confirm(context: Context, report_id: str, action: str, note: str) -> Response:
    """The confirmation: what the decision does, with the note carried along."""
    subject_type = context.field("subject_type")
    subject = SUBJECT_NAMES.get(subject_type, "report")
    # Only words on the page: the API decides whom a suspension hits.
    author = f"@{context.field('author')}"
    if not USERNAME_SEGMENT.fullmatch(author):
        author = "the author"
    values = {"subject": subject, "author": author}
    return context.render(
        "moderation_confirm.html",
        title="Confirm decision",
        heading=QUESTIONS[action].format(**values),
        text=_sentence(CONSEQUENCES[action].format(**values)),
        action=action,
        note=note,
        report_id=report_id,
    )


def _sentence(text: str) -> str:
    """`text` with a capital first letter ("the author is ..." starts a sentence)."""
    return text[:1].upper() + text[1:]
