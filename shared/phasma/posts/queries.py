"""SQL for posts: the Post shape, lists by keyset, and the writes of create, edit and delete."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TypedDict
from uuid import UUID

from phasma.config import Limits
from phasma.db.pool import Executor
from phasma.media_urls import token_for
from phasma.pagination import Page, PageRequest, after_cursor, build_page, cursor_params
from phasma.posts.models import Post, PostImage
from phasma.uploads.queries import UploadImage
from phasma.visibility import live, shows_posts

# Every Post read selects these from `posts p JOIN users u` (the author's current
# profile); `liked` and `bookmarked` are false for an anonymous viewer (a NULL id
# matches no row). Each is a scalar subquery, not EXISTS: a generic plan may turn
# EXISTS into a hashed subplan that reads every like of the viewer once per page
# (10 ms at 100,000 likes), where this stays one primary-key probe per listed post.
# `more_images` is an album's images after the first (which is on `posts`), as a JSON
# array in position order: one range read of `post_images`' primary key per post.
POST_COLUMNS = """
    p.id, p.public_id, p.filename, p.description, p.like_count, p.comment_count,
    p.created, p.width, p.height, p.blurhash, p.renditions, p.alt_text, p.edited,
    u.username, u.name, u.avatar, u.private AS author_private,
    (
        SELECT json_agg(json_build_object(
            'filename', i.filename, 'width', i.width, 'height', i.height,
            'blurhash', i.blurhash, 'alt_text', i.alt_text, 'renditions', i.renditions
        ) ORDER BY i.position)
        FROM post_images i WHERE i.post_id = p.id
    ) AS more_images,
    COALESCE((
        SELECT true FROM likes
        WHERE likes.post_id = p.id AND likes.user_id = CAST(:viewer_id AS bigint)
    ), false) AS liked,
    COALESCE((
        SELECT true FROM bookmarks
        WHERE bookmarks.user_id = CAST(:viewer_id AS bigint) AND bookmarks.post_id = p.id
    ), false) AS bookmarked
"""
# Only posts the viewer may see (`shows_posts`: live author, no block either way, public,
# own or followed): a post page answers 404 and a list leaves the post out otherwise.
POSTS_WITH_AUTHORS = f"posts p JOIN users u ON u.id = p.user_id AND {shows_posts('u')}"

_BY_AUTHOR = f"""
    SELECT {POST_COLUMNS} FROM {POSTS_WITH_AUTHORS}
    WHERE p.user_id = :author_id {{after}}
    ORDER BY p.created DESC, p.id DESC
    LIMIT :limit
"""
BY_AUTHOR_FIRST_PAGE = _BY_AUTHOR.format(after="")
BY_AUTHOR_NEXT_PAGE = _BY_AUTHOR.format(after=after_cursor("p.created", "p.id"))
BY_PUBLIC_ID = f"SELECT {POST_COLUMNS} FROM {POSTS_WITH_AUTHORS} WHERE p.public_id = :public_id"
POPULAR = f"""
    SELECT {POST_COLUMNS} FROM {POSTS_WITH_AUTHORS}
    WHERE p.created > now() - make_interval(days => :days) AND p.like_count >= 1
    ORDER BY p.like_count DESC, p.created DESC, p.id DESC
    LIMIT :limit
