"""Every write on posts, one function each, with its outbox events in the same transaction."""

from __future__ import annotations

import logging
from uuid import UUID

from phasma.auth.sessions import Viewer
from phasma.db.pool import Database, Executor
from phasma.errors import BadRequest, Forbidden, NotFound
from phasma.events.catalogue import HashtagUpdated, PostCreated, PostDeleted, PostUpdated
from phasma.events.outbox import record_event
from phasma.posts import queries
from phasma.posts.models import Post
from phasma.runtime import Runtime
from phasma.text import extract_hashtags
from phasma.uploads import queries as upload_queries

log = logging.getLogger(__name__)

SOURCE = "posts"


def create_post(
    database: Database,
    viewer: Viewer,
    filenames: list[str],
    description: str | None,
    alt_texts: list[str | None],
) -> UUID:
    """Consume the caller's pending uploads into a new post with its hashtags; its public id.

    `filenames` (1 to 10, distinct) are the images in display order, `alt_texts` theirs.
    The first image is stored on the post's row, the rest in `post_images`. Events:
    `phasma.post.created`, then one `phasma.hashtag.updated` per tag in extraction order.
    400, with nothing written, when any filename is not a pending, unexpired upload of
    the caller.
    """
    hashtags = extract_hashtags(description or "")
    with database.transaction() as executor:
        author = queries.count_new_post(executor, viewer.user_id)
        consumed = {
            row["filename"]: row
            for row in upload_queries.consume_many(executor, viewer.user_id, filenames)
        }
        if len(consumed) != len(filenames):
            raise BadRequest("upload is invalid or expired")
        first, *more = filenames
        post = queries.insert_post(
            executor, viewer.user_id, first, description, alt_texts[0], consumed[first]
        )
        queries.insert_more_images(
            executor,
            post["id"],
            [
                queries.AlbumImage(**consumed[filename], alt_text=alt_text)
                for filename, alt_text in zip(more, alt_texts[1:], strict=True)
            ],
        )
        record_event(
            executor,
            event_type="phasma.post.created",
            source_function=SOURCE,
            subject=str(post["public_id"]),
            payload=PostCreated(
                post_id=post["public_id"],
                author_id=author["public_id"],
                username=author["username"],
                description=description,
                hashtags=hashtags,
                filename=first,
                filenames=filenames,
                created=post["created"],
                author_is_celebrity=author["is_celebrity"],
            ),
        )
        counts = queries.add_hashtags(executor, post["id"], hashtags)
        for name in hashtags:
            _record_hashtag(executor, name, counts[name])
    return post["public_id"]


def edit_post(
    database: Database,
    viewer: Viewer,
    public_id: UUID,
    description: str | None,
    alt_text: str | None,
) -> Post:
    """The author's new description and alt text (None keeps one, "" clears it); the Post.

    404 when the post does not exist, 403 when it is someone else's. An edit that
    changes a text stamps `edited` and emits `phasma.post.updated`, then one
    `phasma.hashtag.updated` per tag it removed or added, in name order; one that
    changes nothing writes nothing. Mentions in the new text notify no one.
    """
    with database.transaction() as executor:
        post = queries.lock_post_for_edit(executor, public_id)
        if post is None:
            raise NotFound()
        if post["user_id"] != viewer.user_id:
            raise Forbidden()
        if description is None:
            description = post["description"]
        if alt_text is None:
            alt_text = post["alt_text"]
        # An empty text is stored as null, as `create_post` stores it.
        description, alt_text = description or None, alt_text or None
        edited = queries.edit_post(executor, post["id"], description, alt_text)
        if edited is not None:
            hashtags = extract_hashtags(description or "")
            record_event(
                executor,
                event_type="phasma.post.updated",
                source_function=SOURCE,
                subject=str(public_id),
                payload=PostUpdated(
                    post_id=public_id,
                    author_id=post["author_public_id"],
                    description=description,
                    alt_text=alt_text,
                    hashtags=hashtags,
                    edited=edited["edited"],
                ),
            )
            before = set(post["hashtags"])
            removed = sorted(before - set(hashtags))
            added = sorted(set(hashtags) - before)
            for row in queries.change_hashtags(executor, post["id"], removed, added):
                _record_hashtag(executor, row["name"], row["post_count"])
        updated = queries.post_by_public_id(executor, public_id, viewer.user_id)
        assert updated is not None  # locked above
    return updated


def delete_post(runtime: Runtime, viewer: Viewer, public_id: UUID) -> None:
    """Delete the caller's post and everything hanging off it, then its images' blobs.

    404 when the post does not exist, 403 when it is someone else's. Events as
    `remove_locked_post`. The blobs go after commit, best effort (`delete_post_blobs`):
    a rollback can then never leave a post whose images are gone.
    """
    with runtime.db.transaction() as executor:
        post = queries.lock_post(executor, public_id)
        if post is None:
            raise NotFound()
        if post["user_id"] != viewer.user_id:
            raise Forbidden()
        if not remove_locked_post(executor, post, public_id, viewer.user_public_id):
            raise NotFound()
    delete_post_blobs(runtime, post["filenames"])


def remove_locked_post(
    executor: Executor, post: queries.LockedPost, public_id: UUID, author_public_id: UUID
) -> bool:
    """Delete a post locked with `queries.lock_post` in the caller's transaction: the one
    deletion path, for its author (`delete_post`) and a moderator's `remove`
    (`phasma.moderation`). False when the row was not deleted.

    Events: `phasma.post.deleted` (with the comment ids the cascade removes), then one
    `phasma.hashtag.updated` per tag the post carried. The caller deletes the blobs of
    `post["filenames"]` after commit.
    """
    hashtag_ids = queries.hashtag_ids_of(executor, post["id"])
    comment_ids = queries.comment_ids_of(executor, post["id"])
    # Still matched on the owner, not only on the caller's check (docs/api.md §5.5).
    if not queries.delete_own_post(executor, public_id, post["user_id"]):
        return False
    queries.clear_avatars(executor, post["filenames"])
    # The author's row before the hashtag rows: the order post creation locks them in.
    queries.count_deleted_post(executor, post["user_id"])
    record_event(
        executor,
        event_type="phasma.post.deleted",
        source_function=SOURCE,
        subject=str(public_id),
        payload=PostDeleted(
            post_id=public_id,
            author_id=author_public_id,
            filename=post["filename"],
            filenames=post["filenames"],
            comment_ids=comment_ids,
        ),
    )
    updated = queries.remove_hashtags(executor, hashtag_ids)
    for row in sorted(updated, key=lambda row: row["name"]):
        _record_hashtag(executor, row["name"], row["post_count"])
    return True


def delete_post_blobs(runtime: Runtime, filenames: list[str]) -> None:
    """Best effort, after the deletion committed: the post is already gone, so a failure
    here is logged, never answered. An object left behind is unreachable (no post or
    avatar names it any more)."""
    # Imported here, as the runtime builds the store on first use: boto3 takes ~0.1 s
    # to import, a cold-start cost the post reads should not pay (docs/operations.md §5).
    from phasma.blobs import image_keys

    try:
        runtime.blob_store.delete_many(
            [key for filename in filenames for key in image_keys(filename)]
        )
    except Exception:
        log.warning("could not delete the blobs of %s", ", ".join(filenames), exc_info=True)


def _record_hashtag(executor: Executor, name: str, post_count: int) -> None:
    record_event(
        executor,
        event_type="phasma.hashtag.updated",
        source_function=SOURCE,
        subject=name,
        payload=HashtagUpdated(name=name, post_count=post_count),
    )
