"""The site's block, mute and report (docs/api.md §D): the "…" menus, the confirmation pages,
the report form and Settings → Blocked and muted accounts, driven like a browser without
JavaScript against the real API."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.api.audience import block_rows, mute_rows
from tests.api.conftest import Database
from tests.frontend.conftest import Member, Visitor, alert_of, text_of
from tests.frontend.test_frontend_content import share


def flash_of(response: Any) -> str | None:
    """The `flash` cookie a form answer set, if any."""
    for cookie in response.headers.getlist("Set-Cookie"):
        if cookie.startswith("flash="):
            return str(cookie.split(";", 1)[0].removeprefix("flash="))
    return None


def menus(html: str) -> list[str]:
    return re.findall(r'<details class="more-menu".*?</details>', html, re.S)


# -- the "…" menus ------------------------------------------------------------------------


def test_posts_comments_and_profiles_carry_the_menu_for_others_only(
    member: Member, sign_up, database: Database
) -> None:  # type: ignore[no-untyped-def]
    other = sign_up("other")
    post_id = share(other, "a photo")
    reply = other.visitor.post(f"/posts/{post_id}/comments", data={"body": "first!"})
    assert reply.status_code == 303
    comment_id = re.findall(
        r'id="comment-([0-9a-f-]{36})"', member.visitor.get(f"/posts/{post_id}").get_data(True)
    )[0]

    page = member.visitor.get(f"/posts/{post_id}").get_data(as_text=True)
    post_menu, comment_menu = menus(page)
    assert f'href="/@{other.username}/block?next=/feed"' in post_menu
    assert f'href="/@{other.username}/mute?next=/posts/{post_id}"' in post_menu
    assert f'href="/reports/new?type=post&amp;id={post_id}&amp;next=' in post_menu
    assert f"Block @{other.username}" in comment_menu and "Mute" not in comment_menu
    assert f"type=comment&amp;id={comment_id}" in comment_menu
    assert "<dialog" in page and "data-report-dialog" in page
    # The dialog, on every signed-in page, offers what the report page offers.
    dialog = re.search(r"<dialog[^>]*data-report-dialog.*?</dialog>", page, re.S)
    assert dialog is not None
    for reason in ("spam", "harassment", "nudity", "violence", "copyright", "other"):
        assert f'<option value="{reason}"' in dialog.group(0)
    assert 'data-max-chars="1000"' in dialog.group(0) and "0/1000" in dialog.group(0)

    # The feed card has it too: the feed-worker's fan-out row, written as it would.
    database.rows(
        """
        INSERT INTO feed (user_id, post_id, created)
        SELECT u.id, p.id, p.created FROM users u, posts p
        WHERE u.username = :u AND p.public_id = :p
        """,
        u=member.username,
        p=post_id,
    )
    feed = member.visitor.get("/feed").get_data(as_text=True)
    assert any(f"id={post_id}" in menu for menu in menus(feed))

    profile = member.visitor.get(f"/@{other.username}").get_data(as_text=True)
    assert any(f"type=user&amp;id={other.username}" in menu for menu in menus(profile))

    # Nothing on one's own post and profile, nothing signed out.
    own = other.visitor.get(f"/posts/{post_id}").get_data(as_text=True)
    assert menus(own) == [] and "<dialog" in own
    assert menus(other.visitor.get(f"/@{other.username}").get_data(as_text=True)) == []
    anonymous = Visitor(member.visitor.frontend).get(f"/posts/{post_id}").get_data(as_text=True)
    assert menus(anonymous) == [] and "<dialog" not in anonymous


# -- block and mute ----------------------------------------------------------------------


def test_block_from_the_confirmation_page_then_unblock_from_settings(
    member: Member, sign_up, database: Database
) -> None:  # type: ignore[no-untyped-def]
    other = sign_up("other")
    confirm = member.visitor.get(f"/@{other.username}/block?next=/feed")
    assert confirm.status_code == 200
    assert f"Block @{other.username}?" in text_of(confirm)
    assert f'action="/@{other.username}/block"' in confirm.get_data(as_text=True)
    assert block_rows(database, member.username, other.username) == 0  # a GET changes nothing

    done = member.visitor.post(f"/@{other.username}/block", data={"next": "/feed"})
    assert (done.status_code, done.headers["Location"]) == (303, "/feed")
    assert flash_of(done) == "blocked"
    assert block_rows(database, member.username, other.username) == 1
    assert "Account blocked." in text_of(member.visitor.get("/feed"))

    # Following across the block is refused by the API: the site says so, nothing written.
    refused = member.visitor.fetch(f"/@{other.username}/follow")
    assert refused.status_code == 403
    assert refused.json == {"ok": False, "error": "You do not have permission to do that."}
    assert other.visitor.post(f"/@{member.username}/follow").status_code == 403
    follows = database.value(
        """
        SELECT count(*) FROM follows f JOIN users u ON u.id = f.followee_id
        WHERE u.username IN (:a, :b)
        """,
        a=member.username,
        b=other.username,
    )
    assert follows == 0

    settings = member.visitor.get("/settings/blocked")
    assert settings.status_code == 200
    page = settings.get_data(as_text=True)
    assert f'action="/@{other.username}/unblock"' in page
    assert "You haven't muted anyone." in text_of(settings)

    undone = member.visitor.post(f"/@{other.username}/unblock", data={"next": "/settings/blocked"})
    assert (undone.status_code, undone.headers["Location"]) == (303, "/settings/blocked")
    assert flash_of(undone) == "unblocked"
    assert block_rows(database, member.username, other.username) == 0
    assert "You haven't blocked anyone." in text_of(member.visitor.get("/settings/blocked"))


def test_mute_and_unmute(member: Member, sign_up, database: Database) -> None:  # type: ignore[no-untyped-def]
    other = sign_up("other")
    confirm = member.visitor.get(f"/@{other.username}/mute")
    assert f"Mute @{other.username}?" in text_of(confirm)
    done = member.visitor.post(f"/@{other.username}/mute", data={"next": f"/@{other.username}"})
    assert (done.status_code, done.headers["Location"]) == (303, f"/@{other.username}")
    assert flash_of(done) == "muted"
    assert mute_rows(database, member.username, other.username) == 1
    # A muted account can still be followed: nothing else changes.
    assert member.visitor.fetch(f"/@{other.username}/follow").json == {
        "ok": True,
        "following": True,
    }
    listed = member.visitor.get("/settings/blocked").get_data(as_text=True)
    assert f'action="/@{other.username}/unmute"' in listed
    undone = member.visitor.fetch(f"/@{other.username}/unmute")
    assert undone.json == {"ok": True}
    assert mute_rows(database, member.username, other.username) == 0


def test_oneself_unknown_and_signed_out(member: Member, database: Database) -> None:
    before = database.every_count()
    assert member.visitor.get(f"/@{member.username}/block").status_code == 404
    assert member.visitor.post(f"/@{member.username}/block").status_code == 400
    assert member.visitor.post("/@nobody_here_at_all/mute").status_code == 404
    anonymous = Visitor(member.visitor.frontend)
    assert anonymous.get(f"/@{member.username}/block").headers["Location"] == "/login"
    assert anonymous.get("/settings/blocked").headers["Location"] == "/login"
    assert anonymous.fetch(f"/@{member.username}/block").status_code == 401
    assert database.every_count() == before


def test_the_settings_nav_links_the_page(member: Member) -> None:
    page = member.visitor.get("/settings")
    assert 'href="/settings/blocked"' in page.get_data(as_text=True)
    assert "Blocked and muted accounts" in text_of(page)


# -- report -------------------------------------------------------------------------------


def reports_by(database: Database, reporter: str) -> list[list[Any]]:
    """The reporter's reports as the API stored them: type, subject id, reason, note, status."""
    return database.rows(
        """
        SELECT r.subject_type, r.subject_id::text, r.reason, r.note, r.status
        FROM reports r JOIN users u ON u.id = r.reporter_id
        WHERE u.username = :reporter ORDER BY r.id
        """,
        reporter=reporter,
    )