"""


class ImageRow(TypedDict):
    """One image of a post as POST_COLUMNS selects it (`more_images` lists these)."""

    filename: str
    width: int | None
    height: int | None
    blurhash: str | None
    alt_text: str | None
    renditions: list[int] | None


class PostRow(TypedDict):
    """A row selected with POST_COLUMNS."""

    id: int
    public_id: UUID
    filename: str
    description: str | None
    like_count: int
    comment_count: int
    created: datetime
    width: int | None
    height: int | None
    blurhash: str | None
    renditions: list[int] | None
    alt_text: str | None
    edited: datetime | None
    username: str
    name: str
    avatar: str | None
    author_private: bool
    more_images: list[ImageRow] | None
    liked: bool
    bookmarked: bool


def to_post(row: PostRow) -> Post:
    """The API shape of a row selected with POST_COLUMNS."""
    first = ImageRow(
        filename=row["filename"],
        width=row["width"],
        height=row["height"],
        blurhash=row["blurhash"],
        alt_text=row["alt_text"],
        renditions=row["renditions"],
    )
    images = [first, *(row["more_images"] or [])]
    # A private author's images are served only with a token (docs/security.md,
    # "Private media"); whoever reads this row may see the post, so they get them.
    tokens = [token_for(image["filename"]) if row["author_private"] else None for image in images]
    return Post(
        public_id=row["public_id"],
        username=row["username"],
        name=row["name"],
        avatar=row["avatar"],
        filename=row["filename"],
        description=row["description"],
        likes=row["like_count"],
        liked=row["liked"],
        bookmarked=row["bookmarked"],
        comments=row["comment_count"],
        created=row["created"],
        width=row["width"],
        height=row["height"],
        blurhash=row["blurhash"],
        renditions=row["renditions"] or [],
        alt_text=row["alt_text"],
        edited=row["edited"],
        images=[
            PostImage(
                filename=image["filename"],
                width=image["width"],
                height=image["height"],
                blurhash=image["blurhash"],
                alt_text=image["alt_text"],
                renditions=image["renditions"] or [],
                media_token=token,
            )
            for image, token in zip(images, tokens, strict=True)
        ],
        media_token=tokens[0],
    )


def post_page(rows: Sequence[PostRow], page: PageRequest, sort_time: str = "created") -> Page[Post]:
    """Posts of a list page; the cursor is `(<sort_time>, id)` of the last row."""
    trimmed = build_page(rows, page.limit, lambda row: (_sort_time(row, sort_time), row["id"]))
    return Page([to_post(row) for row in trimmed.items], trimmed.next_cursor)


def _sort_time(row: Mapping[str, object], column: str) -> datetime:
    """The row's `column`: `created`, or the time a list of likes, bookmarks or tagged
    posts selects beside POST_COLUMNS, which the row's shape does not name."""
    value = row[column]
    if not isinstance(value, datetime):
        raise TypeError(f"sort column {column!r} is not a timestamp")
    return value


def post_by_public_id(executor: Executor, public_id: UUID, viewer_id: int | None) -> Post | None:
    row = executor.fetch_one_as(PostRow, BY_PUBLIC_ID, public_id=public_id, viewer_id=viewer_id)
    return to_post(row) if row else None


def posts_by_author(
    executor: Executor, author_id: int, viewer_id: int | None, page: PageRequest
) -> Page[Post]:
    """One page of the author's posts, newest first."""
    sql = BY_AUTHOR_FIRST_PAGE if page.cursor is None else BY_AUTHOR_NEXT_PAGE
    rows = executor.fetch_all_as(
        PostRow, sql, author_id=author_id, viewer_id=viewer_id, **cursor_params(page)
    )
    return post_page(rows, page)


def popular_posts(executor: Executor, viewer_id: int | None) -> list[Post]:
    rows = executor.fetch_all_as(
        PostRow,
        POPULAR,
        viewer_id=viewer_id,
        days=Limits.POPULAR_WINDOW_DAYS,
        limit=Limits.POPULAR_POSTS_MAX,
    )
    return [to_post(row) for row in rows]


# -- writes ---------------------------------------------------------------


class NewPostAuthor(TypedDict):
    public_id: UUID
    username: str
    is_celebrity: bool


def count_new_post(executor: Executor, user_id: int) -> NewPostAuthor:
    """`post_count + 1` on the author; reads back what the event needs.

    Called first: locking the author's row before the upload row is the order a
    profile update (which may consume the same upload as an avatar) locks them in.
    """
    rows = executor.fetch_all_as(
        NewPostAuthor,
        """
        UPDATE users SET post_count = post_count + 1 WHERE id = :user_id
        RETURNING public_id, username, is_celebrity
        """,
        user_id=user_id,
    )
    return rows[0]


