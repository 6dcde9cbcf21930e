"""Roles, the moderation queue, decisions and reinstating (docs/api.md §D).

Moderators are made with `grant_role`, the action behind `./taskw admin:grant`.
Notifications are made by the real `notifications-worker` fed the real events of the
outbox; search is the PostgreSQL backend the API tests run.
"""

from __future__ import annotations

import re
import secrets
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from phasma.config import Limits
from phasma.db.pool import Database as Pool
from phasma.events.worker import ReceivedEvent
from phasma.moderation import grant
from phasma.moderation.actions import grant_role
from phasma.registry import get_function
from phasma.search.documents import POSTS, USERS
from phasma.search.indexer import apply
from tests.api.conftest import Account, ApiStack, Bucket, Database
from tests.api.event_delivery import Worker, outbox_rows
from tests.api.posting import new_post, outbox_position

MODERATION_ROUTES = [
    route for route in get_function("moderation").routes if route.path.startswith("/moderation/")
]


@pytest.fixture
def notifications_worker(event_function) -> Worker:
    return Worker(event_function("notifications-worker"))


@pytest.fixture
def pool(event_function) -> Pool:
    """A pool on the API tests' database as the app login, as `admin:grant` uses."""
    return event_function("notifications-worker").runtime.db


@pytest.fixture
def moderator(make_account, pool: Pool) -> Account:
    account: Account = make_account()
    grant_role(pool, account.username, "moderator")
    return account


def report(account: Account, subject_type: str, subject_id: str, **extra: Any) -> str:
    body = {"subjectType": subject_type, "subjectId": subject_id, "reason": "spam", **extra}
    response = account.client.post("/reports", json=body)
    assert response.status_code == 201, response.text
    report_id: str = response.json()["id"]
    return report_id


def decide(account: Account, report_id: str, action: str, note: str | None = None) -> Any:
    body: dict[str, Any] = {"action": action}
    if note is not None:
        body["note"] = note
    return account.client.post(f"/moderation/reports/{report_id}/decision", json=body)


