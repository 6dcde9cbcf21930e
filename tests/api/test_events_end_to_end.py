"""Feed and notifications end to end: API → outbox → Kafka → local dispatcher → workers → API.

Nothing is delivered by hand here: the functions publish their events inline after
commit, the local eventing (the KafkaSource stand-in of `./taskw up`) delivers them
to `feed-worker` and `notifications-worker` served over HTTP, and the tests watch
the results through the API within a few seconds.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from phasma.deploy.eventing import consumer_group
from phasma.devstack.eventing import Dispatcher, Subscription
from phasma.devstack.gateway import serve
from phasma.devstack.services import DependencyUrls
from phasma.events.publisher import Publisher
from phasma.provisioning import create_topics
from phasma.registry import get_function
from phasma.topics import PARTITIONS
from tests.api.conftest import Account, Api, Bucket, Database
from tests.api.event_delivery import one_event
from tests.api.posting import assert_no_content, new_post, outbox_position, sql_posts
from tests.api.server_sent_events import open_stream

WORKERS = ("feed-worker", "notifications-worker")
WAIT_SECONDS = 15.0

Value = TypeVar("Value")


def start_at_the_end(brokers: str, group: str, topics: tuple[str, ...]) -> None:
    """Commit the group's offsets at the current end of `topics`.

    A new group starts at the earliest offset (docs/operations.md §2.2), which here would
    replay every event of the session's earlier tests before ours.
    """
    consumer = KafkaConsumer(
        bootstrap_servers=brokers.split(","), group_id=group, enable_auto_commit=False
    )
    try:
        partitions = [
            TopicPartition(topic, partition)
            for topic in topics
            for partition in consumer.partitions_for_topic(topic) or ()
        ]
        ends = consumer.end_offsets(partitions)
        consumer.commit({tp: OffsetAndMetadata(offset, "", -1) for tp, offset in ends.items()})
    finally:
        consumer.close()


@pytest.fixture(scope="module")
def eventing(event_function, dependencies: DependencyUrls) -> Iterator[None]:
    """Both workers served over HTTP and fed by the local dispatcher, from now on."""
    brokers = dependencies.kafka_brokers
    create_topics(brokers, PARTITIONS)
    tag = secrets.token_hex(4)
    servers: list[Any] = []
    subscriptions: list[Subscription] = []
    for name in WORKERS:
        server = serve(event_function(name).wsgi_app, "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        function = get_function(name)
        group = f"{consumer_group(function)}-tests-{tag}"
        start_at_the_end(brokers, group, function.topics)
        url = f"http://127.0.0.1:{server.server_port}"
        subscriptions.append(Subscription(name, group, function.topics, url))
    dispatcher = Dispatcher(brokers, subscriptions)
    dispatcher.start()
    assert dispatcher.wait_until_joined(60)
    yield
    dispatcher.stop()
    for server in servers:
        server.shutdown()


def eventually(
    read: Callable[[], Value], done: Callable[[Value], bool], seconds: float = WAIT_SECONDS
) -> Value:
    """Poll `read` until `done` holds for its value; fails with the last value after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            assert done(value), value
            return value
        time.sleep(0.1)


def items(client: Api, path: str) -> list[dict[str, Any]]:
    response = client.get(path, params={"limit": 50})
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["items"]
    return found


def feed_ids(client: Api) -> list[str]:
    return [item["publicId"] for item in items(client, "/feed")]


def feed_row_count(database: Database, username: str) -> int:
    return int(
        database.value(
            "SELECT count(*) FROM feed f JOIN users u ON u.id = f.user_id WHERE u.username = :u",
            u=username,
        )
    )


pytestmark = pytest.mark.usefixtures("eventing")


def test_a_like_shows_up_as_exactly_one_notification_even_when_delivered_twice(
    make_account, database: Database, bucket: Bucket, dependencies: DependencyUrls
) -> None:
    author, fan = make_account(), make_account()
    post_id = new_post(author, database, bucket)
    position = outbox_position(database)
    assert_no_content(fan.client.post(f"/posts/{post_id}/likes"))
    notifications = eventually(lambda: items(author.client, "/notifications"), bool)
    assert [(n["type"], n["actorUsername"], n["entityId"]) for n in notifications] == [
        ("like", fan.username, post_id)
    ]
    # The same record again on the broker, as a relay retry after a lost ack would send it,
    # then a comment on the same post: same topic and key, so it is delivered after it.
    liked = one_event(database, position, "phasma.post.liked")
    publisher = Publisher(dependencies.kafka_brokers, 10, "tests-duplicate")
    try:
        assert publisher.send([liked]) == [liked.id]
    finally:
        publisher.close()
    assert fan.client.post(f"/posts/{post_id}/comments", json={"body": "!"}).status_code == 201
    notifications = eventually(
        lambda: items(author.client, "/notifications"), lambda found: len(found) >= 2
    )
    assert [n["type"] for n in notifications] == ["comment", "like"]


