"""The local SMTP catcher and `./taskw mail`: what the mailer sends is what a developer reads."""

from __future__ import annotations

import json
import smtplib
from pathlib import Path

import pytest

from phasma.devstack import __main__ as devstack
from phasma.devstack.mailcatcher import CatchingHandler, Mailbox, MailCatcher
from phasma.mail.compose import compose

LINK = "http://127.0.0.1:8080/verify-email?token=" + "A" * 43


def test_a_caught_message_is_listed_readably_and_as_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    catcher = MailCatcher(CatchingHandler(Mailbox.of(tmp_path))).start()
    try:
        message = compose(
            "verify",
            sender="Phasma <no-reply@phasma.example.com>",
            recipient="someone@example.com",
            name="Some One",
            username="someone",
            site_url="http://127.0.0.1:8080",
            link=LINK,
        )
        with smtplib.SMTP("127.0.0.1", catcher.port, timeout=10) as client:
            client.send_message(message)
    finally:
        catcher.stop()
    monkeypatch.setenv("PHASMA_STATE_DIR", str(tmp_path))

    devstack.mail(as_json=True)
    (line,) = capsys.readouterr().out.splitlines()
    record = json.loads(line)
    assert set(record) == {"to", "subject", "text", "received"}
    assert (record["to"], record["subject"]) == (["someone@example.com"], message["Subject"])
    # Plain newlines, so a script can split and search the text as it reads.
    assert f"\n{LINK}\n" in record["text"] and "\r" not in record["text"]

    devstack.mail(as_json=False)
    readable = capsys.readouterr().out
    assert "to someone@example.com" in readable and f"    {LINK}\n" in readable


def test_no_mail_yet_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PHASMA_STATE_DIR", str(tmp_path))
    devstack.mail(as_json=False)
    assert capsys.readouterr().out.strip() == (
        f"phasma: no mail caught yet ({tmp_path / 'mail' / 'messages.jsonl'})"
    )
    devstack.mail(as_json=True)
    assert capsys.readouterr().out == ""  # nothing for a script to parse
