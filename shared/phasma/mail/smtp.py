"""Sending one message through SMTP, with the failure classes the eventing needs.

- A 4xx reply, a refused or dropped connection, a timeout: the mail server may take
  it later → `MailServerUnavailable` (a `DependencyUnavailable`: `503`, retried).
- A 5xx reply to the recipient or to the message itself: it will never be taken →
  `Reject` with the server's reply (`422`, dead-lettered at once with the reason).
- Any other 5xx (sender refused, authentication failed) is our configuration, not the
  message: retried like an outage, so fixing the settings delivers the backlog.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from phasma.config import Settings
from phasma.events.worker import Reject
from phasma.failures import DependencyUnavailable


class MailServerUnavailable(DependencyUnavailable):
    """The mail server did not take the message this time."""


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode(errors="replace") if isinstance(message, bytes) else message
    return f"{code} {text}".strip()


def send(settings: Settings, message: EmailMessage) -> None:
    """Deliver `message` to the SMTP server of `settings`, or raise as described above."""
    if not settings.smtp_host:
        raise MailServerUnavailable("SMTP_HOST is not set")
    try:
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
        ) as client:
            if settings.smtp_starttls:
                client.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                client.login(settings.smtp_username, settings.smtp_password or "")
            client.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        code, reply = next(iter(error.recipients.values()))
        _raise_for(code, reply, permanent=code >= 500)
    except smtplib.SMTPDataError as error:
        _raise_for(error.smtp_code, error.smtp_error, permanent=error.smtp_code >= 500)
    except smtplib.SMTPResponseException as error:
        _raise_for(error.smtp_code, error.smtp_error, permanent=False)
    except (smtplib.SMTPException, OSError) as error:
        raise MailServerUnavailable(f"{type(error).__name__}: {error}") from None


def _raise_for(code: int, reply: bytes | str, *, permanent: bool) -> None:
    if permanent:
        raise Reject(f"the mail server refused the message: {_reply(code, reply)}")
    raise MailServerUnavailable(f"the mail server answered {_reply(code, reply)}")
