"""Fixtures shared by every test: the session's dependency servers and migrated template."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from phasma.devstack.mailcatcher import CatchingHandler, Mailbox, MailCatcher
from phasma.devstack.services import Dependencies, DependencyUrls
from tests.databases import migrated_template


@pytest.fixture(scope="session")
def dependencies() -> Iterator[DependencyUrls]:
    """PostgreSQL, Redis, Kafka and S3 for the whole session; the environment may name any.

    Started only when a test asks for it, so `./taskw test:unit` starts nothing. The
    PostgreSQL started here is not durable (no fsync): its data dies with the session.

    The state lives outside pytest's tmp_path root: each pytest session that starts locks
    that root to 0700 again, which cuts off PostgreSQL, run as a system user when we are
    root, in mid-initdb. It is removed after the session, or kept when a server failed.
    """
    state_dir = Path(tempfile.mkdtemp(prefix="phasma-devstack-"))
    with Dependencies(state_dir, os.environ, durable=False) as servers:
        yield servers.start()
    shutil.rmtree(state_dir)


class RefusingHandler(CatchingHandler):
    """The catcher, plus real SMTP refusals on demand: `refuse(address, reply, times)`.

    A refusal is a genuine reply to `RCPT TO` (e.g. `451 4.3.0 try later` or `550 5.1.1
    no such user`), so the mailer sees exactly what a real server would send it.
    """

    def __init__(self, mailbox: Mailbox) -> None:
        super().__init__(mailbox)
        self.refusals: dict[str, list[str]] = {}

    def refuse(self, address: str, reply: str, times: int = 1) -> None:
        self.refusals.setdefault(address, []).extend([reply] * times)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        pending = self.refusals.get(address)
        if pending:
            return pending.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture(scope="session")
def mail_catcher() -> Iterator[MailCatcher]:
    """The session's SMTP catcher (aiosmtpd): the mailer under test sends real SMTP to it."""
    directory = Path(tempfile.mkdtemp(prefix="phasma-mail-"))
    catcher = MailCatcher(RefusingHandler(Mailbox.of(directory))).start()
    yield catcher
    catcher.stop()
    shutil.rmtree(directory)


@pytest.fixture(scope="session")
def template_database(dependencies: DependencyUrls) -> str:
    """The name of a database with every migration applied, to copy (tests/databases.py)."""
    return migrated_template(dependencies.database_url)


# The slowest files (browser, process-per-function and local-stack tests): run first.
_LONGEST_FIRST = ("tests/e2e/", "tests/processes/", "tests/devstack/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `servers` every test that needs the dependency servers, for `-m "not servers"`.

    And start the slowest files first: `./taskw test`'s two workers take files in this
    order, so the quick ones fill the end of the run instead of one long browser file
    holding it up while the other worker idles. The sort is stable.
    """
    for item in items:
        if "dependencies" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.servers)
    items.sort(key=lambda item: not item.nodeid.startswith(_LONGEST_FIRST))
