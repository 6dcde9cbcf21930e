"""`notifications-worker` through its real entry point, fed the real events of real changes
(docs/domain.md §4): creation with its state check, idempotency, deletes, convergence."""

from __future__ import annotations

import threading
import time
from uuid import UUID

import pytest

from phasma.notifications import queries
from tests.api.conftest import Account, Bucket, Database
from tests.api.event_delivery import Worker, one_event, outbox_rows, with_payload
from tests.api.posting import assert_no_content, new_post, outbox_position


@pytest.fixture
def notifications_worker(event_function) -> Worker:
    return Worker(event_function("notifications-worker"))


def notifications_of(database: Database, username: str) -> list[tuple[str, str, str, str]]:
    """(type, actor username, entity id, external id) of the user's notifications, oldest first."""
    rows = database.rows(
        """
        SELECT n.type, actor.username, n.entity_id, n.external_id
        FROM notifications n
        JOIN users recipient ON recipient.id = n.user_id
        JOIN users actor ON actor.id = n.actor_id
        WHERE recipient.username = :username
        ORDER BY n.id
        """,
        username=username,
    )
    return [(row[0], row[1], row[2], row[3]) for row in rows]


def public_user_id(database: Database, username: str) -> str:
    return str(database.value("SELECT public_id::text FROM users WHERE username = :u", u=username))


def comment_on(account: Account, post_id: str) -> str:
    response = account.client.post(f"/posts/{post_id}/comments", json={"body": "Nice!"})
    assert response.status_code == 201, response.text
    comment_id: str = response.json()["id"]
    return comment_id


@pytest.fixture
def post(make_account, database: Database, bucket: Bucket) -> tuple[Account, str]:
    """Someone's post: (author, publicId)."""
    author = make_account()
    return author, new_post(author, database, bucket)


# -- edits --------------------------------------------------------------------------------


def test_a_mention_added_by_an_edit_notifies_no_one(
    account: Account,
    post: tuple[Account, str],
    database: Database,
    notifications_worker: Worker,
) -> None:
    author, post_id = post
    position = outbox_position(database)
    response = author.client.patch(
        f"/posts/{post_id}", json={"description": f"hello @{account.username} #{account.username}"}
    )
    assert response.status_code == 200, response.text
    rows = outbox_rows(database, position)
    assert [row.type for row in rows] == ["phasma.post.updated", "phasma.hashtag.updated"]
    assert notifications_worker.deliver_all(rows) == ["skipped", "skipped"]
    assert notifications_of(database, account.username) == []


# -- likes --------------------------------------------------------------------------------


def test_a_like_delivered_twice_creates_exactly_one_notification(
    account: Account,
    post: tuple[Account, str],
    database: Database,
    notifications_worker: Worker,
) -> None:
    author, post_id = post
    position = outbox_position(database)
    assert_no_content(account.client.post(f"/posts/{post_id}/likes"))
    event = one_event(database, position, "phasma.post.liked")
    assert notifications_worker.deliver(event) == "applied"
    assert notifications_worker.deliver(event) == "skipped"
    assert notifications_of(database, author.username) == [
        ("like", account.username, post_id, str(event.id))
    ]
    assert (
        database.value("SELECT read FROM notifications WHERE external_id = :id", id=str(event.id))
        is False
    )


def test_concurrent_deliveries_of_one_like_create_one_notification(
    account: Account,
    post: tuple[Account, str],
    database: Database,
    notifications_worker: Worker,
) -> None:
    author, post_id = post
    position = outbox_position(database)
    assert_no_content(account.client.post(f"/posts/{post_id}/likes"))
    event = one_event(database, position, "phasma.post.liked")
    outcomes: list[str] = []
    start = threading.Barrier(4)  # all four deliveries begin together

    def deliver() -> None:
        start.wait()
        outcomes.append(notifications_worker.deliver(event))

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["applied", "skipped", "skipped", "skipped"]
    assert len(notifications_of(database, author.username)) == 1


