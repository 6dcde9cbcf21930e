"""Private accounts on the site (docs/api.md §E; docs/frontend.md "Private accounts"): the
privacy switch, the locked profile with "Requested", follow requests on the
notifications page, and private photos' signed URLs through the image proxy."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest

from phasma.events.worker import EventFunction
from phasma.registry import get_function
from phasma.runtime import Runtime
from tests.api.conftest import Database
from tests.api.event_delivery import Worker, outbox_rows
from tests.api.posting import outbox_position
from tests.frontend.conftest import Member, SiteStack, Visitor, text_of
from tests.frontend.test_frontend_content import share

LOCKED = "This account is private — follow to see their photos"


def profile_form(member: Member, **changes: str) -> dict[str, str]:
    return {"name": member.name, "username": member.username, "email": member.email, **changes}


def set_private(member: Member, private: bool) -> None:
    data = profile_form(member, **({"private": "1"} if private else {}))
    response = member.visitor.post("/settings/profile", data=data)
    assert (response.status_code, response.headers["Location"]) == (303, "/settings")


def is_private(database: Database, member: Member) -> bool:
    return bool(database.value("SELECT private FROM users WHERE username = :u", u=member.username))


def follows(database: Database, follower: Member, followee: Member) -> bool:
    return bool(
        database.value(
            """
            SELECT count(*) FROM follows f
            JOIN users a ON a.id = f.follower_id JOIN users b ON b.id = f.followee_id
            WHERE a.username = :a AND b.username = :b
            """,
            a=follower.username,
            b=followee.username,
        )
    )


@pytest.fixture
def notifications_worker(site_stack: SiteStack) -> Iterator[Worker]:
    function = get_function("notifications-worker")
    runtime = Runtime(function, site_stack.api_settings)
    yield Worker(EventFunction(function, runtime))
    runtime.close()


def test_the_privacy_switch_in_profile_settings(
    member: Member, sign_up, database: Database
) -> None:  # type: ignore[no-untyped-def]
    page = member.visitor.get("/settings/profile")
    body = page.get_data(as_text=True)
    assert re.search(r'<input type="checkbox" id="private" name="private" value="1"[^>]*>', body)
    assert 'name="private" value="1" aria-describedby="private-hint">' in body  # unticked
    assert "Only people you approve can see your photos" in text_of(page)

    set_private(member, True)
    assert is_private(database, member)
    assert 'aria-describedby="private-hint" checked>' in member.visitor.get(
        "/settings/profile"
    ).get_data(as_text=True)

    # Unticking it turns the account public and approves the pending request.
    fan = sign_up("fan")
    assert fan.visitor.post(f"/@{member.username}/follow", data={}).status_code == 303
    assert not follows(database, fan, member)
    set_private(member, False)
    assert not is_private(database, member)
    assert follows(database, fan, member)


def test_a_private_profile_is_locked_and_a_follow_is_requested(
    member: Member, sign_up, visitor: Visitor, database: Database
) -> None:  # type: ignore[no-untyped-def]
    post_id = share(member, "private evening")
    set_private(member, True)
    stranger = sign_up("stranger")

    page = stranger.visitor.get(f"/@{member.username}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert LOCKED in text_of(page)
    assert "data-private-lock" in body and "Private account" in text_of(page)
    assert post_id not in body  # the header and counts only
    # A plain form (no optimistic script): a request is not a follow.
    form = re.search(r'<form class="follow-form"[^>]*>', body)
    assert form is not None and "data-follow-form" not in form.group(0)
    assert f'action="/@{member.username}/follow"' in form.group(0)
    for mode in ("followers", "following"):
        assert LOCKED in text_of(stranger.visitor.get(f"/@{member.username}/{mode}"))
    # Anonymous visitors see the lock too.
    assert LOCKED in text_of(visitor.get(f"/@{member.username}"))

    asked = stranger.visitor.post(f"/@{member.username}/follow", data={})
    assert (asked.status_code, asked.headers["Location"]) == (303, f"/@{member.username}")
    page = stranger.visitor.get(f"/@{member.username}")
    body = page.get_data(as_text=True)
    assert re.search(r"<span data-follow-label>Requested</span>", body)
    assert f'action="/@{member.username}/unfollow"' in body
    assert "Your follow request is waiting" in text_of(page)
    # Asked again by a script: the JSON says it is a request, not a follow.
    again = stranger.visitor.fetch(f"/@{member.username}/follow")
    assert again.json == {"ok": True, "following": False, "requested": True}
    assert not follows(database, stranger, member)

    # "Requested" withdraws the request.
    stranger.visitor.post(f"/@{member.username}/unfollow", data={})
    body = stranger.visitor.get(f"/@{member.username}").get_data(as_text=True)
    assert re.search(r"<span data-follow-label>Follow</span>", body)


def test_the_owner_and_followers_see_the_posts_with_signed_image_urls(
    member: Member, sign_up, visitor: Visitor, database: Database
) -> None:  # type: ignore[no-untyped-def]
    post_id = share(member, "for friends")
    filename = database.value("SELECT filename FROM posts WHERE public_id = :id", id=post_id)
    set_private(member, True)

    own = member.visitor.get(f"/@{member.username}").get_data(as_text=True)
    assert LOCKED not in own
    match = re.search(rf'src="(/uploads/{filename}\?variant=thumbnail&amp;token=[0-9a-f-]+)"', own)
    assert match is not None
    image = html.unescape(match.group(1))
    assert visitor.get(image).status_code == 200  # the token is the permission
    assert visitor.get(f"/uploads/{filename}?variant=thumbnail").status_code == 404
    assert visitor.get(f"/uploads/{filename}?token=nope").status_code == 404

    fan = sign_up("fan")
    fan.visitor.post(f"/@{member.username}/follow", data={})
    accepted = member.visitor.post(f"/notifications/requests/@{fan.username}/accept")
    assert accepted.status_code == 303
    page = fan.visitor.get(f"/@{member.username}").get_data(as_text=True)
    assert LOCKED not in page and post_id in page and "&amp;token=" in page


def test_follow_requests_are_listed_on_the_notifications_page_with_accept_and_decline(
    member: Member, sign_up, database: Database, notifications_worker: Worker
) -> None:  # type: ignore[no-untyped-def]
    set_private(member, True)
    accepted, declined = sign_up("ann"), sign_up("dan")
    position = outbox_position(database)
    for requester in (accepted, declined):
        requester.visitor.post(f"/@{member.username}/follow", data={})
    notifications_worker.deliver_all(outbox_rows(database, position))

    page = member.visitor.get("/notifications")
    body = page.get_data(as_text=True)
    section = re.search(r'<section class="follow-requests".*?</section>', body, re.S)
    assert section is not None
    for requester in (accepted, declined):
        assert f'action="/notifications/requests/@{requester.username}/accept"' in section.group(0)
        assert f'action="/notifications/requests/@{requester.username}/decline"' in section.group(0)
    # The requests sit above the list, which shows each as a notification too.
    assert body.index("follow-requests") < body.index('id="notification-list"')
    assert f"{declined.name} asked to follow you" in text_of(page)

    answer = member.visitor.post(f"/notifications/requests/@{accepted.username}/accept")
    assert (answer.status_code, answer.headers["Location"]) == (303, "/notifications")
    answer = member.visitor.post(f"/notifications/requests/@{declined.username}/decline")
    assert (answer.status_code, answer.headers["Location"]) == (303, "/notifications")
    assert follows(database, accepted, member) and not follows(database, declined, member)
    # Answered twice (another tab): the page simply reloads.
    again = member.visitor.post(f"/notifications/requests/@{declined.username}/decline")
    assert again.status_code == 303
    assert 'class="follow-requests"' not in member.visitor.get("/notifications").get_data(True)
    # Forms need the site's origin, like every other form.
    forged = member.visitor.post(
        f"/notifications/requests/@{declined.username}/accept", origin="https://evil.example"
    )
    assert forged.status_code == 403
