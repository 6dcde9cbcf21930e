"""docs/api.md §B: verification mail, password reset and email-change notices, over HTTP.

The mailer runs through its real entry point on the API tests' database and sends
real SMTP to the session's aiosmtpd catcher; the tests read the mail it caught and
follow the link's token, as a person would.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from phasma.auth.mail_tokens import token_hmac
from phasma.devstack.mailcatcher import MailCatcher
from phasma.devstack.services import DependencyUrls
from phasma.events.cloudevents import OutboxRow, to_cloudevent
from phasma.events.worker import OUTCOME_HEADER, EventFunction
from tests.api.conftest import Account, Api, ApiStack, Database, deliver, new_identity
from tests.api.event_delivery import outbox_rows
from tests.api.posting import outbox_position

MAIL_EVENT = "phasma.mail.requested"
INVALID_TOKEN = {"message": "the link is invalid, expired or already used"}
LINK = re.compile(r"(https?://\S+/(verify-email|reset-password)\?token=([A-Za-z0-9_-]+))")
RESET_SUBJECT = "Reset your Phasma password"
WRITES = ("outbox", "mail_tokens", "verification_requests", "audit_log", "sessions")


@pytest.fixture
def mailer(event_function, api_stack: ApiStack, mail_catcher: MailCatcher) -> EventFunction:
    """The `mailer` on the API tests' database, sending to the catcher, keyed like the API."""
    return event_function(
        "mailer",
        smtp_host="127.0.0.1",
        smtp_port=mail_catcher.port,
        smtp_starttls=False,
        site_url="http://site.test",
        session_hash_secret=api_stack.settings.session_hash_secret,
    )


@pytest.fixture
def cache(dependencies: DependencyUrls) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(dependencies.cache_url, decode_responses=True)
    yield client
    client.close()


def mail_events(database: Database, after: int) -> list[OutboxRow]:
    return outbox_rows(database, after, MAIL_EVENT)


def send(mailer: EventFunction, row: OutboxRow) -> Any:
    return deliver(mailer, to_cloudevent(row))


def mail_to(catcher: MailCatcher, address: str) -> list[dict[str, Any]]:
    return [m for m in catcher.mailbox.messages() if address in m["to"]]


def token_in(message: dict[str, Any]) -> tuple[str, str]:
    """(link path, token) of the one link in a caught message, checked in both parts."""
    found = LINK.findall(message["text"])
    assert len(found) == 1, message["text"]
    url, path, token = found[0]
    assert url in message["html"]
    return path, token


def mailed_token(mailer: EventFunction, catcher: MailCatcher, row: OutboxRow) -> str:
    response = send(mailer, row)
    assert response.status_code == 204, response.get_data(as_text=True)
    assert response.headers[OUTCOME_HEADER] == "applied"
    path, token = token_in(mail_to(catcher, row.payload["address"])[-1])
    assert path == ("verify-email" if row.payload["kind"] == "verify" else "reset-password")
    return token


def register(api: Api, database: Database) -> tuple[dict[str, str], OutboxRow]:
    """A new account over HTTP and the verification mail event it requested."""
    identity = new_identity()
    position = outbox_position(database)
    assert api.post("/users", json=identity).status_code == 201
    (event,) = mail_events(database, position)
    return identity, event


def signed_in(api_stack: ApiStack, identity: dict[str, str]) -> Api:
    client = Api(api_stack.base_url)
    login = {"email": identity["email"], "password": identity["password"]}
    assert client.post("/sessions", json=login).status_code == 201
    return client


# -- verification ---------------------------------------------------------------


