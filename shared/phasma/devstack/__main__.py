"""`./taskw up`: the whole product on the embedded local stack.

    python -m phasma.devstack up [--port 8081]
    python -m phasma.devstack events-tail [--from-beginning]
    python -m phasma.devstack mail [--json]

Starts the dependency servers (unless named in the environment), applies
migrations, creates the bucket and topics, starts every registered function in
its own functions-framework process, the local eventing (KafkaSources and
PingSources), the SMTP catcher the mailer sends to, and the API gateway. Ctrl-C
stops everything it started, and nothing else. `events-tail` prints the events
flowing through that stack, `mail` the messages its catcher caught.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

from phasma.db.migrations import MigrationError
from phasma.devstack.eventing import Dispatcher, dispatcher_for, tail
from phasma.devstack.gateway import HttpUpstream, serve_gateways
from phasma.devstack.mailcatcher import (
    CatchingHandler,
    Mailbox,
    MailCatcher,
    describe,
    smtp_environment,
)
from phasma.devstack.processes import (
    REPOSITORY_ROOT,
    FunctionProcess,
    start_all,
    start_frontend,
    stop_all,
)
from phasma.devstack.services import Dependencies, DependencyError, port_or_free
from phasma.devstack.stack import prepare
from phasma.provisioning import ProvisioningError
from phasma.registry import event_functions, http_functions
from phasma.topics import TOPICS

# Where `up` leaves the broker address for `events-tail`.
BROKERS_FILE = "kafka-brokers"
# And the app login's database URL for `./taskw admin:grant` (owner-only: it holds the
# password, which is already under the state dir's secrets).
DATABASE_URL_FILE = "database-url"
TAIL_TOPICS = tuple(topic.name for topic in TOPICS)


def progress(line: str) -> None:
    print(f"phasma: {line}", flush=True)


def _state_dir() -> Path:
    return Path(os.environ.get("PHASMA_STATE_DIR", REPOSITORY_ROOT / ".phasma"))


def up(port: int) -> None:
    state_dir = _state_dir()
    started = time.monotonic()
    site_port = int(os.environ.get("FRONTEND_PORT", 8080))
    # Checked before anything starts: finding a busy port after sixteen functions are
    # up would mean a long start and a long stop for nothing.
    port_or_free("gateway (GATEWAY_PORT or --port)", port)
    port_or_free("site (FRONTEND_PORT)", site_port)
    progress(f"starting the local stack (state in {state_dir})")
    # Library logs (kafka-python reconnecting, deliveries retried) go to a file, not the terminal.
    (state_dir / "logs").mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        filename=state_dir / "logs" / "devstack.log",
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    processes: list[FunctionProcess] = []
    dispatcher: Dispatcher | None = None
    catcher: MailCatcher | None = None
    with Dependencies(state_dir, os.environ, progress) as dependencies:
        urls = dependencies.start()
        environment = prepare(urls, state_dir, os.environ, progress)
        try:
            catcher = MailCatcher(CatchingHandler(Mailbox.of(state_dir))).start()
            environment.update(smtp_environment(catcher))
            environment["SITE_URL"] = f"http://127.0.0.1:{site_port}"
            progress(f"mail       SMTP catcher on 127.0.0.1:{catcher.port}")
            processes = start_all(
                (*http_functions(), *event_functions()),
                environment,
                state_dir / "logs",
                progress,
            )
            dispatcher = dispatcher_for(
                urls.kafka_brokers,
                event_functions(),
                {process.name: process.url for process in processes},
                progress,
            )
            dispatcher.start()
            (state_dir / BROKERS_FILE).write_text(urls.kafka_brokers)
            database_url_file = state_dir / DATABASE_URL_FILE
            database_url_file.touch(mode=0o600)
            database_url_file.write_text(environment["DATABASE_URL"])
            gateway, internal = serve_gateways(
                {p.name: HttpUpstream(p.url) for p in processes}, port
            )
            processes.append(
                start_frontend(
                    f"http://127.0.0.1:{internal.server_port}",
                    site_port,
                    state_dir / "logs",
                    progress,
                )
            )
            progress(f"ready in {time.monotonic() - started:.1f} s")
            progress(f"site         http://127.0.0.1:{site_port}")
            progress(f"API gateway  http://127.0.0.1:{port}  (try /users/me or POST /users)")
            progress(f"logs         {state_dir / 'logs'}")
            progress("events       ./taskw events:tail")
            progress("mail         ./taskw mail")
            progress("press Ctrl-C to stop")
            _watch(processes, stop)
            gateway.shutdown()
            internal.shutdown()
        finally:
            progress("stopping")
            if dispatcher is not None:
                dispatcher.stop()
                (state_dir / BROKERS_FILE).unlink(missing_ok=True)
                (state_dir / DATABASE_URL_FILE).unlink(missing_ok=True)
            stop_all(processes)
            if catcher is not None:
                catcher.stop()
    progress("stopped")


def _watch(processes: list[FunctionProcess], stop: threading.Event) -> None:
    """Wait for Ctrl-C or SIGTERM, reporting any function that dies meanwhile."""
    reported: set[str] = set()
    try:
        while not stop.wait(1.0):
            for process in processes:
                code = process.process.poll()
                if code is not None and process.name not in reported:
                    reported.add(process.name)
                    progress(
                        f"function {process.name} exited with code {code}; see {process.log_path}"
                    )
    except KeyboardInterrupt:
        pass


def events_tail(from_beginning: bool) -> None:
    """Print the events on the local broker (KAFKA_BROKERS, else the one `up` started)."""
    brokers = os.environ.get("KAFKA_BROKERS")
    brokers_file = _state_dir() / BROKERS_FILE
    if not brokers and brokers_file.exists():
        brokers = brokers_file.read_text().strip()
    if not brokers:
        raise DependencyError("no broker: start the stack with ./taskw up, or set KAFKA_BROKERS")
    progress(f"events on {brokers} ({', '.join(TAIL_TOPICS)}); Ctrl-C to stop")
    logging.basicConfig(level=logging.CRITICAL)  # kafka-python's reconnect noise
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    tail(
        brokers,
        TAIL_TOPICS,
        from_beginning=from_beginning,
        out=lambda line: print(line, flush=True),
        stopping=stopping,
    )


def mail(as_json: bool) -> None:
    """Print what the catcher of this checkout's stack caught, oldest first."""
    mailbox = Mailbox.of(_state_dir())
    messages = mailbox.messages()
    if as_json:
        for record in messages:
            fields = ("to", "subject", "text", "received")
            print(json.dumps({name: record[name] for name in fields}, ensure_ascii=False))
        return
    if not messages:
        progress(f"no mail caught yet ({mailbox.path})")
        return
    for record in messages:
        print(describe(record), end="\n\n")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m phasma.devstack")
    commands = parser.add_subparsers(dest="command", required=True)
    up_command = commands.add_parser("up", help="run the whole product locally")
    up_command.add_argument("--port", type=int, default=int(os.environ.get("GATEWAY_PORT", 8081)))
    tail_command = commands.add_parser("events-tail", help="print live events of the local stack")
    tail_command.add_argument(
        "--from-beginning", action="store_true", help="start with the oldest retained event"
    )
    mail_command = commands.add_parser("mail", help="list the mail the local stack caught")
    mail_command.add_argument("--json", action="store_true", help="one JSON object per line")
    arguments = parser.parse_args()
    try:
        if arguments.command == "mail":
            mail(arguments.json)
            return
        if arguments.command == "events-tail":
            events_tail(arguments.from_beginning)
            return
        up(arguments.port)
    except (DependencyError, MigrationError, ProvisioningError) as error:
        print(f"phasma: error: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
