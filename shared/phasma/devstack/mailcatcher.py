"""The local SMTP catcher: an `aiosmtpd` server that keeps every message it is sent.

`./taskw up` and the test session point the mailer at it. Each accepted message is
appended as one JSON line to `<state dir>/mail/messages.jsonl` (recipients, subject,
plain text, HTML, time received), which `./taskw mail` prints. Nothing is relayed.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from phasma.devstack.services import free_port

MAILBOX_FILE = "mail/messages.jsonl"


def _part(message: EmailMessage, subtype: str) -> str:
    """A body part's text with plain newlines: SMTP's CRLF line ends are transport."""
    part = message.get_body(preferencelist=(subtype,))
    return part.get_content().replace("\r\n", "\n") if part is not None else ""


@dataclass
class Mailbox:
    """The caught messages of one state dir, one JSON object per line."""

    path: Path

    @classmethod
    def of(cls, state_dir: Path) -> Mailbox:
        return cls(state_dir / MAILBOX_FILE)

    def append(self, record: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as file:
            file.write(json.dumps(record, ensure_ascii=False) + "\n")

    def messages(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]


class CatchingHandler:
    """aiosmtpd handler: accepts every recipient and records every message."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox
        self._lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        raw = content if isinstance(content, bytes) else content.encode()
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        record = {
            "to": list(envelope.rcpt_tos),
            "from": envelope.mail_from,
            "subject": str(message.get("Subject", "")),
            "text": _part(message, "plain"),
            "html": _part(message, "html"),
            "received": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        }
        with self._lock:
            self.mailbox.append(record)
        return "250 Message accepted for delivery"


class MailCatcher:
    """An SMTP server on 127.0.0.1 (on a free port unless given one) feeding a mailbox."""

    def __init__(self, handler: CatchingHandler, port: int | None = None) -> None:
        self.handler = handler
        self.port = port or free_port()
        self._controller = Controller(handler, hostname="127.0.0.1", port=self.port)

    @property
    def mailbox(self) -> Mailbox:
        return self.handler.mailbox

    def start(self) -> MailCatcher:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


def smtp_environment(catcher: MailCatcher) -> dict[str, str]:
    """The mailer's settings for sending to `catcher` (plain SMTP on loopback)."""
    return {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(catcher.port),
        "SMTP_STARTTLS": "false",
    }


def describe(record: dict[str, Any]) -> str:
    """A caught message for a developer: when, to whom, the subject, then its text."""
    recipients = ", ".join(record.get("to", []))
    text = str(record.get("text", "")).rstrip()
    body = "\n".join(f"    {line}" for line in text.splitlines())
    return f"{record.get('received', '-')}  to {recipients}\n  {record.get('subject', '')}\n{body}"