def test_report_form_posts_to_the_api_and_thanks_or_says_already_reported(
    member: Member, sign_up, database: Database
) -> None:  # type: ignore[no-untyped-def]
    other = sign_up("other")
    post_id = share(other, "report me")
    form = member.visitor.get(f"/reports/new?type=post&id={post_id}&next=/posts/{post_id}")
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    for reason in ("spam", "harassment", "nudity", "violence", "copyright", "other"):
        assert f'<option value="{reason}"' in html
    assert f'name="subject_id" value="{post_id}"' in html

    fields = {
        "subject_type": "post",
        "subject_id": post_id.upper(),
        "reason": "spam",
        "note": "  selling things  ",
        "next": f"/posts/{post_id}",
    }
    thanked = member.visitor.post("/reports", data=fields)
    assert (thanked.status_code, thanked.headers["Location"]) == (303, f"/posts/{post_id}")
    assert flash_of(thanked) == "reported"
    assert "Thanks, we'll review it" in text_of(member.visitor.get(f"/posts/{post_id}"))
    reported = [["post", post_id, "spam", "selling things", "open"]]
    assert reports_by(database, member.username) == reported

    # The API's 409 (one open report per reporter and subject) in the site's words.
    again = member.visitor.post("/reports", data=fields)
    assert again.status_code == 409
    assert alert_of(again) == "You already reported this. We'll review it soon."
    assert "selling things" in again.get_data(as_text=True)
    assert reports_by(database, member.username) == reported


