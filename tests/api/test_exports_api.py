"""docs/api.md §C data export: the routes over HTTP, and the `exporter` end to end.

The exporter runs through its real entry point on the API tests' database and bucket:
the event `POST /users/me/exports` wrote is delivered to it as a KafkaSource would, the
ZIP it streamed into the bucket is downloaded through the owner-checked route and opened,
and the mail it requested is sent by the real `mailer` to the session's catcher.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from typing import Any

import pytest

from phasma.devstack.mailcatcher import MailCatcher
from phasma.events.worker import EventFunction
from phasma.exports.queries import object_key
from phasma.janitor.tasks import run
from tests.api.conftest import Account, Api, ApiStack, Bucket, Database
from tests.api.event_delivery import Worker, one_event
from tests.api.posting import assert_error, new_post, outbox_position

EXPORT_EVENT = "phasma.export.requested"
WRITES = ("exports", "outbox", "notifications")
FILES = {
    "profile.json", "posts.json", "comments.json", "likes.json", "following.json",
    "followers.json",
}  # fmt: skip


@pytest.fixture
def exporter(event_function) -> Worker:
    return Worker(event_function("exporter"))


@pytest.fixture
def mailer(event_function, api_stack: ApiStack, mail_catcher: MailCatcher) -> EventFunction:
    return event_function(
        "mailer",
        smtp_host="127.0.0.1",
        smtp_port=mail_catcher.port,
        smtp_starttls=False,
        site_url="http://site.test",
        session_hash_secret=api_stack.settings.session_hash_secret,
    )


def request_export(account: Account) -> dict[str, Any]:
    response = account.client.post("/users/me/exports")
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


def test_request_answers_pending_and_writes_one_event(account: Account, database: Database):
    position = outbox_position(database)
    body = request_export(account)
    assert set(body) == {"id", "status", "created"} and body["status"] == "pending"
    event = one_event(database, position, EXPORT_EVENT)
    assert event.payload["exportId"] == body["id"] and event.subject == body["id"]
    shown = account.client.get(f"/users/me/exports/{body['id']}")
    assert shown.status_code == 200 and shown.json() == body


def test_a_second_request_while_pending_is_409_and_writes_nothing(
    account: Account, database: Database
):
    request_export(account)
    before = database.counts(*WRITES)
    response = account.client.post("/users/me/exports")
    assert_error(response, 409)
    assert response.json() == {"message": "An export is already being prepared."}
    assert database.counts(*WRITES) == before


def test_status_of_a_bad_unknown_or_foreign_export(
    account: Account, make_account, api: Api, database: Database
):
    mine = request_export(account)["id"]
    assert_error(account.client.get("/users/me/exports/not-a-uuid"), 400)
    assert_error(account.client.get(f"/users/me/exports/{uuid.uuid4()}"), 404)
    other = make_account()
    assert_error(other.client.get(f"/users/me/exports/{mine}"), 404)
    assert_error(other.client.get(f"/users/me/exports/{mine}/download"), 404)
    before = database.counts(*WRITES)
    assert_error(api.get(f"/users/me/exports/{mine}"), 401)
    assert_error(api.post("/users/me/exports"), 401)
    assert_error(api.get(f"/users/me/exports/{mine}/download"), 401)
    assert database.counts(*WRITES) == before


def test_a_pending_export_cannot_be_downloaded(account: Account):
    mine = request_export(account)["id"]
    assert_error(account.client.get(f"/users/me/exports/{mine}/download"), 404)


def test_the_exporter_writes_the_whole_account(
    account: Account,
    make_account,
    database: Database,
    bucket: Bucket,
    exporter: Worker,
    mailer: EventFunction,
    mail_catcher: MailCatcher,
):
    fan, star = make_account(), make_account()
    posts = [new_post(account, database, bucket, f"photo {n} #export") for n in range(3)]
    star_post = new_post(star, database, bucket)
    assert account.client.post(f"/posts/{star_post}/likes").status_code in (200, 201, 204)
    comment = account.client.post(f"/posts/{star_post}/comments", json={"body": "nice"})
    assert comment.status_code == 201, comment.text
    assert account.client.post(f"/users/{star.username}/follow").status_code in (200, 201, 204)
    assert fan.client.post(f"/users/{account.username}/follow").status_code in (200, 201, 204)

    position = outbox_position(database)
    export_id = request_export(account)["id"]
    event = one_event(database, position, EXPORT_EVENT)
    assert exporter.deliver(event) == "applied"

    shown = account.client.get(f"/users/me/exports/{export_id}").json()
    assert shown["status"] == "ready"
    assert shown["url"] == f"/users/me/exports/{export_id}/download" and shown["expires"]
    download = account.client.get(shown["url"])
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    assert "attachment" in download.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    assert archive.testzip() is None
    filenames = [
        database.value("SELECT filename FROM posts WHERE public_id = :id", id=post)
        for post in posts
    ]
    assert set(archive.namelist()) == FILES | {f"images/{name}.jpg" for name in filenames}
    for name in filenames:
        assert archive.read(f"images/{name}.jpg") == bucket.get(name)

    def read(name: str) -> Any:
        return json.loads(archive.read(name))

    profile = read("profile.json")
    assert profile["username"] == account.username and profile["email"] == account.email
    exported = read("posts.json")
    assert [post["id"] for post in exported] == posts
    assert exported[0]["description"] == "photo 0 #export" and exported[0]["hashtags"] == ["export"]
    assert [(c["id"], c["postId"], c["body"]) for c in read("comments.json")] == [
        (comment.json()["id"], star_post, "nice")
    ]
    assert [like["postId"] for like in read("likes.json")] == [star_post]
    assert [f["username"] for f in read("following.json")] == [star.username]
    assert [f["username"] for f in read("followers.json")] == [fan.username]

    notifications = account.client.get("/notifications").json()["items"]
    ready = [n for n in notifications if n["type"] == "export_ready"]
    assert len(ready) == 1 and ready[0]["entityId"] == export_id
    mail = one_event(database, position, "phasma.mail.requested")
    assert mail.payload == {
        "kind": "export_ready",
        "userId": profile["id"],
        "address": account.email,
    }
    assert Worker(mailer).deliver(mail) == "applied"
    caught = [m for m in mail_catcher.mailbox.messages() if account.email in m["to"]][-1]
    assert caught["subject"] == "Your Phasma data export is ready"
    assert "http://site.test/settings/export" in caught["text"]

    # A redelivery of the finished export changes nothing: no second notification or mail.
    before = database.counts(*WRITES)
    assert exporter.deliver(event) == "skipped"
    assert database.counts(*WRITES) == before
    # Ready, the account may ask for a new one.
    request_export(account)


def test_a_crashed_export_restarts_cleanly(
    account: Account, database: Database, bucket: Bucket, exporter: Worker
):
    post = new_post(account, database, bucket)
    position = outbox_position(database)
    export_id = request_export(account)["id"]
    # What a crash mid-way leaves: a stale object under the key, the export still pending.
    bucket.put(object_key(export_id), b"half a zip", "application/zip")
    assert exporter.deliver(one_event(database, position, EXPORT_EVENT)) == "applied"
    archive = zipfile.ZipFile(io.BytesIO(bucket.get(object_key(export_id)) or b""))
    filename = database.value("SELECT filename FROM posts WHERE public_id = :id", id=post)
    assert f"images/{filename}.jpg" in archive.namelist()


def test_the_janitor_removes_expired_exports(
    account: Account, database: Database, bucket: Bucket, exporter: Worker
):
    position = outbox_position(database)
    export_id = request_export(account)["id"]
    assert exporter.deliver(one_event(database, position, EXPORT_EVENT)) == "applied"
    key = object_key(export_id)
    assert bucket.get(key) is not None
    run(exporter.runtime, "expired-exports")
    assert database.value("SELECT count(*) FROM exports WHERE public_id = :id", id=export_id) == 1
    database.rows(
        "UPDATE exports SET expires = now() - interval '1 second' WHERE public_id = :id",
        id=export_id,
    )
    assert_error(account.client.get(f"/users/me/exports/{export_id}"), 404)
    run(exporter.runtime, "expired-exports")
    assert database.value("SELECT count(*) FROM exports WHERE public_id = :id", id=export_id) == 0
    assert bucket.get(key) is None