def queue(account: Account, **params: Any) -> dict[str, Any]:
    response = account.client.get("/moderation/reports", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def audit(database: Database, username: str) -> list[list[Any]]:
    return database.rows(
        """
        SELECT a.action, a.subject, a.note FROM audit_log a JOIN users u ON u.id = a.user_id
        WHERE u.username = :username AND a.action LIKE 'moderation_%' ORDER BY a.id
        """,
        username=username,
    )


def notifications(account: Account) -> list[dict[str, Any]]:
    response = account.client.get("/notifications")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def log_in(account: Account, password: str | None = None) -> Any:
    body = {"email": account.email, "password": password or account.password}
    return account.client.post("/sessions", json=body)


# -- roles -----------------------------------------------------------------------------


def test_the_role_is_in_the_own_view_only(make_account, pool: Pool) -> None:
    member, other = make_account(), make_account()
    assert member.client.get("/users/me").json()["role"] == "member"

    grant_role(pool, member.username, "admin")

    assert member.client.get("/users/me").json()["role"] == "admin"
    assert "role" not in other.client.get(f"/users/{member.username}").json()


@pytest.mark.parametrize(
    "route", MODERATION_ROUTES, ids=lambda route: f"{route.method} {route.path}"
)
def test_a_member_gets_403_on_every_moderation_route_and_nothing_is_written(
    make_account, database: Database, bucket: Bucket, route: Any
) -> None:
    author, reporter, member = make_account(), make_account(), make_account()
    report_id = report(reporter, "post", new_post(author, database, bucket))
    database.rows("UPDATE users SET suspended_at = now() WHERE username = :u", u=author.username)
    path = route.path.replace("{id}", report_id).replace("{username}", author.username)
    options = {"json": {"action": "suspend"}} if route.json_body else {}
    before = database.every_count()

    response = member.client.request(route.method, path, **options)

    assert response.status_code == 403
    assert response.json() == {"message": "Moderators only"}
    assert database.every_count() == before


def test_the_role_is_read_on_every_request(moderator: Account, pool: Pool) -> None:
    assert moderator.client.get("/moderation/reports").status_code == 200

    grant_role(pool, moderator.username, "member")

    # The same session, the next request: the role comes from the database every time.
    assert moderator.client.get("/moderation/reports").status_code == 403


def test_admin_grant_sets_the_role_and_writes_the_audit_log(
    account: Account, api_stack: ApiStack, database: Database, capsys: Any
) -> None:
    status = grant.main([account.username.upper(), "--role", "admin"], api_stack.settings)

    assert status == 0
    assert capsys.readouterr().out.strip() == f"{account.username}: member -> admin"
    assert database.value("SELECT role FROM users WHERE username = :u", u=account.username) == (
        "admin"
    )
    assert database.rows(
        """
        SELECT a.action, a.note FROM audit_log a JOIN users u ON u.id = a.user_id
        WHERE u.username = :u AND a.action = 'role_granted'
        """,
        u=account.username,
    ) == [["role_granted", "admin"]]
    # The default role is moderator.
    assert grant.main([account.username], api_stack.settings) == 0
    assert database.value("SELECT role FROM users WHERE username = :u", u=account.username) == (
        "moderator"
    )


def test_admin_grant_refuses_an_unknown_user_or_role_clearly(
    account: Account, api_stack: ApiStack, database: Database, capsys: Any
) -> None:
    assert grant.main(["nobody_at_all"], api_stack.settings) == 1
    assert "no account named 'nobody_at_all'" in capsys.readouterr().err
    assert grant.main([account.username, "--role", "owner"], api_stack.settings) == 2
    assert "unknown role 'owner'" in capsys.readouterr().err
    assert grant.main(["not a name"], api_stack.settings) == 2
    assert "is not a username" in capsys.readouterr().err
    assert database.value("SELECT role FROM users WHERE username = :u", u=account.username) == (
        "member"
    )


# -- the queue -------------------------------------------------------------------------


def close_every_open_report(database: Database) -> None:
    """Earlier tests' reports out of the way, so the open queue's first page is this test's."""
    database.rows(
        "UPDATE reports SET status = 'closed', decision = 'dismiss', decided = now()"
        " WHERE status = 'open'"
    )


def entries_for(page: dict[str, Any], subject_ids: set[str]) -> list[dict[str, Any]]:
    return [item for item in page["items"] if item["subjectId"] in subject_ids]


def test_the_open_queue_groups_per_subject_oldest_first_with_the_content(
    make_account, moderator: Account, database: Database, bucket: Bucket
) -> None:
    close_every_open_report(database)
    author, first, second = make_account(), make_account(), make_account()
    post_id = new_post(author, database, bucket, "Buy #followers now")
    comment = author.client.post(f"/posts/{post_id}/comments", json={"body": "click my link"})
    comment_id = comment.json()["id"]
    oldest = report(first, "post", post_id, note="spam bot")
    report(first, "comment", comment_id, reason="harassment")
    report(second, "post", post_id, reason="other", note="again")
    report(second, "user", author.username)

    page = queue(moderator, limit=50)

    mine = entries_for(page, {post_id, comment_id, author.username})
    assert [(item["subjectType"], item["reports"]) for item in mine] == [
        ("post", 2),
        ("comment", 1),
        ("user", 1),
    ]
    post_entry = mine[0]
    assert post_entry["id"] == oldest
    assert {key: post_entry[key] for key in ("reason", "note", "reporter", "status")} == {
        "reason": "spam",
        "note": "spam bot",
        "reporter": first.username,
        "status": "open",
    }
    assert "decision" not in post_entry
    assert [(g["reporter"], g["reason"], g["note"]) for g in post_entry["group"]] == [
        (first.username, "spam", "spam bot"),
        (second.username, "other", "again"),
    ]
    filename = database.value("SELECT filename FROM posts WHERE public_id::text = :id", id=post_id)
    assert post_entry["content"] == {
        "author": {
            "username": author.username,
            "name": author.name,
            "avatar": None,
            "suspended": False,
        },
        "postId": post_id,
        "filename": filename,
        "text": "Buy #followers now",
        "removed": False,
    }
    assert mine[1]["content"]["text"] == "click my link"
    assert mine[1]["content"]["postId"] == post_id
    assert mine[2]["content"]["author"]["username"] == author.username
    assert mine[2]["content"]["postId"] is None


def test_the_queue_pages_with_a_cursor_and_lists_closed_reports_newest_first(
    make_account, moderator: Account, database: Database, bucket: Bucket
) -> None:
    author, reporter = make_account(), make_account()
    posts = [new_post(author, database, bucket) for _ in range(3)]
    close_every_open_report(database)
    reports = [report(reporter, "post", post_id) for post_id in posts]

    first = queue(moderator, limit=2)
    second = queue(moderator, limit=2, cursor=first["nextCursor"])

    assert [item["id"] for item in first["items"] + second["items"]] == reports
    assert second["nextCursor"] is None
    for report_id in reversed(reports):
        assert decide(moderator, report_id, "dismiss", f"no {report_id}").status_code == 204
    closed = queue(moderator, status="closed", limit=3)
    # Decided last to first, so the latest decision (on the first report) comes first.
    assert [item["id"] for item in closed["items"]] == reports
    entry = closed["items"][0]
    assert entry["status"] == "closed"
    assert entry["reports"] == 0
    assert entry["decision"]["action"] == "dismiss"
    assert entry["decision"]["note"] == f"no {reports[0]}"
    assert entry["decision"]["moderator"] == moderator.username


def test_a_bad_status_or_cursor_is_a_400(moderator: Account) -> None:
    for params in ({"status": "pending"}, {"cursor": "nope"}, {"limit": "0"}):
        response = moderator.client.get("/moderation/reports", params=params)
        assert response.status_code == 400
        assert set(response.json()) == {"message"}


# -- decisions -------------------------------------------------------------------------


def test_remove_deletes_the_post_closes_every_report_and_tells_everyone(
    make_account,
    moderator: Account,
    database: Database,
    bucket: Bucket,
    notifications_worker: Worker,
) -> None:
    author, first, second = make_account(), make_account(), make_account()
    post_id = new_post(author, database, bucket, "Spam #deals")
    filename = database.value("SELECT filename FROM posts WHERE public_id::text = :id", id=post_id)
    first_report = report(first, "post", post_id)
    second_report = report(second, "post", post_id, reason="other")
    position = outbox_position(database)

    response = decide(moderator, second_report, "remove", "  obvious spam  ")

    assert response.status_code == 204
    assert response.content == b""
    assert author.client.get(f"/posts/{post_id}").status_code == 404
    assert (
        database.value("SELECT post_count FROM users WHERE username = :u", u=author.username) == 0
    )
    stored = bucket.keys()
    assert not any(filename in key for key in stored)
    assert (
        database.rows(
            "SELECT status, decision, decision_note FROM reports WHERE subject_id::text = :id",
            id=post_id,
        )
        == [["closed", "remove", "obvious spam"]] * 2
    )
    assert audit(database, moderator.username) == [
        ["moderation_remove", f"post:{post_id}", "obvious spam"]
    ]
    events = outbox_rows(database, position)
    assert [event.type for event in events] == [
        "phasma.post.deleted",
        "phasma.hashtag.updated",
        "phasma.reports.decided",
    ]
    assert events[-1].payload["contentRemoved"] is True

    notifications_worker.deliver_all(events)
    notifications_worker.deliver_all(events)  # a redelivery adds nothing

    removed = [n for n in notifications(author) if n["type"] == "content_removed"]
    assert [(n["entityId"], n["actorUsername"]) for n in removed] == [(post_id, author.username)]
    for reporter, report_id in ((first, first_report), (second, second_report)):
        reviewed = [n for n in notifications(reporter) if n["type"] == "report_reviewed"]
        assert [n["entityId"] for n in reviewed] == [report_id]
        # Reporters are told it was reviewed, never how, and never by whom.
        assert moderator.username not in str(reviewed)


def test_remove_deletes_a_comment_through_its_deletion_path(
    make_account,
    moderator: Account,
    database: Database,
    bucket: Bucket,
    notifications_worker: Worker,
) -> None:
    author, commenter, reporter = make_account(), make_account(), make_account()
    post_id = new_post(author, database, bucket)
    response = commenter.client.post(f"/posts/{post_id}/comments", json={"body": "rude words"})
    comment_id = response.json()["id"]
    report_id = report(reporter, "comment", comment_id, reason="harassment")
    position = outbox_position(database)

    assert decide(moderator, report_id, "remove").status_code == 204

    assert author.client.get(f"/posts/{post_id}/comments").json()["items"] == []
    assert author.client.get(f"/posts/{post_id}").json()["comments"] == 0
    events = outbox_rows(database, position)
    assert [event.type for event in events] == ["phasma.comment.deleted", "phasma.reports.decided"]
    notifications_worker.deliver_all(events)
    assert [n["entityId"] for n in notifications(commenter) if n["type"] == "content_removed"] == [
        comment_id
    ]
    # The post's author lost only the comment's own notification, and got no removal notice.
    assert [n for n in notifications(author) if n["type"] == "content_removed"] == []


def test_dismiss_closes_the_group_and_changes_nothing_else(
    make_account,
    moderator: Account,
    database: Database,
    bucket: Bucket,
    notifications_worker: Worker,
) -> None:
    author, reporter = make_account(), make_account()
    post_id = new_post(author, database, bucket)
    report_id = report(reporter, "post", post_id)
    position = outbox_position(database)

    assert decide(moderator, report_id, "dismiss").status_code == 204

    assert author.client.get(f"/posts/{post_id}").status_code == 200
    assert audit(database, moderator.username) == [["moderation_dismiss", f"post:{post_id}", None]]
    notifications_worker.deliver_all(outbox_rows(database, position))
    assert [n["type"] for n in notifications(reporter)] == ["report_reviewed"]
    assert [n for n in notifications(author) if n["type"] == "content_removed"] == []
    # Closed: the reporter may report it again.
    assert report(reporter, "post", post_id)


def test_suspend_ends_sessions_refuses_logins_and_hides_the_account_until_reinstated(
    make_account, moderator: Account, database: Database, bucket: Bucket
) -> None:
    word = "zq" + secrets.token_hex(4)
    author, reporter, viewer = make_account(), make_account(), make_account()
    post_id = new_post(author, database, bucket, f"Look #{word}")
    report_id = report(reporter, "post", post_id)

    assert decide(moderator, report_id, "suspend", "repeat spammer").status_code == 204

    # Every session of the account ended; the old cookie is no session.
    assert (
        database.value(
            "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id"
            " WHERE u.username = :u",
            u=author.username,
        )
        == 0
    )
    assert author.client.get("/users/me").status_code == 401
    # The right password learns of the suspension; a wrong one gets the usual 401.
    refused = log_in(author)
    assert refused.status_code == 403
    assert refused.json() == {"message": "Account suspended"}
    assert "session" not in refused.cookies
    wrong = log_in(author, "not the password")
    assert wrong.status_code == 401
    assert wrong.json() == {"message": "Invalid email or password"}
    # Hidden from every reader, search included (the PostgreSQL backend).
    assert viewer.client.get(f"/users/{author.username}").status_code == 404
    assert viewer.client.get(f"/users/{author.username}/posts").status_code == 404
    assert viewer.client.get(f"/posts/{post_id}").status_code == 404
    found = viewer.client.get("/search", params={"q": author.username, "type": "users"}).json()
    assert author.username not in str(found)
    tagged = viewer.client.get("/search", params={"q": word, "type": "posts"}).json()
    assert post_id not in str(tagged)
    # The queue still shows it, marked suspended, so it can be reinstated.
    closed = queue(moderator, status="closed", limit=50)["items"]
    [entry] = [item for item in closed if item["id"] == report_id]
    assert entry["content"]["author"]["suspended"] is True
    assert audit(database, moderator.username) == [
        ["moderation_suspend", f"post:{post_id}", "repeat spammer"]
    ]

    response = moderator.client.post(f"/moderation/users/{author.username}/reinstate")

    assert response.status_code == 204
    assert log_in(author).status_code == 201
    assert viewer.client.get(f"/users/{author.username}").status_code == 200
    assert viewer.client.get(f"/posts/{post_id}").status_code == 200
    found = viewer.client.get("/search", params={"q": author.username, "type": "users"}).json()
    assert author.username in str(found)
    public_id = database.value(
        "SELECT public_id::text FROM users WHERE username = :u", u=author.username
    )
    assert audit(database, moderator.username)[-1] == [
        "moderation_reinstate",
        f"user:{public_id}",
        None,
    ]


def test_suspend_acts_on_the_author_of_a_comment_or_on_a_reported_account(
    make_account, moderator: Account, database: Database, bucket: Bucket
) -> None:
    author, commenter, reporter = make_account(), make_account(), make_account()
    post_id = new_post(author, database, bucket)
    comment_id = commenter.client.post(
        f"/posts/{post_id}/comments", json={"body": "spam spam"}
    ).json()["id"]
    account_report = report(reporter, "user", author.username)
    comment_report = report(reporter, "comment", comment_id)

    assert decide(moderator, comment_report, "suspend").status_code == 204
    assert decide(moderator, account_report, "suspend").status_code == 204

    suspended = database.rows(
        "SELECT username FROM users WHERE suspended_at IS NOT NULL AND username IN (:a, :b, :c)",
        a=author.username,
        b=commenter.username,
        c=reporter.username,
    )
    assert sorted(row[0] for row in suspended) == sorted([author.username, commenter.username])


def test_a_moderator_cannot_suspend_a_moderator_but_an_admin_can(
    make_account, moderator: Account, pool: Pool, database: Database
) -> None:
    colleague, reporter, admin = make_account(), make_account(), make_account()
    grant_role(pool, colleague.username, "moderator")
    grant_role(pool, admin.username, "admin")
    report_id = report(reporter, "user", colleague.username)
    before = database.every_count()

    refused = decide(moderator, report_id, "suspend")

    assert refused.status_code == 403
    assert refused.json() == {"message": "You cannot suspend this account"}
    assert database.every_count() == before
    assert decide(admin, report_id, "suspend").status_code == 204
    assert log_in(colleague).status_code == 403


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"action": "ban"}, "action must be one of dismiss, remove, suspend"),
        ({}, "action must be one of dismiss, remove, suspend"),
        (
            {"action": "dismiss", "note": "x" * (Limits.DECISION_NOTE_MAX_CHARS + 1)},
            "note must be at most 1000 characters",
        ),
        ({"action": ["remove"]}, "action has the wrong type"),
    ],
)
def test_a_bad_decision_body_is_a_400_that_writes_nothing(
    make_account,
    moderator: Account,
    database: Database,
    bucket: Bucket,
    body: dict[str, Any],
    message: str,
) -> None:
    author, reporter = make_account(), make_account()
    report_id = report(reporter, "post", new_post(author, database, bucket))
    before = database.every_count()

    response = moderator.client.post(f"/moderation/reports/{report_id}/decision", json=body)

    assert response.status_code == 400
    assert response.json() == {"message": message}
    assert database.every_count() == before