def test_reports_of_comments_and_users_name_their_subject_as_the_api_does(
    member: Member, sign_up, database: Database
) -> None:  # type: ignore[no-untyped-def]
    other = sign_up("other")
    post_id = share(other, "a photo")
    assert (
        other.visitor.post(f"/posts/{post_id}/comments", data={"body": "rude"}).status_code == 303
    )
    [comment_id] = re.findall(
        r'id="comment-([0-9a-f-]{36})"', member.visitor.get(f"/posts/{post_id}").get_data(True)
    )
    # A username in any case names the account, as the API reads it.
    for subject_type, subject_id in (("comment", comment_id), ("user", other.username.upper())):
        answer = member.visitor.fetch(
            "/reports",
            data={"subject_type": subject_type, "subject_id": subject_id, "reason": "other"},
        )
        assert answer.json == {"ok": True}
    account_id = database.value(
        "SELECT public_id::text FROM users WHERE username = :u", u=other.username
    )
    assert reports_by(database, member.username) == [
        ["comment", comment_id, "other", None, "open"],
        ["user", account_id, "other", None, "open"],
    ]
    # The script gets the 409 as JSON in the same words.
    again = member.visitor.fetch(
        "/reports", data={"subject_type": "comment", "subject_id": comment_id, "reason": "spam"}
    )
    assert again.status_code == 409
    assert again.json == {
        "ok": False,
        "error": "You already reported this. We'll review it soon.",
    }


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"reason": ""}, 400, "Choose a reason for your report."),
        ({"reason": "boring"}, 400, "Choose a reason for your report."),
        ({"reason": "spam", "note": "x" * 1001}, 400, "Note must be 1,000 characters or fewer."),
    ],
)
def test_a_bad_report_is_refused_by_the_site_and_keeps_the_note(
    member: Member, fields: dict[str, str], status: int, message: str
) -> None:
    data = {"subject_type": "user", "subject_id": member.username, **fields}
    answer = member.visitor.post("/reports", data=data)
    assert answer.status_code == status
    assert alert_of(answer) == message
    if "note" in fields:
        assert fields["note"] in answer.get_data(as_text=True)


@pytest.mark.parametrize(
    "query", ["type=post&id=not-a-uuid", "type=story&id=x", "type=user&id=no", ""]
)
def test_a_report_of_no_possible_subject_is_a_404(member: Member, query: str) -> None:
    assert member.visitor.get(f"/reports/new?{query}").status_code == 404


def test_a_report_the_api_cannot_place_says_the_content_is_gone(
    member: Member, database: Database
) -> None:
    # The API's 404 for an unknown subject: nothing is written.
    answer = member.visitor.post(
        "/reports",
        data={
            "subject_type": "post",
            "subject_id": "00000000-0000-4000-8000-000000000000",
            "reason": "spam",
        },
    )
    assert answer.status_code == 404
    assert alert_of(answer) == "That content is no longer available."
    assert reports_by(database, member.username) == []
