"""Mail in a real browser (docs/api.md §B): verify the address, then recover the password.

The mail travels the product's own path: the site's form writes the request, the
outbox event reaches the `mailer` through the local eventing, the mailer sends real
SMTP to the session's catcher, and the test opens the link it caught, as a person
would open it from their inbox.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from phasma.devstack.mailcatcher import MailCatcher
from tests.e2e.browsing import assert_accessible, new_identity
from tests.e2e.conftest import Site

pytestmark = pytest.mark.e2e

# The event path is asynchronous (inline publish, else the relay's 3 s sweep, then the
# dispatcher): generous, but bounded so a lost mail fails the test instead of hanging it.
MAIL_WAIT_SECONDS = 30.0
LINK = re.compile(r"https?://\S+\?token=[A-Za-z0-9_-]{43}")


def wait_for_mail(catcher: MailCatcher, address: str, subject: str) -> dict[str, Any]:
    """The one message of `subject` to `address`, once it has arrived."""
    deadline = time.monotonic() + MAIL_WAIT_SECONDS
    while True:
        caught = [
            message
            for message in catcher.mailbox.messages()
            if address in message["to"] and message["subject"] == subject
        ]
        if caught:
            assert len(caught) == 1, caught
            return caught[0]
        assert time.monotonic() < deadline, f"no {subject!r} mail to {address} in time"
        time.sleep(0.2)


def link_in(message: dict[str, Any], site: Site, path: str) -> str:
    """The message's one link, which both parts carry and which opens this site's `path`."""
    (link,) = LINK.findall(message["text"])
    assert link in message["html"]
    assert link.startswith(f"{site.url}{path}?token=")
    return link


def test_verify_the_email_then_reset_the_forgotten_password(
    page: Page, site: Site, mail_catcher: MailCatcher, axe: str
) -> None:
    identity = new_identity("mail")
    page.goto("/register")
    page.get_by_label("Full Name").fill(identity["name"])
    page.get_by_label("Username").fill(identity["username"])
    page.get_by_label("Email").fill(identity["email"])
    page.get_by_label("Password", exact=True).fill(identity["password"])
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/feed")
    banner = page.get_by_role("status", name="Verify your email")
    expect(banner).to_contain_text(identity["email"])
    expect(banner.get_by_role("button", name="Resend the link")).to_be_visible()
    assert_accessible(page, axe)

    # The verification mail's link opens a page; only its button spends the token.
    verification = wait_for_mail(mail_catcher, identity["email"], "Confirm your email address")
    page.goto(link_in(verification, site, "/verify-email"))
    expect(page).to_have_title("Verify your email - Phasma")
    assert_accessible(page, axe)
    page.get_by_role("button", name="Verify my email").click()
    expect(page.get_by_role("heading", name="Email verified")).to_be_visible()
    page.goto("/feed")
    expect(page.get_by_role("heading", name="Your feed is empty")).to_be_visible()
    expect(page.get_by_role("status", name="Verify your email")).to_have_count(0)

    page.goto("/settings")
    page.get_by_role("button", name="Logout Account").click()
    page.wait_for_url("**/login")
    page.get_by_role("link", name="Forgot password?").click()
    page.wait_for_url("**/forgot-password")
    expect(page).to_have_title("Forgot password - Phasma")
    assert_accessible(page, axe)
    page.get_by_label("Email").fill(identity["email"])
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("heading", name="Check your mail")).to_be_visible()
    assert_accessible(page, axe)

    reset = wait_for_mail(mail_catcher, identity["email"], "Reset your Phasma password")
    page.goto(link_in(reset, site, "/reset-password"))
    expect(page).to_have_title("Choose a new password - Phasma")
    assert_accessible(page, axe)
    new_password = f"a new secret {identity['username']}"
    page.get_by_label("New password", exact=True).fill(new_password)
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_role("heading", name="Password changed")).to_be_visible()
    assert_accessible(page, axe)
    page.get_by_role("main").get_by_role("link", name="Log in").click()
    page.wait_for_url("**/login")

    page.get_by_label("Email").fill(identity["email"])
    page.get_by_label("Password", exact=True).fill(identity["password"])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Invalid email or password.")
    page.get_by_label("Password", exact=True).fill(new_password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/feed")
    expect(page.get_by_role("status", name="Verify your email")).to_have_count(0)