def test_remove_on_an_account_is_a_400(
    make_account, moderator: Account, database: Database
) -> None:
    reporter, reported = make_account(), make_account()
    report_id = report(reporter, "user", reported.username)
    before = database.every_count()

    response = decide(moderator, report_id, "remove")

    assert response.status_code == 400
    assert set(response.json()) == {"message"}
    assert database.every_count() == before


def test_an_unknown_report_is_a_404_and_a_closed_one_a_409(
    make_account, moderator: Account, database: Database, bucket: Bucket
) -> None:
    author, first, second = make_account(), make_account(), make_account()
    post_id = new_post(author, database, bucket)
    first_report = report(first, "post", post_id)
    second_report = report(second, "post", post_id)
    assert decide(moderator, first_report, "dismiss").status_code == 204
    before = database.every_count()

    unknown = decide(moderator, str(uuid.uuid4()), "dismiss")
    # The decision closed the whole group, the second report with it.
    closed = decide(moderator, second_report, "remove")
    malformed = decide(moderator, "not-a-uuid", "dismiss")

    assert unknown.status_code == 404
    assert closed.status_code == 409
    assert closed.json() == {"message": "This report is already closed"}
    assert malformed.status_code == 400
    assert database.every_count() == before
    assert author.client.get(f"/posts/{post_id}").status_code == 200


