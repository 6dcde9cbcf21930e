"""Deleting an account in a real browser (docs/api.md §C): the settings page, the signed-out
landing that says so once, and the account-remover running for real through the local
eventing until the leaver's like is gone from another user's post."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from phasma.db.connect import connect
from tests.e2e.browsing import assert_accessible, seed_member, sign_in
from tests.e2e.conftest import Site

pytestmark = pytest.mark.e2e

# The event is published at the request's commit and the remover needs a few batches:
# seconds on a quiet machine, so a minute means it is not coming.
REMOVAL_TIMEOUT_SECONDS = 60


def test_a_deleted_account_leaves_and_its_like_goes_with_it(
    page: Page, site: Site, axe: str
) -> None:
    author = seed_member(site.gateway, "author")
    post_id = author.post_photo("Harbour lights #night", seed=31)
    bystander = seed_member(site.gateway, "bystander")
    assert bystander.call("POST", f"/posts/{post_id}/likes").status_code == 204
    leaver = seed_member(site.gateway, "leaver")

    # The leaver likes the author's post in the browser: two likes now.
    sign_in(page, leaver)
    page.goto(f"/posts/{post_id}")
    card = page.locator(f"#post-{post_id}")
    card.locator("[data-like-button]").click()
    expect(card.locator("[data-like-button]")).to_have_attribute("aria-pressed", "true")
    expect(card.locator("[data-like-count]")).to_have_text("2")

    page.goto("/settings")
    page.get_by_role("link", name="Delete Account").click()
    page.wait_for_url("**/settings/delete-account")
    expect(page).to_have_title("Delete Account - Phasma")
    expect(page.get_by_text("This cannot be undone.")).to_be_visible()
    assert_accessible(page, axe)

    # A wrong password first: the form again, nothing deleted.
    page.get_by_label("Password", exact=True).fill("not my password")
    page.get_by_role("button", name="Delete My Account").click()
    expect(page.get_by_role("alert")).to_have_text("Current password is incorrect.")
    assert author.call("GET", f"/users/{leaver.username}").status_code == 200

    page.get_by_label("Password", exact=True).fill(leaver.password)
    page.get_by_role("button", name="Delete My Account").click()
    page.wait_for_url(f"{site.url}/")
    expect(
        page.get_by_role("status").filter(has_text="Your account is being deleted.")
    ).to_be_visible()
    assert not [c for c in page.context.cookies() if c["name"] == "session"]
    expect(page.get_by_role("link", name="Log in").first).to_be_visible()
    assert_accessible(page, axe)
    assert author.call("GET", f"/users/{leaver.username}").status_code == 404

    # The account-remover runs for real: wait, boundedly, until the user row is gone.
    deadline = time.monotonic() + REMOVAL_TIMEOUT_SECONDS
    while _account_rows(site, leaver.username):
        assert time.monotonic() < deadline, "the account-remover did not finish"
        time.sleep(0.5)
    assert author.call("GET", f"/posts/{post_id}").json()["likes"] == 1
    page.goto(f"/posts/{post_id}")
    expect(page.locator(f"#post-{post_id} .like-button")).to_contain_text("1 like")


def _account_rows(site: Site, username: str) -> int:
    database = connect(site.owner_database_url)
    try:
        return int(database.run("SELECT count(*) FROM users WHERE username = :u", u=username)[0][0])
    finally:
        database.close()