def test_a_comment_notifies_and_its_deletion_removes_it(
    make_account, database: Database, bucket: Bucket
) -> None:
    author, fan = make_account(), make_account()
    post_id = new_post(author, database, bucket)
    response = fan.client.post(f"/posts/{post_id}/comments", json={"body": "Lovely"})
    assert response.status_code == 201
    comment_id = response.json()["id"]
    eventually(
        lambda: [(n["type"], n["entityId"]) for n in items(author.client, "/notifications")],
        lambda found: found == [("comment", comment_id)],
    )
    assert_no_content(fan.client.delete(f"/posts/{post_id}/comments/{comment_id}"))
    eventually(lambda: items(author.client, "/notifications"), lambda found: found == [])


def test_an_unlike_removes_the_notification(
    make_account, database: Database, bucket: Bucket
) -> None:
    author, fan = make_account(), make_account()
    post_id = new_post(author, database, bucket)
    assert_no_content(fan.client.post(f"/posts/{post_id}/likes"))
    eventually(lambda: items(author.client, "/notifications"), lambda found: len(found) == 1)
    assert_no_content(fan.client.delete(f"/posts/{post_id}/likes"))
    eventually(lambda: items(author.client, "/notifications"), lambda found: found == [])
    assert author.client.get("/notifications/unread-count").json() == {"count": 0}


def test_deleting_a_post_removes_its_like_and_comment_notifications(
    make_account, database: Database, bucket: Bucket
) -> None:
    author, fan = make_account(), make_account()
    post_id, kept_post = new_post(author, database, bucket), new_post(author, database, bucket)
    assert_no_content(fan.client.post(f"/posts/{post_id}/likes"))
    assert fan.client.post(f"/posts/{post_id}/comments", json={"body": "Hi"}).status_code == 201
    assert_no_content(fan.client.post(f"/posts/{kept_post}/likes"))
    eventually(lambda: items(author.client, "/notifications"), lambda found: len(found) == 3)
    assert_no_content(author.client.delete(f"/posts/{post_id}"))
    remaining = eventually(
        lambda: items(author.client, "/notifications"), lambda found: len(found) == 1
    )
    assert (remaining[0]["type"], remaining[0]["entityId"]) == ("like", kept_post)


def test_a_follow_brings_the_followees_posts_and_an_unfollow_takes_them_away(
    make_account, database: Database, bucket: Bucket
) -> None:
    reader, author = make_account(), make_account()
    earlier = new_post(author, database, bucket)
    assert_no_content(reader.client.post(f"/users/{author.username}/follow"))
    eventually(lambda: feed_ids(reader.client), lambda found: found == [earlier])  # backfill
    follow_notice = eventually(lambda: items(author.client, "/notifications"), bool)
    assert follow_notice[0]["type"] == "follow"
    later = new_post(author, database, bucket)
    eventually(lambda: feed_ids(reader.client), lambda found: found == [later, earlier])
    assert_no_content(reader.client.delete(f"/users/{author.username}/follow"))
    eventually(lambda: feed_ids(reader.client), lambda found: found == [])
    eventually(lambda: items(author.client, "/notifications"), lambda found: found == [])


def test_an_own_post_is_in_the_own_feed_immediately(
    account: Account, database: Database, bucket: Bucket
) -> None:
    public_id = new_post(account, database, bucket)
    assert feed_ids(account.client) == [public_id]  # no waiting: the live branch
    eventually(lambda: feed_row_count(database, account.username), lambda count: count == 1)
    assert feed_ids(account.client) == [public_id]


def test_celebrity_posts_reach_followers_without_fan_out(
    make_account, database: Database, bucket: Bucket
) -> None:
    reader, celebrity = make_account(), make_account()
    database.rows("UPDATE users SET is_celebrity = true WHERE username = :u", u=celebrity.username)
    sql_posts(database, celebrity.username, 1, datetime.now(UTC) - timedelta(days=1))
    assert_no_content(reader.client.post(f"/users/{celebrity.username}/follow"))
    public_id = new_post(celebrity, database, bucket)
    # The author's own row is the only one the fan-out writes.
    eventually(lambda: feed_row_count(database, celebrity.username), lambda count: count == 1)
    eventually(lambda: items(celebrity.client, "/notifications"), bool)  # the follow arrived
    assert feed_row_count(database, reader.username) == 0
    assert feed_ids(reader.client)[0] == public_id
    assert len(feed_ids(reader.client)) == 2


def test_the_stream_pushes_a_like_made_elsewhere(
    make_account, database: Database, bucket: Bucket
) -> None:
    author, fan = make_account(), make_account()
    post_id = new_post(author, database, bucket)
    reader = open_stream(author.client)
    try:
        assert reader.next_of("unread-count").json == {"count": 0}
        assert_no_content(fan.client.post(f"/posts/{post_id}/likes"))
        pushed = reader.next_of("notification").json
        assert (pushed["type"], pushed["actorUsername"], pushed["entityId"]) == (
            "like",
            fan.username,
            post_id,
        )
        assert reader.next_of("unread-count").json == {"count": 1}
    finally:
        reader.response.close()
