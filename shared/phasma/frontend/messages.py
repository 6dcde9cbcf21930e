"""What the frontend says about a backend status (docs/frontend.md §2.3).

Backend error bodies are never shown: the status alone picks the copy.
"""

from __future__ import annotations

from typing import Final

STATUS_MESSAGES: Final = {
    400: "The request could not be completed.",
    401: "Please sign in to continue.",
    403: "You do not have permission to do that.",
    404: "Not found.",
    409: "That change conflicts with the current state.",
    429: "Too many requests. Please try again later.",
    503: "The service is temporarily unavailable. Please try again later.",
}
SERVER_ERROR: Final = "Something went wrong. Please try again."
SESSION_NOT_ESTABLISHED: Final = "Could not establish a session. Please try again."
USERNAME_TAKEN: Final = "That username is taken."
EMAIL_TAKEN: Final = "That email is already registered."


def conflicting_field(message: object) -> tuple[str, str]:
    """`(field, copy)` for a `409` from `POST /users` or `PUT /users/me`: the API's
    message names the field, the site says it in its own words next to that field."""
    if isinstance(message, str) and "email" in message.lower():
        return "email", EMAIL_TAKEN
    return "username", USERNAME_TAKEN


# Report reasons in the order the report form and dialog offer them (docs/api.md §D), with
# their labels: a template global, since the dialog is on every signed-in page.
REPORT_REASONS: Final = (
    ("spam", "Spam"),
    ("harassment", "Harassment or bullying"),
    ("nudity", "Nudity or sexual content"),
    ("violence", "Violence or threats"),
    ("copyright", "Copyright infringement"),
    ("other", "Something else"),
)

# One-time messages for the page a form lands on, by the name the `flash` cookie carries.
POST_DELETED: Final = "post-deleted"
POST_UPDATED: Final = "post-updated"
ACCOUNT_DELETED: Final = "account-deleted"
BLOCKED: Final = "blocked"
UNBLOCKED: Final = "unblocked"
MUTED: Final = "muted"
UNMUTED: Final = "unmuted"
REPORTED: Final = "reported"
DECISION_SAVED: Final = "decision-saved"
ACCOUNT_REINSTATED: Final = "account-reinstated"
FLASHES: Final = {
    POST_DELETED: "Post deleted.",
    POST_UPDATED: "Post updated.",
    ACCOUNT_DELETED: "Your account is being deleted.",
    BLOCKED: "Account blocked.",
    UNBLOCKED: "Account unblocked.",
    MUTED: "Account muted.",
    UNMUTED: "Account unmuted.",
    REPORTED: "Thanks, we'll review it",
    DECISION_SAVED: "Decision saved. The reports are closed.",
    ACCOUNT_REINSTATED: "Account reinstated.",
}


def status_message(status: int) -> str:
    """The copy for a failed backend call with `status`."""
    if status in STATUS_MESSAGES:
        return STATUS_MESSAGES[status]
    return SERVER_ERROR if status >= 500 else STATUS_MESSAGES[400]
