"""The whole product for the browser tests, laid out as `./taskw up` runs it.

Every HTTP and event function in its own functions-framework process, the local
eventing, the API gateway and the `frontend` function on its own port, against the
session's real PostgreSQL, Redis, Kafka and S3. The `mailer` sends real SMTP to the
session's aiosmtpd catcher, its links pointing at this site. Headless Debian
Chromium drives it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from phasma.deploy.eventing import consumer_group
from phasma.devstack.eventing import Dispatcher, Ping, Subscription
from phasma.devstack.gateway import HttpUpstream, serve_gateways
from phasma.devstack.mailcatcher import MailCatcher, smtp_environment
from phasma.devstack.processes import FunctionProcess, start_all, start_frontend
from phasma.devstack.services import DependencyUrls, free_port
from phasma.devstack.stack import prepare
from phasma.registry import event_functions, http_functions
from tests.databases import database_from_template
from tests.e2e.browsing import CHROMIUM, CHROMIUM_ARGS, axe_source, ensure_chromium

DATABASE = "phasma_e2e_tests"
# Generous buckets: every browser here is 127.0.0.1, one client IP for the limiter.
ROOMY_LIMITS = {
    f"RATE_LIMIT_{policy}_{field}": value
    for policy in ("STRICT", "TYPEAHEAD", "READ", "MUTATION", "MEDIA")
    for field, value in (("BURST", "100000"), ("RATE", "1000"))
}


@dataclass
class Site:
    """Where the running product answers."""

    url: str
    gateway: str
    owner_database_url: str


def _start_at_the_end(brokers: str, group: str, topics: tuple[str, ...]) -> None:
    """Commit `group`'s offsets at the end of `topics`, so it skips earlier tests' events."""
    consumer = KafkaConsumer(
        bootstrap_servers=brokers.split(","), group_id=group, enable_auto_commit=False
    )
    try:
        partitions = [
            TopicPartition(topic, partition)
            for topic in topics
            for partition in consumer.partitions_for_topic(topic) or ()
        ]
        ends = consumer.end_offsets(partitions)
        consumer.commit({tp: OffsetAndMetadata(offset, "", -1) for tp, offset in ends.items()})
    finally:
        consumer.close()


def _dispatcher(brokers: str, running: list[FunctionProcess]) -> Dispatcher:
    """The KafkaSources and PingSources of the registry, with consumer groups of our own:
    other suites in the session run dispatchers on the same broker."""
    urls = {process.name: process.url for process in running}
    tag = secrets.token_hex(4)
    subscriptions = []
    pings = []
    for function in event_functions():
        if function.topics:
            group = f"{consumer_group(function)}-e2e-{tag}"
            _start_at_the_end(brokers, group, function.topics)
            subscriptions.append(
                Subscription(function.name, group, function.topics, urls[function.name])
            )
        if function.schedule is not None:
            schedule = function.schedule
            pings.append(
                Ping(
                    schedule.source_name,
                    urls[function.name],
                    schedule.payload,
                    schedule.local_every_seconds,
                )
            )
    return Dispatcher(brokers, subscriptions, pings, report=lambda line: None)


@pytest.fixture(scope="session")
def site(
    dependencies: DependencyUrls,
    mail_catcher: MailCatcher,
    template_database: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Site]:
    # Already migrated: `prepare` finds nothing pending, as on a second `./taskw up`.
    owner_url = database_from_template(dependencies.database_url, template_database, DATABASE)
    urls = DependencyUrls(
        database_url=owner_url,
        cache_url=dependencies.cache_url,
        kafka_brokers=dependencies.kafka_brokers,
        s3_endpoint=dependencies.s3_endpoint,
    )
    state_dir: Path = tmp_path_factory.mktemp("e2e-stack")
    lines: list[str] = []
    # The site's port is chosen first: the mailer writes its address into every link.
    site_port = free_port()
    environment = {
        **prepare(urls, state_dir, {}, lines.append),
        **ROOMY_LIMITS,
        **smtp_environment(mail_catcher),
        "SITE_URL": f"http://127.0.0.1:{site_port}",
    }
    logs = state_dir / "logs"
    running = start_all((*http_functions(), *event_functions()), environment, logs, lines.append)
    dispatcher = _dispatcher(urls.kafka_brokers, running)
    dispatcher.start()
    server, internal = serve_gateways({p.name: HttpUpstream(p.url) for p in running}, 0)
    gateway = f"http://127.0.0.1:{server.server_port}"
    frontend = start_frontend(
        f"http://127.0.0.1:{internal.server_port}", site_port, logs, lines.append
    )
    try:
        assert dispatcher.wait_until_joined(60), "the local eventing did not join its groups"
        yield Site(frontend.url, gateway, owner_url)
    finally:
        frontend.stop()
        server.shutdown()
        internal.shutdown()
        dispatcher.stop()
        for process in running:
            process.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    ensure_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def axe() -> str:
    return axe_source()


@pytest.fixture
def context(browser: Browser, site: Site) -> Iterator[BrowserContext]:
    """A fresh browser profile (its own cookies), desktop-sized."""
    created = browser.new_context(base_url=site.url, viewport={"width": 1280, "height": 900})
    created.set_default_timeout(15_000)
    yield created
    created.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A page that fails the test on any script error or CSP violation."""
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    opened.on(
        "console",
        lambda message: (
            problems.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield opened
    assert problems == []