def test_racing_decisions_on_one_subject_decide_it_once(
    make_account, moderator: Account, pool: Pool, database: Database, bucket: Bucket
) -> None:
    author, first, second, colleague = (make_account() for _ in range(4))
    grant_role(pool, colleague.username, "moderator")
    post_id = new_post(author, database, bucket)
    reports = [report(first, "post", post_id), report(second, "post", post_id)]
    barrier = threading.Barrier(2)
    statuses: dict[str, int] = {}

    def race(account: Account, report_id: str, action: str) -> None:
        barrier.wait()
        statuses[action] = decide(account, report_id, action).status_code

    threads = [
        threading.Thread(target=race, args=(moderator, reports[0], "remove")),
        threading.Thread(target=race, args=(colleague, reports[1], "dismiss")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # The group's rows are locked in one order: the second waits, then finds it closed.
    assert sorted(statuses.values()) == [204, 409]
    [winner] = [action for action, status in statuses.items() if status == 204]
    assert database.rows(
        "SELECT DISTINCT status, decision FROM reports WHERE subject_id::text = :id", id=post_id
    ) == [["closed", winner]]
    decided = database.value(
        "SELECT count(*) FROM audit_log WHERE subject = :subject", subject=f"post:{post_id}"
    )
    assert decided == 1
    expected = 404 if winner == "remove" else 200
    assert author.client.get(f"/posts/{post_id}").status_code == expected


def test_reinstate_statuses(make_account, moderator: Account, database: Database) -> None:
    active = make_account()
    before = database.every_count()

    assert moderator.client.post("/moderation/users/nobody_here/reinstate").status_code == 404
    not_suspended = moderator.client.post(f"/moderation/users/{active.username}/reinstate")
    assert not_suspended.status_code == 409
    assert not_suspended.json() == {"message": "This account is not suspended"}
    assert moderator.client.post("/moderation/users/no%20way/reinstate").status_code == 400
    assert database.every_count() == before


def test_removing_content_its_author_already_deleted_still_closes_the_reports(
    make_account, moderator: Account, database: Database, bucket: Bucket
) -> None:
    author, reporter = make_account(), make_account()
    post_id = new_post(author, database, bucket)
    close_every_open_report(database)
    report_id = report(reporter, "post", post_id)
    assert author.client.delete(f"/posts/{post_id}").status_code == 204
    entry = next(i for i in queue(moderator, limit=50)["items"] if i["id"] == report_id)
    assert entry["content"] == {
        "author": entry["content"]["author"],
        "postId": None,
        "filename": None,
        "text": None,
        "removed": True,
    }
    position = outbox_position(database)

    assert decide(moderator, report_id, "remove").status_code == 204

    [event] = outbox_rows(database, position)
    assert event.type == "phasma.reports.decided"
    assert event.payload["contentRemoved"] is False


# -- search indexer --------------------------------------------------------------------


class RecordingWriter:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []

    def upsert(self, index: str, documents: list[dict[str, Any]]) -> None:
        if documents:
            key = "userId" if index == USERS.uid else "postId"
            self.calls.append(("upsert", index, [document[key] for document in documents]))

    def delete(self, index: str, document_id: str) -> None:
        self.calls.append(("delete", index, document_id))

    def delete_posts_of(self, author_id: uuid.UUID) -> None:
        self.calls.append(("delete posts of", POSTS.uid, str(author_id)))


def test_the_indexer_drops_a_suspended_account_and_its_posts_and_restores_them(
    make_account, moderator: Account, database: Database, bucket: Bucket, event_function
) -> None:
    author, reporter = make_account(), make_account()
    posts = [new_post(author, database, bucket) for _ in range(2)]
    report_id = report(reporter, "user", author.username)
    pool = event_function("search-indexer").runtime.db
    public_id = database.value(
        "SELECT public_id::text FROM users WHERE username = :u", u=author.username
    )
    position = outbox_position(database)
    assert decide(moderator, report_id, "suspend").status_code == 204
    [suspended] = outbox_rows(database, position, "phasma.user.suspended")
    assert suspended.payload == {"userId": public_id, "username": author.username}

    writer = RecordingWriter()
    apply(received(suspended.type, suspended.payload), writer, pool)  # type: ignore[arg-type]

    assert writer.calls == [
        ("delete", USERS.uid, public_id),
        ("delete posts of", POSTS.uid, public_id),
    ]

    position = outbox_position(database)
    assert moderator.client.post(f"/moderation/users/{author.username}/reinstate").status_code == (
        204
    )
    [reinstated] = outbox_rows(database, position, "phasma.user.reinstated")
    writer = RecordingWriter()
    apply(received(reinstated.type, reinstated.payload), writer, pool)  # type: ignore[arg-type]

    assert writer.calls == [("upsert", USERS.uid, [public_id]), ("upsert", POSTS.uid, posts)]


def received(event_type: str, data: dict[str, Any]) -> ReceivedEvent:
    return ReceivedEvent(
        id=str(secrets.randbelow(10**9)),
        type=event_type,
        source="/phasma/moderation",
        subject=None,
        time=datetime.now(UTC),
        data=data,
    )


def test_moderation_routes_are_the_registrys() -> None:
    paths = {f"{route.method} {route.path}" for route in MODERATION_ROUTES}
    assert paths == {
        "GET /moderation/reports",
        "POST /moderation/reports/{id}/decision",
        "POST /moderation/users/{username}/reinstate",
    }
    assert all(re.match(r"^/moderation/", route.path) for route in MODERATION_ROUTES)
