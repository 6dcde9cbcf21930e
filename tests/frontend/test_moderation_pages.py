"""The site's moderation pages (docs/api.md §D; docs/frontend.md "Moderation").

Reports are made through the API (the site's report menu is its own feature);
moderators are made with `grant_role`, the action behind `./taskw admin:grant`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest

from phasma.db.pool import Database as Pool
from phasma.events.worker import EventFunction
from phasma.moderation.actions import grant_role
from phasma.registry import get_function
from phasma.runtime import Runtime
from tests.api.conftest import Api, Database
from tests.api.event_delivery import Worker, outbox_rows
from tests.api.posting import outbox_position
from tests.frontend.conftest import Member, SiteStack, text_of
from tests.frontend.test_frontend_content import share


@pytest.fixture
def pool(site_stack: SiteStack) -> Iterator[Pool]:
    database = Pool(site_stack.api_settings, application_name="moderation-tests")
    yield database
    database.close()


@pytest.fixture
def moderator(sign_up, pool: Pool) -> Member:
    account: Member = sign_up("mod")
    grant_role(pool, account.username, "moderator")
    return account


@pytest.fixture
def notifications_worker(site_stack: SiteStack) -> Iterator[Worker]:
    function = get_function("notifications-worker")
    runtime = Runtime(function, site_stack.api_settings)
    yield Worker(EventFunction(function, runtime))
    runtime.close()


def api_client(site_stack: SiteStack, member: Member) -> Api:
    client = Api(site_stack.api_url)
    login = {"email": member.email, "password": member.password}
    assert client.post("/sessions", json=login).status_code == 201
    return client


def report(
    site_stack: SiteStack, reporter: Member, subject_type: str, subject_id: str, **extra: Any
) -> str:
    body = {"subjectType": subject_type, "subjectId": subject_id, "reason": "spam", **extra}
    response = api_client(site_stack, reporter).post("/reports", json=body)
    assert response.status_code == 201, response.text
    report_id: str = response.json()["id"]
    return report_id


def close_every_open_report(database: Database) -> None:
    """Earlier tests' reports out of the way, so the queue's first page is this test's."""
    database.rows(
        "UPDATE reports SET status = 'closed', decision = 'dismiss', decided = now()"
        " WHERE status = 'open'"
    )


def entry_of(page: str, report_id: str) -> str:
    """The markup of one queue entry."""
    match = re.search(
        rf'<li class="card moderation-entry" data-report="{report_id}".*?\n    </li>', page, re.S
    )
    assert match, f"no entry for {report_id}"
    return match.group(0)


def test_a_member_who_guesses_the_url_gets_the_403_page_and_no_link(
    member: Member, sign_up, site_stack: SiteStack, database: Database
) -> None:
    author = sign_up("author")
    post_id = share(author, "a sunny day")
    report_id = report(site_stack, member, "post", post_id)

    page = member.visitor.get("/moderation")
    decided = member.visitor.post(
        f"/moderation/reports/{report_id}/decision", data={"action": "remove", "confirm": "yes"}
    )

    assert page.status_code == 403
    assert "Access denied" in text_of(page)
    assert decided.status_code == 403
    assert 'href="/moderation"' not in member.visitor.get("/feed").get_data(as_text=True)
    assert database.value("SELECT status FROM reports WHERE public_id = :id", id=report_id) == (
        "open"
    )
    assert author.visitor.get(f"/posts/{post_id}").status_code == 200


def test_the_queue_shows_each_subject_once_with_its_content_reasons_and_buttons(
    moderator: Member, sign_up, site_stack: SiteStack, database: Database
) -> None:
    close_every_open_report(database)
    author, first, second = sign_up("author"), sign_up("first"), sign_up("second")
    post_id = share(author, "Cheap <followers> here")
    filename = database.value("SELECT filename FROM posts WHERE public_id = :id", id=post_id)
    comment = api_client(site_stack, author).post(
        f"/posts/{post_id}/comments", json={"body": "buy now"}
    )
    comment_id = comment.json()["id"]
    post_report = report(site_stack, first, "post", post_id, note="a bot")
    report(site_stack, second, "post", post_id, reason="other", note="again")
    comment_report = report(site_stack, first, "comment", comment_id, reason="harassment")
    user_report = report(site_stack, second, "user", author.username)

    response = moderator.visitor.get("/moderation")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'href="/moderation"' in page  # the nav link, for a moderator
    order = [
        page.index(f'data-report="{rid}"') for rid in (post_report, comment_report, user_report)
    ]
    assert order == sorted(order)  # oldest first, one entry per subject
    post_entry = entry_of(page, post_report)
    assert "2 open reports" in post_entry
    assert f"/uploads/{filename}" in post_entry
    assert html.escape("Cheap <followers> here") in post_entry  # text, never markup
    assert "a bot" in post_entry and "again" in post_entry
    assert f"by @{first.username}" in post_entry and f"by @{second.username}" in post_entry
    for action in ("dismiss", "remove", "suspend"):
        assert f'name="action" value="{action}"' in post_entry
    assert "buy now" in entry_of(page, comment_report)
    user_entry = entry_of(page, user_report)
    assert f"@{author.username}" in user_entry
    assert 'value="remove"' not in user_entry  # an account can only be suspended