def test_sign_up_mails_a_link_whose_token_verifies_the_address_once(
    api: Api,
    api_stack: ApiStack,
    database: Database,
    mailer: EventFunction,
    mail_catcher: MailCatcher,
) -> None:
    identity, event = register(api, database)
    assert event.payload == {
        "kind": "verify",
        "userId": event.subject,
        "address": identity["email"],
    }
    client = signed_in(api_stack, identity)
    assert client.get("/users/me").json()["emailVerified"] is False
    # Others' views never carry it.
    assert "emailVerified" not in api.get(f"/users/{identity['username']}").json()

    token = mailed_token(mailer, mail_catcher, event)
    (message,) = mail_to(mail_catcher, identity["email"])
    assert message["subject"] == "Confirm your email address"
    assert len(token) == 43  # 32 random bytes, unpadded base64url
    # Only the HMAC is stored, under the mail-token key (not the session key).
    secret = api_stack.settings.session_hash_secret or ""
    stored = database.rows(
        "SELECT token_hmac, purpose FROM mail_tokens WHERE email = :e", e=identity["email"]
    )
    assert stored == [[token_hmac(token, secret), "verify"]]

    response = api.post("/email-verifications", json={"token": token})
    assert response.status_code == 204, response.text
    assert client.get("/users/me").json()["emailVerified"] is True

    again = api.post("/email-verifications", json={"token": token})
    assert (again.status_code, again.json()) == (400, INVALID_TOKEN)


def test_a_redelivered_mail_event_is_not_sent_twice(
    api: Api, database: Database, mailer: EventFunction, mail_catcher: MailCatcher
) -> None:
    identity, event = register(api, database)
    assert send(mailer, event).headers[OUTCOME_HEADER] == "applied"
    assert send(mailer, event).headers[OUTCOME_HEADER] == "skipped"
    assert len(mail_to(mail_catcher, identity["email"])) == 1
    count = "SELECT count(*) FROM mail_tokens WHERE email = :e"
    assert database.value(count, e=identity["email"]) == 1


@pytest.mark.parametrize(
    "body",
    [{}, {"token": ""}, {"token": "x" * 43}, {"token": "not a token"}, {"token": "a" * 500}],
)
def test_unknown_or_malformed_verification_tokens_are_400(
    api: Api, database: Database, body: dict[str, str]
) -> None:
    before = database.counts(*WRITES)
    response = api.post("/email-verifications", json=body)
    assert (response.status_code, response.json()) == (400, INVALID_TOKEN)
    assert database.counts(*WRITES) == before


def test_an_expired_verification_token_is_400_and_verifies_nothing(
    api: Api,
    api_stack: ApiStack,
    database: Database,
    mailer: EventFunction,
    mail_catcher: MailCatcher,
) -> None:
    identity, event = register(api, database)
    token = mailed_token(mailer, mail_catcher, event)
    database.rows(
        "UPDATE mail_tokens SET expires = now() - interval '1 second' WHERE email = :e",
        e=identity["email"],
    )
    before = database.counts(*WRITES)
    response = api.post("/email-verifications", json={"token": token})
    assert (response.status_code, response.json()) == (400, INVALID_TOKEN)
    assert database.counts(*WRITES) == before
    assert signed_in(api_stack, identity).get("/users/me").json()["emailVerified"] is False


def test_resending_the_verification_mail_allows_three_an_hour(
    account: Account, api: Api, database: Database
) -> None:
    position = outbox_position(database)
    for _ in range(3):
        response = account.client.post("/users/me/verification")
        assert response.status_code == 202, response.text
    events = mail_events(database, position)
    assert [e.payload["kind"] for e in events] == ["verify"] * 3
    before = database.counts(*WRITES)
    fourth = account.client.post("/users/me/verification")
    assert fourth.status_code == 429
    assert fourth.json() == {"message": "Too many verification mails; try again later"}
    assert 1 <= int(fourth.headers["Retry-After"]) <= 3600
    assert database.counts(*WRITES) == before
    # Signed out: 401, like every session route.
    assert api.post("/users/me/verification").status_code == 401


def test_older_links_stay_valid_after_a_resend(
    account: Account, database: Database, mailer: EventFunction, mail_catcher: MailCatcher
) -> None:
    position = outbox_position(database)
    assert account.client.post("/users/me/verification").status_code == 202
    assert account.client.post("/users/me/verification").status_code == 202
    first, second = mail_events(database, position)
    old = mailed_token(mailer, mail_catcher, first)
    mailed_token(mailer, mail_catcher, second)
    assert account.client.post("/email-verifications", json={"token": old}).status_code == 204


# -- email change ---------------------------------------------------------------