class NewPost(TypedDict):
    id: int
    public_id: UUID
    created: datetime


def insert_post(
    executor: Executor,
    user_id: int,
    filename: str,
    description: str | None,
    alt_text: str | None,
    image: UploadImage,
) -> NewPost:
    rows = executor.fetch_all_as(
        NewPost,
        """
        INSERT INTO posts (
            user_id, filename, description, alt_text, width, height, blurhash, renditions
        )
        VALUES (
            :user_id, :filename, :description, :alt_text, :width, :height, :blurhash,
            CAST(:renditions AS int[])
        )
        RETURNING id, public_id, created
        """,
        user_id=user_id,
        filename=filename,
        description=description,
        alt_text=alt_text,
        width=image["width"],
        height=image["height"],
        blurhash=image["blurhash"],
        renditions=image["renditions"],
    )
    return rows[0]


class AlbumImage(UploadImage):
    """An album image after the first: its upload's facts and its alt text."""

    filename: str
    alt_text: str | None


def insert_more_images(executor: Executor, post_id: int, images: list[AlbumImage]) -> None:
    """Store an album's images after the first, at positions 1, 2, ... in list order.

    Each item: `filename`, `alt_text` and the upload's `width`, `height`, `blurhash` and
    `renditions`. One statement: the list travels as JSON, its arrays become `int[]`.
    """
    if not images:
        return
    executor.execute(
        """
        INSERT INTO post_images (
            post_id, position, filename, width, height, blurhash, alt_text, renditions
        )
        SELECT :post_id, image.position, image.filename, image.width, image.height,
            image.blurhash, image.alt_text, image.renditions
        FROM jsonb_to_recordset(CAST(:images AS jsonb)) AS image (
            position smallint, filename varchar, width int, height int, blurhash varchar,
            alt_text varchar, renditions int[]
        )
        """,
        post_id=post_id,
        images=json.dumps(
            [{**image, "position": position} for position, image in enumerate(images, 1)]
        ),
    )


class HashtagCount(TypedDict):
    """A tag's new `post_count` after a post counted it up or down."""

    id: int
    name: str
    post_count: int


def add_hashtags(executor: Executor, post_id: int, names: list[str]) -> dict[str, int]:
    """Create or count up each tag and link it to the post; returns name -> new post count.

    Rows are upserted in name order, so two posts sharing tags lock them in the
    same order and never deadlock.
    """
    if not names:
        return {}
    rows = executor.fetch_all_as(
        HashtagCount,
        """
        INSERT INTO hashtags (name, post_count)
        SELECT name, 1 FROM unnest(CAST(:names AS varchar[])) AS name ORDER BY name
        ON CONFLICT (name) DO UPDATE SET post_count = hashtags.post_count + 1
        RETURNING id, name, post_count
        """,
        names=names,
    )
    link_hashtags(executor, post_id, [row["id"] for row in rows])
    return {row["name"]: row["post_count"] for row in rows}


def link_hashtags(executor: Executor, post_id: int, hashtag_ids: list[int]) -> None:
    """Link the post to the tags, each link stamped with the post's `created` (migration
    0018): a tag's posts are then one index range in the order its page and the feed read."""
    executor.execute(
        """
        INSERT INTO post_hashtags (post_id, hashtag_id, created)
        SELECT p.id, tag.id, p.created
        FROM posts p, unnest(CAST(:hashtag_ids AS bigint[])) AS tag(id)
        WHERE p.id = :post_id
        """,
        post_id=post_id,
        hashtag_ids=hashtag_ids,
    )


class EditablePost(TypedDict):
    id: int
    user_id: int
    description: str | None
    alt_text: str | None
    author_public_id: UUID
    hashtags: list[str]


