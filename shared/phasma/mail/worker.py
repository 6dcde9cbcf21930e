"""`mailer`: sends the mail `phasma.mail.requested` events ask for (docs/api.md §B).

The event names the kind, the account and the recipient, never a secret. For a
link, the mailer mints the single-use token here, stores only its HMAC, and puts
the token in the message alone: no token ever crosses the broker or a log line.

One transaction per event claims its id in `mail_deliveries`, stores the token and
sends, so a redelivered event is skipped (its id is taken) and a failed send leaves
nothing behind: the token of a message that was never sent is never stored. A
concurrent redelivery waits on the claimed id until the first one decides.
"""

from __future__ import annotations

from phasma.auth import mail_tokens
from phasma.events.catalogue import MailRequested
from phasma.events.worker import Outcome, ReceivedEvent, Skip
from phasma.mail import queries, smtp
from phasma.mail.compose import compose
from phasma.runtime import Runtime

EVENT_TYPE = "phasma.mail.requested"
LINK_PATHS: dict[mail_tokens.Purpose, str] = {"verify": "/verify-email", "reset": "/reset-password"}
# Links that carry no token: the page checks the session, so the link is no secret.
PLAIN_LINK_PATHS: dict[str, str] = {"export_ready": "/settings/export"}


def handle(event: ReceivedEvent, runtime: Runtime) -> Outcome:
    """Send one requested mail; "skipped" for other types, duplicates and stale requests."""
    if event.type != EVENT_TYPE:
        return "skipped"
    payload = event.payload(MailRequested)
    settings = runtime.settings
    secret = settings.session_hash_secret
    if not secret:
        raise RuntimeError("SESSION_HASH_SECRET is required to mint mail tokens")
    with runtime.db.transaction() as executor:
        if not queries.claim_delivery(executor, event.id):
            raise Skip("already sent")
        user = queries.recipient(executor, payload.user_id)
        if user is None:
            raise Skip("the account is gone")
        link = None
        if payload.kind in PLAIN_LINK_PATHS:
            link = f"{settings.site_url.rstrip('/')}{PLAIN_LINK_PATHS[payload.kind]}"
        elif payload.kind in ("verify", "reset"):  # the kinds whose link carries a token
            # A link is worth sending only to the account's current address: a later
            # email change (or a verification already done) makes the request stale.
            if user["email"] != payload.address:
                raise Skip("the account's address changed since the request")
            if payload.kind == "verify" and user["email_verified_at"] is not None:
                raise Skip("the address is already verified")
            token = mail_tokens.store(executor, secret, user["id"], payload.kind, payload.address)
            link = f"{settings.site_url.rstrip('/')}{LINK_PATHS[payload.kind]}?token={token}"
        message = compose(
            payload.kind,
            sender=settings.mail_from,
            recipient=payload.address,
            name=user["name"],
            username=user["username"],
            site_url=settings.site_url,
            link=link,
        )
        smtp.send(settings, message)
    return "applied"