def test_liking_ones_own_post_never_notifies(
    account: Account, database: Database, bucket: Bucket, notifications_worker: Worker
) -> None:
    post_id = new_post(account, database, bucket)
    position = outbox_position(database)
    assert_no_content(account.client.post(f"/posts/{post_id}/likes"))
    assert notifications_worker.deliver(one_event(database, position, "phasma.post.liked")) == (
        "skipped"
    )
    assert notifications_of(database, account.username) == []


def test_an_unlike_removes_the_like_notification(
    account: Account,
    post: tuple[Account, str],
    database: Database,
    notifications_worker: Worker,
) -> None:
    author, post_id = post
    position = outbox_position(database)
    assert_no_content(account.client.post(f"/posts/{post_id}/likes"))
    liked = one_event(database, position, "phasma.post.liked")
    notifications_worker.deliver(liked)
    position = outbox_position(database)
    assert_no_content(account.client.delete(f"/posts/{post_id}/likes"))
    unliked = one_event(database, position, "phasma.post.unliked")
    assert notifications_worker.deliver(unliked) == "applied"
    assert notifications_of(database, author.username) == []
    # Idempotent, and a late redelivery of the like finds no like: nothing comes back.
    assert notifications_worker.deliver(unliked) == "skipped"
    assert notifications_worker.deliver(liked) == "skipped"
    assert notifications_of(database, author.username) == []


def test_like_unlike_like_converges_in_any_delivery_order(
    account: Account,
    post: tuple[Account, str],
    database: Database,
    notifications_worker: Worker,
) -> None:
    author, post_id = post
    position = outbox_position(database)
    for method in ("POST", "DELETE", "POST"):
        assert_no_content(account.client.request(method, f"/posts/{post_id}/likes"))
    events = outbox_rows(database, position)
    assert [event.type for event in events] == [
        "phasma.post.liked",
        "phasma.post.unliked",
        "phasma.post.liked",
    ]
    first, unliked, second = events
    # Out of order: the second like first, then the unlike, then the stale first like.
    notifications_worker.deliver_all([second, unliked, first])
    assert [row[:3] for row in notifications_of(database, author.username)] == [
        ("like", account.username, post_id)
    ]
    # In order, as a full replay would deliver them: still exactly one.
    notifications_worker.deliver_all(events)
    assert len(notifications_of(database, author.username)) == 1


def test_a_like_event_whose_payload_does_not_match_the_facts_creates_nothing(
    account: Account,
    make_account,
    post: tuple[Account, str],
    database: Database,
    notifications_worker: Worker,
) -> None:
    author, post_id = post
    someone_else = make_account()
    position = outbox_position(database)
    assert_no_content(account.client.post(f"/posts/{post_id}/likes"))
    event = one_event(database, position, "phasma.post.liked")
    wrong_recipient = with_payload(
        event, recipientId=public_user_id(database, someone_else.username)
    )
    wrong_actor = with_payload(event, actorId=public_user_id(database, someone_else.username))
    assert notifications_worker.deliver(wrong_recipient) == "skipped"
    assert notifications_worker.deliver(wrong_actor) == "skipped"
    assert notifications_worker.deliver(with_payload(event, postId=None)) == "skipped"
    assert notifications_of(database, author.username) == []
    assert notifications_of(database, someone_else.username) == []


# -- comments --------------------------------------------------------------------------


def test_a_comment_notifies_the_post_author_until_it_is_deleted(
    account: Account,
    post: tuple[Account, str],
    database: Database,
    notifications_worker: Worker,
) -> None:
    author, post_id = post
    position = outbox_position(database)
    comment_id = comment_on(account, post_id)
    created = one_event(database, position, "phasma.comment.created")
    assert notifications_worker.deliver(created) == "applied"
    assert notifications_worker.deliver(created) == "skipped"
    assert notifications_of(database, author.username) == [
        ("comment", account.username, comment_id, str(created.id))
    ]
    # The post's author deletes it: the deleting actor differs from the commenter.
    position = outbox_position(database)
    assert_no_content(author.client.delete(f"/posts/{post_id}/comments/{comment_id}"))
    deleted = one_event(database, position, "phasma.comment.deleted")
    assert notifications_worker.deliver(deleted) == "applied"
    assert notifications_of(database, author.username) == []
    assert notifications_worker.deliver(created) == "skipped"  # late: the comment is gone
    assert notifications_of(database, author.username) == []


