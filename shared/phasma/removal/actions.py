"""Removing an account after `DELETE /users/me`, batch by batch: the `removal` slice's writes.

`phasma.user.deleted` arrives once the account is invisible (`users.deleted_at`); the
`account-remover` (`worker.py`) then deletes everything of it in bounded batches, each in
its own transaction under the user row's lock, in this order: credentials, likes,
comments, bookmarks, notifications, follows both ways, feed rows, posts (blobs first),
pending uploads (blobs first), exports (blobs first), and last the user row itself.
Every committed batch leaves a consistent state: counters match the rows, and a blob is
deleted before the row that names it, so a crash can leave a row whose blobs are gone
(finished by the next batch) but never a blob no row names. A crash anywhere is finished
by the redelivery of the event, or by the janitor's `account-removals` sweep; both simply
run the next batch (`run_batch`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Final
from uuid import UUID

from phasma.blobs import BlobStore, image_keys
from phasma.db.pool import Executor
from phasma.events.catalogue import HashtagUpdated, PostDeleted
from phasma.events.outbox import record_event
from phasma.exports.queries import object_key
from phasma.posts.queries import image_filenames
from phasma.removal import queries
from phasma.runtime import Runtime

log = logging.getLogger(__name__)

SOURCE = "account-remover"
# Rows per batch; posts are fewer because each one cascades its likes, comments and
# every follower's feed row, and costs its image blobs.
BATCH_SIZE: Final = 2000
POST_BATCH_SIZE: Final = 100
# Well inside the function's timeout; what is left is the janitor's sweep's to finish.
TIME_BUDGET_SECONDS: Final = 240.0
FINISHED: Final = "finished"

Step = Callable[[Executor, BlobStore, queries.RemovedAccount], int]


def _credentials(executor: Executor, blobs: BlobStore, account: queries.RemovedAccount) -> int:
    return queries.delete_credentials(executor, account["id"])


def _likes(executor: Executor, blobs: BlobStore, account: queries.RemovedAccount) -> int:
    return queries.delete_likes(executor, account["id"], BATCH_SIZE)


def _comments(executor: Executor, blobs: BlobStore, account: queries.RemovedAccount) -> int:
    return queries.delete_comments(executor, account["id"], BATCH_SIZE)


def _plain(kind: str) -> Step:
    def step(executor: Executor, blobs: BlobStore, account: queries.RemovedAccount) -> int:
        return queries.delete_plain(executor, kind, account["id"], BATCH_SIZE)

    return step


def _following(executor: Executor, blobs: BlobStore, account: queries.RemovedAccount) -> int:
    return queries.delete_following(executor, account["id"], BATCH_SIZE)


def _followers(executor: Executor, blobs: BlobStore, account: queries.RemovedAccount) -> int:
    return queries.delete_followers(executor, account["id"], BATCH_SIZE)


def _posts(executor: Executor, blobs: BlobStore, account: queries.RemovedAccount) -> int:
    """A batch of posts: blobs, then rows, tags counted down, the events recorded.

    The account's own `post_count` is not counted down: its row goes last, and nothing
    reads it meanwhile (profiles, suggestions, search and sessions all skip a deleted
    account)."""
    posts = queries.lock_posts(executor, account["id"], POST_BATCH_SIZE)
    if not posts:
        return 0
    post_ids = [post["id"] for post in posts]
    filenames = image_filenames(executor, post_ids)
    blobs.delete_many(
        key for images in filenames.values() for filename in images for key in image_keys(filename)
    )
    comments = queries.comment_ids_by_post(executor, post_ids)
    tags = queries.delete_posts(executor, post_ids)
    for post in posts:
        record_event(
            executor,
            event_type="phasma.post.deleted",
            source_function=SOURCE,
            subject=str(post["public_id"]),
            payload=PostDeleted(
                post_id=post["public_id"],
                author_id=account["public_id"],
                filename=post["filename"],
                filenames=filenames[post["id"]],
                comment_ids=comments.get(post["id"], []),
            ),
        )
    for tag in sorted(tags, key=lambda row: row["name"]):
        record_event(
            executor,
            event_type="phasma.hashtag.updated",
            source_function=SOURCE,
            subject=tag["name"],
            payload=HashtagUpdated(name=tag["name"], post_count=tag["post_count"]),
        )
    return len(posts)


def _uploads(executor: Executor, blobs: BlobStore, account: queries.RemovedAccount) -> int:
    filenames = queries.lock_uploads(executor, account["id"], BATCH_SIZE)
    if not filenames:
        return 0
    blobs.delete_many(key for filename in filenames for key in image_keys(filename))
    return queries.delete_uploads(executor, filenames)


def _exports(executor: Executor, blobs: BlobStore, account: queries.RemovedAccount) -> int:
    # The ZIPs hold everything the account had: they go before the rows that name them,
    # or the rows' cascade with the user would leave them in the bucket for good.
    public_ids = queries.lock_exports(executor, account["id"], BATCH_SIZE)
    if not public_ids:
        return 0
    blobs.delete_many(object_key(public_id) for public_id in public_ids)
    return queries.delete_exports(executor, public_ids)


STEPS: Final[tuple[tuple[str, Step], ...]] = (
    ("credentials", _credentials),
    ("likes", _likes),
    ("comments", _comments),
    ("bookmarks", _plain("bookmarks")),
    ("notifications", _plain("notifications")),
    ("following", _following),
    ("followers", _followers),
    ("feed", _plain("feed")),
    ("posts", _posts),
    ("uploads", _uploads),
    ("exports", _exports),
)


def run_batch(executor: Executor, blobs: BlobStore, account: queries.RemovedAccount) -> str:
    """One batch of the first step with work left, or the last step: returns its name.

    `account` is the user row locked by `queries.lock_account` in this transaction.
    """
    for name, step in STEPS:
        if step(executor, blobs, account):
            return name
    avatar = account["avatar"]
    # An avatar taken from an upload has no row left to name its blobs: they go now.
    if avatar is not None and not queries.avatar_used_elsewhere(executor, account["id"], avatar):
        blobs.delete_many(image_keys(avatar))
    queries.delete_user(executor, account["id"])
    return FINISHED


def remove_account(runtime: Runtime, public_id: UUID) -> bool:
    """Run batches until the account is gone (True) or the time budget is spent (False)."""
    deadline = time.monotonic() + TIME_BUDGET_SECONDS
    batches = 0
    while time.monotonic() < deadline:
        with runtime.db.transaction() as executor:
            account = queries.lock_account(executor, public_id)
            if account is None:
                return True  # finished before, by a redelivery or the sweep
            step = run_batch(executor, runtime.blob_store, account)
        batches += 1
        if step == FINISHED:
            log.info("account %s removed in %d batches", public_id, batches)
            return True
    log.warning("account %s: removal continues on the janitor's sweep", public_id)
    return False