def test_an_email_change_verifies_the_new_address_and_notifies_the_old_one(
    account: Account,
    api: Api,
    database: Database,
    mailer: EventFunction,
    mail_catcher: MailCatcher,
) -> None:
    (signup,) = [
        e
        for e in mail_events(database, 0)
        if e.payload["address"] == account.email and e.payload["kind"] == "verify"
    ]
    old_token = mailed_token(mailer, mail_catcher, signup)
    new_email = f"moved_{account.username}@example.com"
    position = outbox_position(database)
    profile = {"name": account.name, "username": account.username, "email": new_email}
    response = account.client.put("/users/me", json={**profile, "oldPassword": account.password})
    assert response.status_code == 204, response.text
    me = account.client.get("/users/me").json()
    assert (me["email"], me["emailVerified"]) == (new_email, False)

    verify, notice = mail_events(database, position)
    assert (verify.payload["kind"], verify.payload["address"]) == ("verify", new_email)
    assert (notice.payload["kind"], notice.payload["address"]) == (
        "email_changed_notice",
        account.email,
    )
    assert send(mailer, notice).status_code == 204
    (notice_mail,) = [m for m in mail_to(mail_catcher, account.email) if "changed" in m["subject"]]
    assert "token=" not in notice_mail["text"] and "token=" not in notice_mail["html"]

    # The link sent to the old address cannot verify the new one.
    stale = api.post("/email-verifications", json={"token": old_token})
    assert (stale.status_code, stale.json()) == (400, INVALID_TOKEN)
    new_token = mailed_token(mailer, mail_catcher, verify)
    assert api.post("/email-verifications", json={"token": new_token}).status_code == 204
    assert account.client.get("/users/me").json()["emailVerified"] is True


# -- password reset -------------------------------------------------------------


def test_a_reset_request_is_202_whether_or_not_the_address_exists(
    account: Account, api: Api, database: Database
) -> None:
    before = database.counts(*WRITES)
    unknown = api.post("/password-resets", json={"email": "nobody-here@example.com"})
    assert (unknown.status_code, unknown.json()) == (202, {})
    assert database.counts(*WRITES) == before  # nothing requested for nobody

    position = outbox_position(database)
    known = api.post("/password-resets", json={"email": f"  {account.email.upper()} "})
    assert (known.status_code, known.json()) == (202, {})
    (event,) = mail_events(database, position)
    assert (event.payload["kind"], event.payload["address"]) == ("reset", account.email)


@pytest.mark.parametrize("body", [{}, {"email": ""}, {"email": "no-at-sign"}, {"email": "a@b"}])
def test_a_reset_request_with_a_bad_email_is_400(
    api: Api, database: Database, body: dict[str, str]
) -> None:
    before = database.counts(*WRITES)
    response = api.post("/password-resets", json=body)
    assert (response.status_code, response.json()) == (
        400,
        {"message": "email is not a valid address"},
    )
    assert database.counts(*WRITES) == before


def test_reset_mails_are_capped_per_account_whoever_asks(
    account: Account,
    api_stack: ApiStack,
    database: Database,
    mailer: EventFunction,
    mail_catcher: MailCatcher,
) -> None:
    """Five requests from five client addresses: five 202s, three reset mails."""
    position = outbox_position(database)
    written: list[dict[str, int]] = []
    for _ in range(5):
        before = database.counts(*WRITES)
        stranger = Api(api_stack.base_url)  # a client address of its own each time
        response = stranger.post("/password-resets", json={"email": account.email})
        assert (response.status_code, response.json()) == (202, {})
        after = database.counts(*WRITES)
        written.append({table: after[table] - before[table] for table in WRITES})
    requested = {"outbox": 1, "mail_tokens": 0, "verification_requests": 1}
    nothing = dict.fromkeys(requested, 0)
    # The 4th and 5th answer like the first three (and like an unknown address) but
    # write nothing: no request row, no mail event.
    assert [{t: w[t] for t in requested} for w in written] == [requested] * 3 + [nothing] * 2
    events = mail_events(database, position)
    assert [(e.payload["kind"], e.payload["address"]) for e in events] == [
        ("reset", account.email)
    ] * 3
    for event in events:
        mailed_token(mailer, mail_catcher, event)
    resets = [m for m in mail_to(mail_catcher, account.email) if m["subject"] == RESET_SUBJECT]
    assert len(resets) == 3

    # The cap is the reset's own: the account can still ask for a verification mail.
    assert account.client.post("/users/me/verification").status_code == 202
    # Once the hour has passed, a request mails again.
    database.rows(
        """
        UPDATE verification_requests SET created = created - interval '61 minutes'
        WHERE user_id = (SELECT id FROM users WHERE email = :e) AND purpose = 'reset'
        """,
        e=account.email,
    )
    position = outbox_position(database)
    again = Api(api_stack.base_url).post("/password-resets", json={"email": account.email})
    assert again.status_code == 202
    assert [e.payload["kind"] for e in mail_events(database, position)] == ["reset"]