def test_each_comment_notifies_separately_and_self_comments_never(
    account: Account,
    post: tuple[Account, str],
    database: Database,
    notifications_worker: Worker,
) -> None:
    author, post_id = post
    position = outbox_position(database)
    first, second = comment_on(account, post_id), comment_on(account, post_id)
    comment_on(author, post_id)
    notifications_worker.deliver_all(outbox_rows(database, position))
    assert [row[:3] for row in notifications_of(database, author.username)] == [
        ("comment", account.username, first),
        ("comment", account.username, second),
    ]


# -- follows ---------------------------------------------------------------------------


def test_a_follow_notifies_the_followee_until_the_unfollow(
    account: Account, make_account, database: Database, notifications_worker: Worker
) -> None:
    followee = make_account()
    position = outbox_position(database)
    assert_no_content(account.client.post(f"/users/{followee.username}/follow"))
    followed = one_event(database, position, "phasma.user.followed")
    assert notifications_worker.deliver(followed) == "applied"
    assert notifications_worker.deliver(followed) == "skipped"
    assert notifications_of(database, followee.username) == [
        ("follow", account.username, public_user_id(database, account.username), str(followed.id))
    ]
    position = outbox_position(database)
    assert_no_content(account.client.delete(f"/users/{followee.username}/follow"))
    unfollowed = one_event(database, position, "phasma.user.unfollowed")
    assert notifications_worker.deliver(unfollowed) == "applied"
    assert notifications_of(database, followee.username) == []
    assert notifications_worker.deliver(followed) == "skipped"
    assert notifications_of(database, followee.username) == []


def test_an_unfollow_delivered_before_its_follow_leaves_nothing(
    account: Account, make_account, database: Database, notifications_worker: Worker
) -> None:
    followee = make_account()
    position = outbox_position(database)
    assert_no_content(account.client.post(f"/users/{followee.username}/follow"))
    assert_no_content(account.client.delete(f"/users/{followee.username}/follow"))
    followed, unfollowed = outbox_rows(database, position)
    assert notifications_worker.deliver_all([unfollowed, followed]) == ["skipped", "skipped"]
    assert notifications_of(database, followee.username) == []


def test_a_refollow_notifies_again_once(
    account: Account, make_account, database: Database, notifications_worker: Worker
) -> None:
    followee = make_account()
    position = outbox_position(database)
    for method in ("POST", "DELETE", "POST"):
        assert_no_content(account.client.request(method, f"/users/{followee.username}/follow"))
    events = outbox_rows(database, position)
    assert notifications_worker.deliver_all(events) == ["applied", "applied", "applied"]
    assert notifications_worker.deliver_all(events) == ["skipped", "applied", "applied"]
    assert len(notifications_of(database, followee.username)) == 1


# -- post deletion ----------------------------------------------------------------------


def test_deleting_a_post_removes_its_like_and_comment_notifications(
    make_account, post: tuple[Account, str], database: Database, bucket: Bucket,
    notifications_worker: Worker,
) -> None:  # fmt: skip
    author, post_id = post
    other_post = new_post(author, database, bucket)
    fans = [make_account() for _ in range(2)]
    position = outbox_position(database)
    for fan in fans:
        assert_no_content(fan.client.post(f"/posts/{post_id}/likes"))
        comment_on(fan, post_id)
    assert_no_content(fans[0].client.post(f"/posts/{other_post}/likes"))
    assert_no_content(fans[0].client.post(f"/users/{author.username}/follow"))
    notifications_worker.deliver_all(outbox_rows(database, position))
    assert len(notifications_of(database, author.username)) == 6

    position = outbox_position(database)
    assert_no_content(author.client.delete(f"/posts/{post_id}"))
    deleted = one_event(database, position, "phasma.post.deleted")
    assert len(deleted.payload["commentIds"]) == 2
    assert notifications_worker.deliver(deleted) == "applied"
    assert [row[:3] for row in notifications_of(database, author.username)] == [
        ("like", fans[0].username, other_post),
        ("follow", fans[0].username, public_user_id(database, fans[0].username)),
    ]
    assert notifications_worker.deliver(deleted) == "skipped"