def test_removing_asks_first_then_removes_the_post_and_moves_it_to_closed(
    moderator: Member,
    sign_up,
    site_stack: SiteStack,
    database: Database,
    notifications_worker: Worker,
) -> None:
    author, reporter = sign_up("author"), sign_up("reporter")
    post_id = share(author, "spam spam")
    report_id = report(site_stack, reporter, "post", post_id)
    form = {"action": "remove", "note": "  obvious spam ", "subject_type": "post"}
    form["author"] = author.username

    confirmation = moderator.visitor.post(f"/moderation/reports/{report_id}/decision", data=form)

    assert confirmation.status_code == 200
    text = text_of(confirmation)
    assert "Remove this post?" in text and "obvious spam" in text
    assert 'name="confirm" value="yes"' in confirmation.get_data(as_text=True)
    assert database.value("SELECT status FROM reports WHERE public_id = :id", id=report_id) == (
        "open"
    )
    position = outbox_position(database)

    done = moderator.visitor.post(
        f"/moderation/reports/{report_id}/decision",
        data={"action": "remove", "note": "obvious spam", "confirm": "yes"},
    )

    assert (done.status_code, done.headers["Location"]) == (303, "/moderation")
    queue_page = moderator.visitor.get("/moderation")
    assert "Decision saved" in text_of(queue_page)
    assert f'data-report="{report_id}"' not in queue_page.get_data(as_text=True)
    assert author.visitor.get(f"/posts/{post_id}").status_code == 404
    closed = moderator.visitor.get("/moderation?status=closed").get_data(as_text=True)
    entry = entry_of(closed, report_id)
    assert 'data-decision="remove"' in entry and f"by @{moderator.username}" in entry
    assert "obvious spam" in entry
    notifications_worker.deliver_all(outbox_rows(database, position))
    assert "a moderator removed your post or comment" in text_of(
        author.visitor.get("/notifications")
    )
    assert "a moderator reviewed your report" in text_of(reporter.visitor.get("/notifications"))


def test_suspending_then_reinstating_from_the_closed_entry(
    moderator: Member, sign_up, site_stack: SiteStack, visitor: Any
) -> None:
    author, reporter = sign_up("author"), sign_up("reporter")
    report_id = report(site_stack, reporter, "user", author.username)

    confirmation = moderator.visitor.post(
        f"/moderation/reports/{report_id}/decision",
        data={"action": "suspend", "subject_type": "user", "author": author.username},
    )
    assert f"Suspend @{author.username}?" in text_of(confirmation)
    done = moderator.visitor.post(
        f"/moderation/reports/{report_id}/decision", data={"action": "suspend", "confirm": "yes"}
    )

    assert done.status_code == 303
    assert visitor.get(f"/@{author.username}").status_code == 404
    # The suspended account's session ended: the site signs it out.
    assert author.visitor.get("/feed").status_code == 303
    closed = moderator.visitor.get("/moderation?status=closed").get_data(as_text=True)
    entry = entry_of(closed, report_id)
    assert "Suspended" in entry
    assert f'action="/moderation/users/@{author.username}/reinstate"' in entry

    reinstated = moderator.visitor.post(
        f"/moderation/users/@{author.username}/reinstate",
        data={"next": "/moderation?status=closed"},
    )

    assert (reinstated.status_code, reinstated.headers["Location"]) == (
        303,
        "/moderation?status=closed",
    )
    assert "Account reinstated" in text_of(moderator.visitor.get("/moderation?status=closed"))
    assert visitor.get(f"/@{author.username}").status_code == 200


def test_a_bad_action_or_an_over_long_note_changes_nothing(
    moderator: Member, sign_up, site_stack: SiteStack, database: Database
) -> None:
    author, reporter = sign_up("author"), sign_up("reporter")
    report_id = report(site_stack, reporter, "post", share(author, "fine"))

    for form in (
        {"action": "ban", "confirm": "yes"},
        {"action": "dismiss", "note": "x" * 1001, "confirm": "yes"},
    ):
        response = moderator.visitor.post(f"/moderation/reports/{report_id}/decision", data=form)
        assert response.status_code == 400

    assert database.value("SELECT status FROM reports WHERE public_id = :id", id=report_id) == (
        "open"
    )
