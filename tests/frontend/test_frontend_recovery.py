"""The site's verification and recovery pages (docs/api.md §B): a GET never spends a token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from phasma.auth.mail_tokens import new_token, token_hmac
from tests.api.conftest import Database
from tests.frontend.conftest import Member, SiteStack, Visitor


def mint(site_stack: SiteStack, database: Database, email: str, purpose: str) -> str:
    """A token as the mailer would mint it, for the account with `email`."""
    token = new_token()
    database.rows(
        """
        INSERT INTO mail_tokens (token_hmac, user_id, purpose, email, expires)
        SELECT :h, id, :purpose, email, :expires FROM users WHERE email = :email
        """,
        h=token_hmac(token, site_stack.api_settings.session_hash_secret or ""),
        purpose=purpose,
        email=email,
        expires=datetime.now(UTC) + timedelta(hours=1),
    )
    return token


def used(database: Database, site_stack: SiteStack, token: str) -> bool:
    secret = site_stack.api_settings.session_hash_secret or ""
    value = database.value(
        "SELECT used IS NOT NULL FROM mail_tokens WHERE token_hmac = :h",
        h=token_hmac(token, secret),
    )
    return bool(value)


def test_the_login_page_offers_a_forgotten_password_form(visitor: Visitor) -> None:
    page = visitor.get("/login").get_data(as_text=True)
    assert 'href="/forgot-password"' in page and "Forgot password?" in page
    form = visitor.get("/forgot-password")
    assert form.status_code == 200 and 'action="/forgot-password"' in form.get_data(as_text=True)
    sent = visitor.post("/forgot-password", data={"email": "nobody-at-all@example.com"})
    assert sent.status_code == 200 and "If an account uses that address" in sent.get_data(
        as_text=True
    )
    bad = visitor.post("/forgot-password", data={"email": "not-an-address"})
    assert bad.status_code == 400


def test_an_unverified_member_sees_the_banner_and_can_resend(member: Member) -> None:
    feed = member.visitor.get("/feed").get_data(as_text=True)
    assert "Please verify your email" in feed and 'action="/settings/verification"' in feed
    assert f"we sent a link to <strong>{member.email}</strong>." in feed
    resent = member.visitor.post("/settings/verification")
    assert resent.status_code == 200 and "We sent a new verification link" in resent.get_data(
        as_text=True
    )


def test_the_verification_link_is_spent_by_the_pages_post_not_its_get(
    member: Member, site_stack: SiteStack, database: Database
) -> None:
    token = mint(site_stack, database, member.email, "verify")
    page = member.visitor.get(f"/verify-email?token={token}")
    assert page.status_code == 200 and f'value="{token}"' in page.get_data(as_text=True)
    assert not used(database, site_stack, token)  # a link scanner's GET spends nothing
    done = member.visitor.post("/verify-email", data={"token": token})
    assert done.status_code == 200 and "your email address is verified" in done.get_data(
        as_text=True
    )
    assert used(database, site_stack, token)
    assert "Please verify your email" not in member.visitor.get("/feed").get_data(as_text=True)
    again = member.visitor.post("/verify-email", data={"token": token})
    assert again.status_code == 400 and "invalid, expired or already used" in again.get_data(
        as_text=True
    )


def test_the_reset_form_sets_the_password_and_refuses_crafted_tokens(
    member: Member, site_stack: SiteStack, database: Database, visitor: Visitor
) -> None:
    token = mint(site_stack, database, member.email, "reset")
    page = visitor.get(f"/reset-password?token={token}")
    assert page.status_code == 200 and 'action="/reset-password"' in page.get_data(as_text=True)
    assert not used(database, site_stack, token)
    # A "token" that would steer the backend call to another path never leaves the site.
    crafted = visitor.post(
        "/reset-password", data={"token": "../users/me", "password": "whatever123"}
    )
    assert crafted.status_code == 400
    short = visitor.post("/reset-password", data={"token": token, "password": "short"})
    assert short.status_code == 400 and not used(database, site_stack, token)
    done = visitor.post("/reset-password", data={"token": token, "password": "a new password"})
    assert done.status_code == 200 and "Your password is changed" in done.get_data(as_text=True)
    assert member.visitor.get("/feed").status_code == 303  # signed out everywhere
    login = visitor.post("/login", data={"email": member.email, "password": "a new password"})
    assert login.status_code == 303