def reset_token(
    account: Account, api: Api, database: Database, mailer: EventFunction, catcher: MailCatcher
) -> str:
    position = outbox_position(database)
    assert api.post("/password-resets", json={"email": account.email}).status_code == 202
    (event,) = mail_events(database, position)
    return mailed_token(mailer, catcher, event)


def test_a_reset_sets_the_password_ends_every_session_and_clears_the_email_counter(
    make_account,
    api: Api,
    api_stack: ApiStack,
    database: Database,
    mailer: EventFunction,
    mail_catcher: MailCatcher,
    cache: redis.Redis,
) -> None:
    account: Account = make_account()
    second_device = signed_in(api_stack, {"email": account.email, "password": account.password})
    for _ in range(3):  # a stranger's failed guesses against the email
        guess = {"email": account.email, "password": "wrong password"}
        assert Api(api_stack.base_url).post("/sessions", json=guess).status_code == 401
    assert cache.get(f"login:email:{account.email}") == "3"

    token = reset_token(account, api, database, mailer, mail_catcher)
    # A stray cookie is never read on a public route.
    api.http.cookies.set("session", "x" * 28)
    response = api.put(f"/password-resets/{token}", json={"password": "a brand new secret"})
    assert response.status_code == 204, response.text

    for client in (account.client, second_device):
        assert client.get("/users/me").status_code == 401
    assert (
        database.value(
            "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = :e",
            e=account.email,
        )
        == 0
    )
    assert cache.get(f"login:email:{account.email}") is None
    fresh = Api(api_stack.base_url)
    old = {"email": account.email, "password": account.password}
    assert fresh.post("/sessions", json=old).status_code == 401
    new = {"email": account.email, "password": "a brand new secret"}
    assert fresh.post("/sessions", json=new).status_code == 201

    spent = api.put(f"/password-resets/{token}", json={"password": "yet another secret"})
    assert (spent.status_code, spent.json()) == (400, INVALID_TOKEN)


@pytest.mark.parametrize("password", ["short", "x" * 129, "é" * 65])
def test_a_reset_with_a_bad_password_is_400_and_keeps_the_token(
    account: Account,
    api: Api,
    database: Database,
    mailer: EventFunction,
    mail_catcher: MailCatcher,
    password: str,
) -> None:
    token = reset_token(account, api, database, mailer, mail_catcher)
    before = database.counts(*WRITES)
    hash_before = database.value(
        "SELECT password_hash FROM users WHERE email = :e", e=account.email
    )
    response = api.put(f"/password-resets/{token}", json={"password": password})
    assert (response.status_code, response.json()) == (
        400,
        {"message": "password must be 8-128 bytes"},
    )
    assert database.counts(*WRITES) == before
    assert (
        database.value("SELECT password_hash FROM users WHERE email = :e", e=account.email)
        == hash_before
    )
    assert account.client.get("/users/me").status_code == 200
    assert (
        api.put(f"/password-resets/{token}", json={"password": "long enough now"}).status_code
        == 204
    )