def test_likes_and_comments_arriving_after_the_post_deletion_create_nothing(
    account: Account,
    post: tuple[Account, str],
    database: Database,
    notifications_worker: Worker,
) -> None:
    author, post_id = post
    position = outbox_position(database)
    assert_no_content(account.client.post(f"/posts/{post_id}/likes"))
    comment_on(account, post_id)
    assert_no_content(author.client.delete(f"/posts/{post_id}"))
    events = outbox_rows(database, position)
    deleted = [event for event in events if event.type == "phasma.post.deleted"]
    activity = [event for event in events if event.type != "phasma.post.deleted"]
    # entity-changes and activity are separate topics: the deletion may come first.
    notifications_worker.deliver_all(deleted + activity)
    assert notifications_of(database, author.username) == []


# -- mentions (docs/api.md §F) -------------------------------------------------------------


def test_a_caption_mention_notifies_once_per_event_even_on_redelivery(
    account: Account, make_account, database: Database, bucket: Bucket,
    notifications_worker: Worker,
) -> None:  # fmt: skip
    friend, other = make_account(), make_account()
    position = outbox_position(database)
    # Written in capitals and twice: one notification, for the account it links to.
    post_id = new_post(
        account, database, bucket,
        description=f"with @{friend.username.upper()} and @{other.username}, @{friend.username}",
    )  # fmt: skip
    created = one_event(database, position, "phasma.post.created")
    assert notifications_worker.deliver(created) == "applied"
    assert notifications_worker.deliver(created) == "skipped"
    for user in (friend, other):
        assert [row[:3] for row in notifications_of(database, user.username)] == [
            ("mention", account.username, post_id)
        ]
    assert notifications_of(database, account.username) == []


def test_a_mention_of_oneself_or_an_unknown_username_notifies_no_one(
    account: Account, database: Database, bucket: Bucket, notifications_worker: Worker
) -> None:
    position = outbox_position(database)
    before = database.counts("notifications")
    new_post(account, database, bucket, description=f"me @{account.username} and @nobody_here_x")
    created = one_event(database, position, "phasma.post.created")
    assert notifications_worker.deliver(created) == "skipped"
    assert database.counts("notifications") == before


def test_a_mention_an_edit_removed_before_delivery_notifies_no_one(
    account: Account, make_account, database: Database, bucket: Bucket,
    notifications_worker: Worker,
) -> None:  # fmt: skip
    kept, removed, added = make_account(), make_account(), make_account()
    position = outbox_position(database)
    post_id = new_post(
        account, database, bucket, description=f"@{kept.username} @{removed.username}"
    )
    response = account.client.patch(
        f"/posts/{post_id}", json={"description": f"@{kept.username} @{added.username}"}
    )
    assert response.status_code == 200, response.text
    notifications_worker.deliver_all(outbox_rows(database, position))
    assert [row[0] for row in notifications_of(database, kept.username)] == ["mention"]
    assert notifications_of(database, removed.username) == []
    assert notifications_of(database, added.username) == []


def test_a_mention_in_a_deleted_post_notifies_no_one_and_is_removed_with_it(
    account: Account, make_account, database: Database, bucket: Bucket,
    notifications_worker: Worker,
) -> None:  # fmt: skip
    friend = make_account()
    position = outbox_position(database)
    first = new_post(account, database, bucket, description=f"@{friend.username}")
    second = new_post(account, database, bucket, description=f"@{friend.username} again")
    notifications_worker.deliver_all(outbox_rows(database, position))
    assert [row[2] for row in notifications_of(database, friend.username)] == [first, second]
    position = outbox_position(database)
    assert_no_content(account.client.delete(f"/posts/{first}"))
    deleted = one_event(database, position, "phasma.post.deleted")
    assert notifications_worker.deliver(deleted) == "applied"
    assert [row[2] for row in notifications_of(database, friend.username)] == [second]
    # A late (re)delivery of the first post's creation finds no post: nothing comes back.
    created = outbox_rows(database, 0, "phasma.post.created")
    late = next(row for row in created if row.payload["postId"] == first)
    assert notifications_worker.deliver(late) == "skipped"
    assert [row[2] for row in notifications_of(database, friend.username)] == [second]