def lock_post_for_edit(executor: Executor, public_id: UUID) -> EditablePost | None:
    """The post an edit changes: its texts, author's public id and hashtags, or None.

    `FOR NO KEY UPDATE`, the lock the edit's own UPDATE takes anyway, taken before any
    hashtag row: the order post deletion locks them in.
    """
    return executor.fetch_one_as(
        EditablePost,
        """
        SELECT p.id, p.user_id, p.description, p.alt_text, u.public_id AS author_public_id,
            ARRAY(
                SELECT h.name FROM post_hashtags ph JOIN hashtags h ON h.id = ph.hashtag_id
                WHERE ph.post_id = p.id
                ORDER BY h.name
            ) AS hashtags
        FROM posts p JOIN users u ON u.id = p.user_id
        WHERE p.public_id = :public_id
        FOR NO KEY UPDATE OF p
        """,
        public_id=public_id,
    )


class Edited(TypedDict):
    edited: datetime


def edit_post(
    executor: Executor, post_id: int, description: str | None, alt_text: str | None
) -> Edited | None:
    """Store the new texts and stamp `edited`; None (nothing written) when neither changed.

    `search_vector` is generated from the description, so PostgreSQL search follows at once.
    """
    return executor.fetch_one_as(
        Edited,
        """
        UPDATE posts SET description = :description, alt_text = :alt_text, edited = now()
        WHERE id = :post_id
            AND (description IS DISTINCT FROM :description OR alt_text IS DISTINCT FROM :alt_text)
        RETURNING edited
        """,
        post_id=post_id,
        description=description,
        alt_text=alt_text,
    )


def change_hashtags(
    executor: Executor, post_id: int, removed: list[str], added: list[str]
) -> list[HashtagCount]:
    """Count `removed` tags down (floor 0) and `added` ones up, relinking the post; returns
    each tag's name and new `post_count`, in name order.

    One upsert over both lists in name order, so an edit locks its tags in the order
    post creation and deletion do and never deadlocks with them. A removed tag is
    linked to the post, so its row exists and the insert branch never applies to it.
    """
    if not removed and not added:
        return []
    rows = executor.fetch_all_as(
        HashtagCount,
        """
        INSERT INTO hashtags (name, post_count)
        SELECT name, 1 FROM unnest(CAST(:names AS varchar[])) AS name ORDER BY name
        ON CONFLICT (name) DO UPDATE SET post_count = GREATEST(
            hashtags.post_count
            + CASE WHEN hashtags.name = ANY(CAST(:removed AS varchar[])) THEN -1 ELSE 1 END,
            0
        )
        RETURNING id, name, post_count
        """,
        names=removed + added,
        removed=removed,
    )
    ids = {row["name"]: row["id"] for row in rows}
    executor.execute(
        """
        DELETE FROM post_hashtags
        WHERE post_id = :post_id AND hashtag_id = ANY(CAST(:hashtag_ids AS bigint[]))
        """,
        post_id=post_id,
        hashtag_ids=[ids[name] for name in removed],
    )
    link_hashtags(executor, post_id, [ids[name] for name in added])
    return sorted(rows, key=lambda row: row["name"])


class ActivityPost(TypedDict):
    """The post a like or comment changes."""

    id: int
    user_id: int
    author_public_id: UUID


def lock_post_for_activity(executor: Executor, public_id: UUID) -> ActivityPost | None:
    """The post a like or comment changes, with its author's public id, or None.

    The lock a counter update needs, taken up front: the post cannot be deleted
    under us, and a post deletion (post row, then its cascades) never waits on a
    like or comment that in turn waits on the post row.
    """
    return executor.fetch_one_as(
        ActivityPost,
        f"""
        SELECT p.id, p.user_id, u.public_id AS author_public_id
        FROM posts p JOIN users u ON u.id = p.user_id AND {live("u")}
        WHERE p.public_id = :public_id
        FOR NO KEY UPDATE OF p
        """,
        public_id=public_id,
    )


def count_likes(executor: Executor, post_id: int, change: int) -> None:
    """Add `change` (+1 or -1) to the post's like counter, never below 0."""
    executor.execute(
        "UPDATE posts SET like_count = GREATEST(like_count + :change, 0) WHERE id = :post_id",
        change=change,
        post_id=post_id,
    )