def test_unknown_expired_and_foreign_reset_tokens_are_400(
    account: Account,
    api: Api,
    database: Database,
    mailer: EventFunction,
    mail_catcher: MailCatcher,
) -> None:
    token = reset_token(account, api, database, mailer, mail_catcher)
    database.rows(
        """
        UPDATE mail_tokens SET expires = now() - interval '1 second'
        WHERE email = :e AND purpose = 'reset'
        """,
        e=account.email,
    )
    (signup,) = [
        e
        for e in mail_events(database, 0)
        if e.payload["address"] == account.email and e.payload["kind"] == "verify"
    ]
    verify_token = mailed_token(mailer, mail_catcher, signup)
    before = database.counts(*WRITES)
    for candidate in (token, verify_token, "y" * 43, "short"):
        response = api.put(f"/password-resets/{candidate}", json={"password": "long enough now"})
        assert (response.status_code, response.json()) == (400, INVALID_TOKEN), candidate
    assert database.counts(*WRITES) == before
    assert account.client.get("/users/me").status_code == 200


# -- the mailer's failures and its secrets --------------------------------------


def test_a_transient_smtp_refusal_answers_503_and_the_retry_delivers(
    api: Api, database: Database, mailer: EventFunction, mail_catcher: MailCatcher
) -> None:
    identity, event = register(api, database)
    mail_catcher.handler.refuse(identity["email"], "451 4.3.0 try again later")
    first = send(mailer, event)
    assert first.status_code == 503
    # Nothing of the failed attempt stays: no token, no delivery record.
    assert (
        database.value("SELECT count(*) FROM mail_tokens WHERE email = :e", e=identity["email"])
        == 0
    )
    assert (
        database.value("SELECT count(*) FROM mail_deliveries WHERE event_id = :i", i=str(event.id))
        == 0
    )
    assert mail_to(mail_catcher, identity["email"]) == []
    mailed_token(mailer, mail_catcher, event)
    assert len(mail_to(mail_catcher, identity["email"])) == 1


def test_a_refused_smtp_server_answers_503(
    api: Api, database: Database, event_function, api_stack: ApiStack
) -> None:
    _, event = register(api, database)
    closed = event_function(
        "mailer",
        smtp_host="127.0.0.1",
        smtp_port=1,  # nothing listens: connection refused
        smtp_starttls=False,
        session_hash_secret=api_stack.settings.session_hash_secret,
    )
    assert send(closed, event).status_code == 503


def test_a_permanent_smtp_refusal_is_rejected_with_its_reason(
    api: Api, database: Database, mailer: EventFunction, mail_catcher: MailCatcher
) -> None:
    identity, event = register(api, database)
    mail_catcher.handler.refuse(identity["email"], "550 5.1.1 no such mailbox")
    response = send(mailer, event)
    assert response.status_code == 422
    assert response.json == {
        "message": "the mail server refused the message: 550 5.1.1 no such mailbox"
    }
    assert (
        database.value("SELECT count(*) FROM mail_tokens WHERE email = :e", e=identity["email"])
        == 0
    )


def test_no_token_reaches_a_log_line_or_an_event(
    api: Api,
    database: Database,
    mailer: EventFunction,
    mail_catcher: MailCatcher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    identity, event = register(api, database)
    verify = mailed_token(mailer, mail_catcher, event)
    assert api.post("/email-verifications", json={"token": verify}).status_code == 204
    position = outbox_position(database)
    assert api.post("/password-resets", json={"email": identity["email"]}).status_code == 202
    (reset_event,) = mail_events(database, position)
    reset = mailed_token(mailer, mail_catcher, reset_event)
    response = api.put(f"/password-resets/{reset}", json={"password": "a fresh password"})
    assert response.status_code == 204

    # The catcher (the recipient's server, `mail.log`) is the only place a token may be;
    # urllib3 here is the test's own HTTP client, the browser's side.
    ours = [r for r in caplog.records if not r.name.startswith(("mail.log", "urllib3"))]
    assert any("/password-resets/{token}" in r.getMessage() for r in ours)  # logged, redacted
    for token in (verify, reset):
        for record in ours:
            assert token not in record.getMessage(), record.name
            assert token not in str(getattr(record, "fields", "")), record.name
        payloads = database.rows("SELECT payload::text FROM outbox WHERE type = :t", t=MAIL_EVENT)
        assert not any(token in row[0] for row in payloads)
        assert (
            database.value("SELECT count(*) FROM mail_tokens WHERE token_hmac = :t", t=token) == 0
        )