def test_a_comment_mention_is_keyed_by_the_comment_and_goes_with_it(
    account: Account, make_account, post: tuple[Account, str], database: Database,
    notifications_worker: Worker,
) -> None:  # fmt: skip
    author, post_id = post
    friend = make_account()
    position = outbox_position(database)
    response = account.client.post(
        f"/posts/{post_id}/comments",
        json={"body": f"@{friend.username} look, and @{author.username} @{account.username}"},
    )
    assert response.status_code == 201, response.text
    comment_id = response.json()["id"]
    created = one_event(database, position, "phasma.comment.created")
    assert notifications_worker.deliver(created) == "applied"
    assert notifications_worker.deliver(created) == "skipped"
    assert [row[:3] for row in notifications_of(database, friend.username)] == [
        ("mention", account.username, comment_id)
    ]
    # The post's author hears of the comment and of being named in it; the commenter not.
    assert [row[:3] for row in notifications_of(database, author.username)] == [
        ("comment", account.username, comment_id),
        ("mention", account.username, comment_id),
    ]
    assert notifications_of(database, account.username) == []
    external_ids = {row[3] for row in notifications_of(database, friend.username)}
    assert external_ids != {str(created.id)}  # one event, several rows: keyed per recipient

    position = outbox_position(database)
    assert_no_content(account.client.delete(f"/posts/{post_id}/comments/{comment_id}"))
    assert notifications_worker.deliver(one_event(database, position, "phasma.comment.deleted"))
    assert notifications_of(database, friend.username) == []
    assert notifications_of(database, author.username) == []
    assert notifications_worker.deliver(created) == "skipped"  # late: the comment is gone


def test_at_most_twenty_people_are_notified_from_one_text(
    account: Account, make_account, post: tuple[Account, str], database: Database,
    notifications_worker: Worker,
) -> None:  # fmt: skip
    _, post_id = post
    named = [make_account() for _ in range(21)]
    body = " ".join(f"@{user.username}" for user in named)
    position = outbox_position(database)
    response = account.client.post(f"/posts/{post_id}/comments", json={"body": body})
    assert response.status_code == 201, response.text
    notifications_worker.deliver(one_event(database, position, "phasma.comment.created"))
    notified = [bool(notifications_of(database, user.username)) for user in named]
    assert notified == [True] * 20 + [False]


# -- what the worker ignores -----------------------------------------------------------


def test_other_event_types_are_acknowledged_without_effect(
    account: Account, database: Database, bucket: Bucket, notifications_worker: Worker
) -> None:
    position = outbox_position(database)
    new_post(account, database, bucket, description="#notifications")
    events = outbox_rows(database, position)
    assert {event.type for event in events} == {"phasma.post.created", "phasma.hashtag.updated"}
    before = database.counts("notifications")
    assert set(notifications_worker.deliver_all(events)) == {"skipped"}
    assert database.counts("notifications") == before


def test_a_slow_unlike_waits_for_a_like_notification_being_written(
    account: Account,
    post: tuple[Account, str],
    database: Database,
    notifications_worker: Worker,
) -> None:
    """The create locks the like row, so an unlike racing with it cannot strand it."""
    author, post_id = post
    position = outbox_position(database)
    assert_no_content(account.client.post(f"/posts/{post_id}/likes"))
    liked = one_event(database, position, "phasma.post.liked")
    runtime = notifications_worker.runtime
    unliked_at: list[float] = []

    def unlike() -> None:
        assert_no_content(account.client.delete(f"/posts/{post_id}/likes"))
        unliked_at.append(time.monotonic())

    # Hold the worker's transaction open after its insert, with the like row locked.
    with runtime.db.transaction() as executor:
        fact = {
            "post_id": UUID(liked.payload["postId"]),
            "actor_id": UUID(liked.payload["actorId"]),
            "recipient_id": UUID(liked.payload["recipientId"]),
        }
        assert queries.create(executor, queries.CREATE_LIKE, str(liked.id), **fact)
        racer = threading.Thread(target=unlike)
        racer.start()
        time.sleep(0.5)
        assert unliked_at == []  # the unlike waits for the like row
        committed_at = time.monotonic()
    racer.join()
    assert unliked_at[0] >= committed_at
    notifications_worker.deliver(one_event(database, position, "phasma.post.unliked"))
    assert notifications_of(database, author.username) == []


