"""`POST /reports` (docs/api.md §D): report a post, a comment or an account.

Every bad body is a `400` with the contract's `{"message"}` and writes nothing; an
unknown subject is a `404`, a second open report on the same subject a `409`.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest

from tests.api.conftest import Account, Api, Bucket, Database
from tests.api.posting import new_post


def report(account: Account, subject_type: str, subject_id: str, **extra: Any) -> Any:
    body = {"subjectType": subject_type, "subjectId": subject_id, "reason": "spam", **extra}
    return account.client.post("/reports", json=body)


def comment_on(account: Account, post_id: str, body: str = "Lovely light") -> str:
    response = account.client.post(f"/posts/{post_id}/comments", json={"body": body})
    assert response.status_code == 201, response.text
    comment_id: str = response.json()["id"]
    return comment_id


def test_a_post_a_comment_and_an_account_can_each_be_reported(
    make_account, database: Database, bucket: Bucket
) -> None:
    author, reporter = make_account(), make_account()
    post_id = new_post(author, database, bucket, "A day at the beach")
    comment_id = comment_on(author, post_id)

    created = [
        report(reporter, "post", post_id, reason="nudity", note="  not for here  "),
        report(reporter, "comment", comment_id, reason="harassment"),
        report(reporter, "user", author.username.upper()),  # usernames are case-insensitive
    ]

    assert [response.status_code for response in created] == [201, 201, 201]
    ids = [response.json()["id"] for response in created]
    assert all(set(response.json()) == {"id"} for response in created)
    rows = database.rows(
        """
        SELECT r.public_id::text, r.subject_type, r.subject_id::text, r.reason, r.note,
               r.status, reporter.username, author.username
        FROM reports r
        JOIN users reporter ON reporter.id = r.reporter_id
        JOIN users author ON author.id = r.author_id
        WHERE r.public_id::text = ANY(:ids) ORDER BY r.id
        """,
        ids=ids,
    )
    author_public_id = database.value(
        "SELECT public_id::text FROM users WHERE username = :u", u=author.username
    )
    assert rows == [
        [
            ids[0],
            "post",
            post_id,
            "nudity",
            "not for here",
            "open",
            reporter.username,
            author.username,
        ],
        [
            ids[1],
            "comment",
            comment_id,
            "harassment",
            None,
            "open",
            reporter.username,
            author.username,
        ],
        [
            ids[2],
            "user",
            author_public_id,
            "spam",
            None,
            "open",
            reporter.username,
            author.username,
        ],
    ]


def test_a_second_report_of_the_same_subject_while_open_is_a_409(
    make_account, database: Database, bucket: Bucket
) -> None:
    author, reporter, other = make_account(), make_account(), make_account()
    post_id = new_post(author, database, bucket)
    assert report(reporter, "post", post_id).status_code == 201

    again = report(reporter, "post", post_id, reason="violence")

    assert again.status_code == 409
    assert set(again.json()) == {"message"}
    # Someone else may still report it, and the reporter may report something else.
    assert report(other, "post", post_id).status_code == 201
    assert report(reporter, "user", author.username).status_code == 201
    assert (
        database.value("SELECT count(*) FROM reports WHERE subject_id::text = :id", id=post_id) == 2
    )


def test_racing_reports_of_one_subject_insert_one(
    make_account, database: Database, bucket: Bucket
) -> None:
    author, reporter = make_account(), make_account()
    post_id = new_post(author, database, bucket)
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def race() -> None:
        barrier.wait()
        statuses.append(report(reporter, "post", post_id).status_code)

    threads = [threading.Thread(target=race) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201, 409, 409, 409]
    assert (
        database.value("SELECT count(*) FROM reports WHERE subject_id::text = :id", id=post_id) == 1
    )


@pytest.mark.parametrize("subject_type", ["post", "comment", "user"])
def test_an_unknown_subject_is_a_404(
    account: Account, database: Database, subject_type: str
) -> None:
    before = database.every_count()
    subject_id = "nobody_here" if subject_type == "user" else str(uuid.uuid4())

    response = report(account, subject_type, subject_id)

    assert response.status_code == 404
    assert set(response.json()) == {"message"}
    assert database.every_count() == before


def test_a_deleted_post_or_a_suspended_account_cannot_be_reported(
    make_account, database: Database, bucket: Bucket
) -> None:
    author, reporter = make_account(), make_account()
    post_id = new_post(author, database, bucket)
    assert author.client.delete(f"/posts/{post_id}").status_code == 204
    suspended = make_account()
    database.rows("UPDATE users SET suspended_at = now() WHERE username = :u", u=suspended.username)

    assert report(reporter, "post", post_id).status_code == 404
    assert report(reporter, "user", suspended.username).status_code == 404
    assert (
        database.value(
            "SELECT count(*) FROM reports r JOIN users u ON u.id = r.reporter_id"
            " WHERE u.username = :u",
            u=reporter.username,
        )
        == 0
    )


BAD_BODIES = [
    ({"subjectType": ""}, "subjectType must be one of post, comment, user"),
    ({"subjectType": "hashtag"}, "subjectType must be one of post, comment, user"),
    ({"subjectType": 3}, "subjectType has the wrong type"),
    (
        {"reason": "rude"},
        "reason must be one of spam, harassment, nudity, violence, copyright, other",
    ),
    (
        {"reason": None},
        "reason must be one of spam, harassment, nudity, violence, copyright, other",
    ),
    ({"note": "x" * 1001}, "note must be at most 1000 characters"),
    ({"note": ["why"]}, "note has the wrong type"),
    ({"subjectId": "not-a-uuid"}, "subjectId must be a UUID"),
    ({"subjectId": 7}, "subjectId has the wrong type"),
    ({"subjectType": "user", "subjectId": "no spaces allowed"}, "subjectId must be a username"),
]


@pytest.mark.parametrize(("change", "message"), BAD_BODIES)
def test_a_bad_body_is_a_400_that_writes_nothing(
    make_account, database: Database, bucket: Bucket, change: dict[str, Any], message: str
) -> None:
    author, reporter = make_account(), make_account()
    post_id = new_post(author, database, bucket)
    body = {"subjectType": "post", "subjectId": post_id, "reason": "spam", "note": "", **change}
    before = database.every_count()

    response = reporter.client.post("/reports", json=body)

    assert response.status_code == 400
    assert response.json() == {"message": message}
    assert database.every_count() == before


def test_a_note_of_exactly_1000_characters_is_accepted(
    make_account, database: Database, bucket: Bucket
) -> None:
    author, reporter = make_account(), make_account()
    post_id = new_post(author, database, bucket)

    assert report(reporter, "post", post_id, note="é" * 1000).status_code == 201


def test_reporting_needs_a_session(api: Api, database: Database) -> None:
    before = database.every_count()

    response = api.post(
        "/reports", json={"subjectType": "user", "subjectId": "someone", "reason": "spam"}
    )

    assert response.status_code == 401
    assert set(response.json()) == {"message"}
    assert database.every_count() == before