def count_comments(executor: Executor, post_id: int, change: int) -> None:
    """Add `change` (+1 or -1) to the post's comment counter, never below 0."""
    executor.execute(
        "UPDATE posts SET comment_count = GREATEST(comment_count + :change, 0) WHERE id = :post_id",
        change=change,
        post_id=post_id,
    )


class LockedPost(TypedDict):
    id: int
    user_id: int
    filename: str
    filenames: list[str]


def lock_post(executor: Executor, public_id: UUID) -> LockedPost | None:
    """The post row, locked against concurrent likes, comments and deletes, with every
    image's filename in display order (`filenames`)."""
    return executor.fetch_one_as(
        LockedPost,
        """
        SELECT p.id, p.user_id, p.filename,
            array_prepend(p.filename, ARRAY(
                SELECT i.filename FROM post_images i WHERE i.post_id = p.id ORDER BY i.position
            )) AS filenames
        FROM posts p WHERE p.public_id = :public_id FOR UPDATE
        """,
        public_id=public_id,
    )


def hashtag_ids_of(executor: Executor, post_id: int) -> list[int]:
    rows = executor.fetch_all(
        "SELECT hashtag_id FROM post_hashtags WHERE post_id = :post_id", post_id=post_id
    )
    return [row["hashtag_id"] for row in rows]


def comment_ids_of(executor: Executor, post_id: int) -> list[UUID]:
    rows = executor.fetch_all(
        "SELECT public_id FROM comments WHERE post_id = :post_id ORDER BY created, id",
        post_id=post_id,
    )
    return [row["public_id"] for row in rows]


def delete_own_post(executor: Executor, public_id: UUID, user_id: int) -> int:
    """Delete the post (likes, comments, hashtag links and feed rows cascade); rows deleted."""
    return executor.execute(
        "DELETE FROM posts WHERE public_id = :public_id AND user_id = :user_id",
        public_id=public_id,
        user_id=user_id,
    )


def clear_avatars(executor: Executor, filenames: list[str]) -> None:
    executor.execute(
        "UPDATE users SET avatar = NULL WHERE avatar = ANY(CAST(:filenames AS varchar[]))",
        filenames=filenames,
    )


def count_deleted_post(executor: Executor, user_id: int) -> None:
    executor.execute(
        "UPDATE users SET post_count = GREATEST(post_count - 1, 0) WHERE id = :user_id",
        user_id=user_id,
    )


class HashtagName(TypedDict):
    name: str
    post_count: int


def remove_hashtags(executor: Executor, hashtag_ids: list[int]) -> list[HashtagName]:
    """Count each tag down (floor 0), locking in name order; returns name and new count."""
    if not hashtag_ids:
        return []
    return executor.fetch_all_as(
        HashtagName,
        """
        UPDATE hashtags SET post_count = GREATEST(hashtags.post_count - 1, 0)
        FROM (
            SELECT id FROM hashtags WHERE id = ANY(CAST(:hashtag_ids AS bigint[]))
            ORDER BY name FOR UPDATE
        ) AS locked
        WHERE hashtags.id = locked.id
        RETURNING hashtags.name, hashtags.post_count
        """,
        hashtag_ids=hashtag_ids,
    )


def image_filenames(executor: Executor, post_ids: list[int]) -> dict[int, list[str]]:
    """Every image file of each of the posts `post_ids`, in display order (each names its
    blobs via `image_keys`): the first on `posts`, an album's others in `post_images`.

    The one place that knows where a post's images are listed, for whoever deletes posts
    in bulk.
    """
    rows = executor.fetch_all(
        """
        SELECT id AS post_id, filename, -1 AS position FROM posts
        WHERE id = ANY(CAST(:post_ids AS bigint[]))
        UNION ALL
        SELECT post_id, filename, position FROM post_images
        WHERE post_id = ANY(CAST(:post_ids AS bigint[]))
        ORDER BY post_id, position
        """,
        post_ids=post_ids,
    )
    filenames: dict[int, list[str]] = {post_id: [] for post_id in post_ids}
    for row in rows:
        filenames[row["post_id"]].append(row["filename"])
    return filenames
