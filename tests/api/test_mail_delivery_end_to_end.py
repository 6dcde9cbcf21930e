"""The mailer end to end: API → outbox → Kafka → local dispatcher → mailer → SMTP catcher.

Nothing is delivered by hand: the users function publishes after commit, the local
eventing (the KafkaSource stand-in of `./taskw up`) delivers to the `mailer` served
over HTTP, which sends real SMTP to the session's aiosmtpd catcher. A permanent
refusal reaches the dead-letter topic with the server's reply as its reason.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from phasma.deploy.eventing import consumer_group
from phasma.devstack.eventing import Dispatcher, RetryPolicy, Subscription
from phasma.devstack.gateway import serve
from phasma.devstack.mailcatcher import MailCatcher
from phasma.devstack.services import DependencyUrls
from phasma.provisioning import create_topics
from phasma.registry import get_function
from phasma.topics import PARTITIONS
from tests.api.conftest import Api, ApiStack, Database, new_identity
from tests.api.posting import outbox_position
from tests.api.test_events_end_to_end import eventually, start_at_the_end
from tests.api.test_mail_api import MAIL_EVENT, mail_to, token_in
from tests.events.records import TopicReader, header

QUICK_RETRIES = RetryPolicy(retries=3, backoff_seconds=0.1)


@pytest.fixture(scope="module")
def dead_letter_topic(dependencies: DependencyUrls) -> str:
    name = f"test-mail-dead-letter-{secrets.token_hex(4)}"
    create_topics(dependencies.kafka_brokers, {**PARTITIONS, name: 1})
    return name


@pytest.fixture(scope="module")
def mail_eventing(
    event_function,
    dependencies: DependencyUrls,
    api_stack: ApiStack,
    mail_catcher: MailCatcher,
    dead_letter_topic: str,
) -> Iterator[None]:
    """The mailer over HTTP, fed by the local dispatcher from the real broker."""
    brokers = dependencies.kafka_brokers
    mailer = event_function(
        "mailer",
        smtp_host="127.0.0.1",
        smtp_port=mail_catcher.port,
        smtp_starttls=False,
        site_url="http://site.test",
        session_hash_secret=api_stack.settings.session_hash_secret,
    )
    server = serve(mailer.wsgi_app, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    function = get_function("mailer")
    group = f"{consumer_group(function)}-tests-{secrets.token_hex(4)}"
    start_at_the_end(brokers, group, function.topics)
    url = f"http://127.0.0.1:{server.server_port}"
    dispatcher = Dispatcher(
        brokers,
        [Subscription("mailer", group, function.topics, url)],
        retry=QUICK_RETRIES,
        dead_letter_topic=dead_letter_topic,
        topics={**PARTITIONS, dead_letter_topic: 1},
    )
    dispatcher.start()
    assert dispatcher.wait_until_joined(60)
    yield
    dispatcher.stop()
    server.shutdown()


def caught(catcher: MailCatcher, address: str, count: int = 1) -> list[dict[str, Any]]:
    return eventually(lambda: mail_to(catcher, address), lambda found: len(found) >= count)


def test_sign_up_mail_arrives_through_the_broker_and_its_link_verifies(
    mail_eventing: None, api: Api, api_stack: ApiStack, mail_catcher: MailCatcher
) -> None:
    identity = new_identity()
    assert api.post("/users", json=identity).status_code == 201
    (message,) = caught(mail_catcher, identity["email"])
    _, token = token_in(message)
    assert api.post("/email-verifications", json={"token": token}).status_code == 204
    client = Api(api_stack.base_url)
    login = {"email": identity["email"], "password": identity["password"]}
    assert client.post("/sessions", json=login).status_code == 201
    assert client.get("/users/me").json()["emailVerified"] is True


def test_a_transient_refusal_is_retried_by_the_eventing_and_delivered_once(
    mail_eventing: None, api: Api, mail_catcher: MailCatcher
) -> None:
    identity = new_identity()
    mail_catcher.handler.refuse(identity["email"], "421 4.7.0 slow down", times=2)
    assert api.post("/users", json=identity).status_code == 201
    caught(mail_catcher, identity["email"])
    assert mail_catcher.handler.refusals[identity["email"]] == []  # both were answered
    assert len(mail_to(mail_catcher, identity["email"])) == 1


def test_a_permanent_refusal_is_dead_lettered_with_the_reason(
    mail_eventing: None,
    api: Api,
    database: Database,
    dependencies: DependencyUrls,
    mail_catcher: MailCatcher,
    dead_letter_topic: str,
) -> None:
    identity = new_identity()
    mail_catcher.handler.refuse(identity["email"], "550 5.1.1 no such mailbox", times=10)
    dead_letters = TopicReader(dependencies.kafka_brokers, [dead_letter_topic])
    position = outbox_position(database)
    assert api.post("/users", json=identity).status_code == 201
    event_id, subject = database.rows(
        "SELECT id, subject FROM outbox WHERE id > :p AND type = :t", p=position, t=MAIL_EVENT
    )[0]
    found = dead_letters.with_ids([event_id], subject)
    dead_letters.close()
    (record,) = found[str(event_id)]
    assert header(record, "ce_knativeerrorcode") == "422"
    reason = json.loads(base64.b64decode(header(record, "ce_knativeerrordata") or ""))
    assert reason == {"message": "the mail server refused the message: 550 5.1.1 no such mailbox"}
    # Refused once, never retried: nine refusals are still queued.
    assert len(mail_catcher.handler.refusals[identity["email"]]) == 9
    assert mail_to(mail_catcher, identity["email"]) == []