# -- blocks and mutes (docs/api.md §D) -------------------------------------------------------
#
# Each fact is made first (across a block it could not be), then the block or mute, then
# the delivery: the worker decides at delivery time, as a late event would find it.

# Who stops hearing from whom: the recipient blocks or mutes the actor, or the actor
# blocks the recipient. (The actor muting the recipient changes nothing.)
SILENCERS = [
    ("recipient", "block"),
    ("recipient", "mute"),
    ("actor", "block"),
]


def silence(recipient: Account, actor: Account, who: str, how: str) -> None:
    silencer, other = (recipient, actor) if who == "recipient" else (actor, recipient)
    assert_no_content(silencer.client.put(f"/users/{other.username}/{how}"))


@pytest.mark.parametrize(("who", "how"), SILENCERS)
def test_a_like_comment_and_follow_across_a_block_or_mute_notify_no_one(
    account: Account, post: tuple[Account, str], database: Database,
    notifications_worker: Worker, who: str, how: str,
) -> None:  # fmt: skip
    author, post_id = post
    position = outbox_position(database)
    assert_no_content(account.client.post(f"/posts/{post_id}/likes"))
    comment_on(account, post_id)
    assert_no_content(account.client.post(f"/users/{author.username}/follow"))
    facts = outbox_rows(
        database,
        position,
        "phasma.post.liked",
        "phasma.comment.created",
        "phasma.user.followed",
    )
    assert len(facts) == 3
    silence(author, account, who, how)

    # A block also ended the follow (its own unfollow event); a mute left it.
    assert notifications_worker.deliver_all(facts) == ["skipped"] * 3
    assert notifications_of(database, author.username) == []


def test_muting_the_recipient_does_not_silence_the_actor(
    account: Account, post: tuple[Account, str], database: Database,
    notifications_worker: Worker,
) -> None:  # fmt: skip
    author, post_id = post
    position = outbox_position(database)
    assert_no_content(account.client.post(f"/posts/{post_id}/likes"))
    assert_no_content(account.client.put(f"/users/{author.username}/mute"))
    assert notifications_worker.deliver(one_event(database, position, "phasma.post.liked")) == (
        "applied"
    )
    assert [row[0] for row in notifications_of(database, author.username)] == ["like"]


@pytest.mark.parametrize(("who", "how"), SILENCERS)
def test_a_mention_across_a_block_or_mute_notifies_only_the_others(
    account: Account, make_account, database: Database, bucket: Bucket,
    notifications_worker: Worker, who: str, how: str,
) -> None:  # fmt: skip
    silenced, friend = make_account(), make_account()
    silence(silenced, account, who, how)
    position = outbox_position(database)
    post_id = new_post(
        account, database, bucket, description=f"@{silenced.username} @{friend.username}"
    )
    assert notifications_worker.deliver(one_event(database, position, "phasma.post.created")) == (
        "applied"
    )
    assert notifications_of(database, silenced.username) == []
    assert [row[:3] for row in notifications_of(database, friend.username)] == [
        ("mention", account.username, post_id)
    ]


def test_lifting_a_mute_lets_later_notifications_through(
    account: Account, post: tuple[Account, str], database: Database,
    notifications_worker: Worker,
) -> None:  # fmt: skip
    author, post_id = post
    assert_no_content(author.client.put(f"/users/{account.username}/mute"))
    assert_no_content(author.client.delete(f"/users/{account.username}/mute"))
    position = outbox_position(database)
    assert_no_content(account.client.post(f"/posts/{post_id}/likes"))
    assert notifications_worker.deliver(one_event(database, position, "phasma.post.liked")) == (
        "applied"
    )
    assert [row[0] for row in notifications_of(database, author.username)] == ["like"]
