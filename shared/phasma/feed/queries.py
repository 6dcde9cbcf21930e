"""SQL of the feed: the hybrid read and the worker's writes (docs/domain.md §3.3, §3.2)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypedDict
from uuid import UUID

from phasma.config import Limits
from phasma.db.pool import Executor
from phasma.pagination import Page, PageRequest, after_cursor, cursor_params
from phasma.posts.models import Post
from phasma.posts.queries import POST_COLUMNS, PostRow, post_page
from phasma.visibility import not_muted, shows_posts

# -- the read -------------------------------------------------------------------------
#
# One statement: the viewer's materialised rows UNION ALL the live branch, each
# already cut to `limit` in (created DESC, id DESC) order, then merged and cut again;
# only the page's posts are then joined to their authors. The live branch reads, per
# author (the viewer and each followed celebrity), that author's recent posts from
# the (user_id, created DESC, id DESC) index, skipping any post already materialised
# for the viewer, so no post appears twice. `OFFSET 0` keeps that NOT EXISTS a probe
# of the feed's primary key per candidate: as an anti-join, the generic plan of the
# prepared statement (which assumes an average feed) reads the viewer's whole feed
# once per candidate instead (10 ms instead of 1 ms with 2,000 rows, growing with it).
#
# The tag branch (docs/api.md §F) is merged the same way rather than fanned out: per tag
# among the viewer's `:followed_tags` most recently followed, the tag's newest links
# from the (hashtag_id, created DESC, post_id DESC) index, `:limit` at most, so a tag on
# 100,000 posts costs what a tag on 10 does. A link's key is its post's (created, id)
# (migration 0018), so a tagged post is the same (post_id, created) pair in every
# branch: the outer `UNION` keeps each once, whichever branches (materialised, live,
# several tags) bring it, and each branch is already free of repeats (the tag branch's
# `DISTINCT`), so the first `:limit` distinct candidates are the page and its last one
# the cursor, as before. Unfollowing a tag takes its posts out of the next read.
#
# Visibility (docs/api.md §D, §E): every candidate is checked before its branch's cut, by
# primary-key probes of its post, author, blocks (both ways), the viewer's mutes and, for
# a private author, the follow; so a page is full whenever enough visible posts exist,
# and a thousand blocks or mutes cost what none do. The live branch checks each followed
# celebrity once, not each post; the viewer's own posts need no check.
_FEED = """
    SELECT {columns}
    FROM (
        SELECT candidates.post_id FROM (
            (
                SELECT f.post_id, f.created FROM feed f
                JOIN posts fp ON fp.id = f.post_id
                JOIN users fa ON fa.id = fp.user_id
                WHERE f.user_id = :viewer_id {after_materialised}
                  AND {rule_materialised}
                ORDER BY f.created DESC, f.post_id DESC
                LIMIT :limit
            )
            UNION ALL
            (
                SELECT live.id, live.created
                FROM (
                    SELECT CAST(:viewer_id AS bigint) AS author_id
                    UNION ALL
                    SELECT celebrity.id FROM users celebrity
                    WHERE celebrity.is_celebrity
                      AND EXISTS (
                          SELECT 1 FROM follows
                          WHERE follows.follower_id = :viewer_id
                            AND follows.followee_id = celebrity.id
                      )
                      AND {rule_celebrity}
                ) AS authors
                CROSS JOIN LATERAL (
                    SELECT candidate.id, candidate.created FROM posts candidate
                    WHERE candidate.user_id = authors.author_id
                      AND candidate.created > now() - make_interval(days => :live_days)
                      {after_live}
                      AND NOT EXISTS (
                          SELECT 1 FROM feed f
                          WHERE f.user_id = :viewer_id AND f.post_id = candidate.id
                          OFFSET 0
                      )
                    ORDER BY candidate.created DESC, candidate.id DESC
                    LIMIT :limit
                ) AS live
            )
            UNION
            (
                SELECT DISTINCT tagged.post_id, tagged.created
                FROM (
                    SELECT hf.hashtag_id FROM hashtag_follows hf
                    WHERE hf.user_id = :viewer_id
                    ORDER BY hf.created DESC, hf.hashtag_id DESC
                    LIMIT :followed_tags
                ) AS tags
                CROSS JOIN LATERAL (
                    SELECT ph.post_id, ph.created FROM post_hashtags ph
                    JOIN posts tp ON tp.id = ph.post_id
                    JOIN users ta ON ta.id = tp.user_id
                    WHERE ph.hashtag_id = tags.hashtag_id
                      AND ph.created > now() - make_interval(days => :live_days)
                      {after_tagged}
                      AND {rule_tagged}
                    ORDER BY ph.created DESC, ph.post_id DESC
                    LIMIT :limit
                ) AS tagged
                ORDER BY tagged.created DESC, tagged.post_id DESC
                LIMIT :limit
            )
        ) AS candidates
        ORDER BY candidates.created DESC, candidates.post_id DESC
        LIMIT :limit
    ) AS page
    JOIN posts p ON p.id = page.post_id
    JOIN users u ON u.id = p.user_id
    ORDER BY p.created DESC, p.id DESC
"""


def _shown_in_feed(author: str) -> str:
    """The feed's rule for an author's posts: the one visibility rule (live, no block
    either way, public or own or followed) and not muted by the viewer (docs/api.md §D)."""
    return f"{shows_posts(author)} AND {not_muted(author + '.id')}"


_RULES = {
    "rule_materialised": _shown_in_feed("fa"),
    "rule_celebrity": _shown_in_feed("celebrity"),
    "rule_tagged": _shown_in_feed("ta"),
}
FEED_FIRST_PAGE = _FEED.format(
    columns=POST_COLUMNS,
    after_materialised="",
    after_live="",
    after_tagged="",
    **_RULES,
)
FEED_NEXT_PAGE = _FEED.format(
    columns=POST_COLUMNS,
    after_materialised=after_cursor("f.created", "f.post_id"),
    after_live=after_cursor("candidate.created", "candidate.id"),
    after_tagged=after_cursor("ph.created", "ph.post_id"),
    **_RULES,
)


def feed_page(executor: Executor, viewer_id: int, page: PageRequest) -> Page[Post]:
    """One page of the viewer's feed, newest post first."""
    sql = FEED_FIRST_PAGE if page.cursor is None else FEED_NEXT_PAGE
    rows = executor.fetch_all_as(
        PostRow,
        sql,
        viewer_id=viewer_id,
        live_days=Limits.FEED_LIVE_WINDOW_DAYS,
        followed_tags=Limits.FEED_FOLLOWED_HASHTAGS_MERGED,
        **cursor_params(page),
    )
    return post_page(rows, page)


# -- the worker's writes ----------------------------------------------------------------
#
# Locks keep fan-out, backfill and prune from racing with the writes they depend on:
# - the post row is read FOR KEY SHARE, so a concurrent deletion either finished first
#   (the post is gone: nothing to do) or waits until the rows are in (then cascades);
# - the author's row is read FOR SHARE, which a follow or unfollow (each updates the
#   followee's counter) waits for: a follower who unfollows mid-fan-out is either not
#   in the fan-out's snapshot or is pruned after it committed, never left behind;
# - the backfill reads the follow row FOR KEY SHARE, so an unfollow's prune runs after it.

LOCK_POST = "SELECT id, user_id, created FROM posts WHERE public_id = :post_id FOR KEY SHARE"
LOCK_AUTHOR = "SELECT is_celebrity FROM users WHERE id = :user_id FOR SHARE"
INSERT_OWN_ROW = """
    INSERT INTO feed (user_id, post_id, created) VALUES (:user_id, :post_id, :created)
    ON CONFLICT DO NOTHING
"""
# One set-based statement per batch: the next `:batch_rows` followers in the order of
# the (followee_id, created DESC, follower_id DESC) index, strictly after the previous
# batch's last follower, plus the author's own row in the first batch. It returns the
# batch's last follower (the next batch's start) and its size.
FAN_OUT_BATCH = """
    WITH batch AS (
        SELECT follower_id, created FROM follows
        WHERE followee_id = :author_id
          AND (created, follower_id)
              < (CAST(:after_created AS timestamptz), CAST(:after_id AS bigint))
        ORDER BY created DESC, follower_id DESC
        LIMIT :batch_rows
    ), written AS (
        INSERT INTO feed (user_id, post_id, created)
        SELECT follower_id, CAST(:post_id AS bigint), CAST(:post_created AS timestamptz)
        FROM batch
        UNION ALL
        SELECT CAST(:author_id AS bigint), CAST(:post_id AS bigint),
               CAST(:post_created AS timestamptz)
        WHERE CAST(:with_author AS boolean)
        ON CONFLICT DO NOTHING
        RETURNING 1
    )
    SELECT last.created, last.follower_id,
           (SELECT count(*) FROM batch) AS batch_size,
           (SELECT count(*) FROM written) AS inserted
    FROM (SELECT 1) AS always
    LEFT JOIN LATERAL (
        SELECT created, follower_id FROM batch ORDER BY created, follower_id LIMIT 1
    ) AS last ON true
"""
LOCK_FOLLOW = """
    SELECT f.follower_id, f.followee_id, followee.is_celebrity
    FROM follows f
    JOIN users follower ON follower.id = f.follower_id
    JOIN users followee ON followee.id = f.followee_id
    WHERE follower.public_id = :actor_id AND followee.public_id = :recipient_id
    FOR KEY SHARE OF f
"""
# Posts are locked as they are read: one deleted meanwhile is skipped rather than
# failing the feed row's foreign key.
BACKFILL = """
    INSERT INTO feed (user_id, post_id, created)
    SELECT CAST(:follower_id AS bigint), recent.id, recent.created
    FROM (
        SELECT id, created FROM posts
        WHERE user_id = :followee_id
        ORDER BY created DESC, id DESC
        LIMIT :posts
        FOR KEY SHARE
    ) AS recent
    ON CONFLICT DO NOTHING
"""
PRUNE = """
    DELETE FROM feed f
    USING users follower, users followee, posts p
    WHERE follower.public_id = :actor_id AND followee.public_id = :recipient_id
      AND f.user_id = follower.id AND p.id = f.post_id AND p.user_id = followee.id
      AND NOT EXISTS (
          SELECT 1 FROM follows
          WHERE follows.follower_id = follower.id AND follows.followee_id = followee.id
      )
"""

# The first batch starts "after" a key no follow can reach.
_BEFORE_EVERY_FOLLOW = (datetime.max.replace(tzinfo=UTC), 2**63 - 1)


class FeedPost(TypedDict):
    id: int
    user_id: int
    created: datetime


class FeedFollow(TypedDict):
    follower_id: int
    followee_id: int
    is_celebrity: bool


def lock_post(executor: Executor, post_id: UUID) -> FeedPost | None:
    """The post's internal id, author and `created`, or None when it is gone."""
    return executor.fetch_one_as(FeedPost, LOCK_POST, post_id=post_id)


def lock_author(executor: Executor, user_id: int) -> bool:
    """The author's celebrity flag, holding off their follows and unfollows until commit."""
    return bool(executor.fetch_value(LOCK_AUTHOR, user_id=user_id))


def insert_own_row(executor: Executor, user_id: int, post_id: int, created: datetime) -> int:
    return executor.execute(INSERT_OWN_ROW, user_id=user_id, post_id=post_id, created=created)


def fan_out(executor: Executor, author_id: int, post_id: int, created: datetime) -> int:
    """Insert the post into the author's and every follower's feed; returns rows inserted."""
    after_created, after_id = _BEFORE_EVERY_FOLLOW
    with_author = True
    inserted: int = 0
    while True:
        batch_rows = Limits.FEED_FANOUT_BATCH_ROWS - (1 if with_author else 0)
        row = executor.fetch_one(
            FAN_OUT_BATCH,
            author_id=author_id,
            post_id=post_id,
            post_created=created,
            after_created=after_created,
            after_id=after_id,
            batch_rows=batch_rows,
            with_author=with_author,
        )
        assert row is not None  # the statement always returns its one row
        inserted += row["inserted"]
        if row["batch_size"] < batch_rows:
            return inserted
        after_created, after_id = row["created"], row["follower_id"]
        with_author = False


def lock_follow(executor: Executor, actor_id: UUID, recipient_id: UUID) -> FeedFollow | None:
    """The follow row (ids and the followee's celebrity flag), or None when it is gone."""
    return executor.fetch_one_as(
        FeedFollow, LOCK_FOLLOW, actor_id=actor_id, recipient_id=recipient_id
    )


def backfill(executor: Executor, follower_id: int, followee_id: int) -> int:
    """The followee's most recent posts into the follower's feed; returns rows inserted."""
    return executor.execute(
        BACKFILL,
        follower_id=follower_id,
        followee_id=followee_id,
        posts=Limits.FOLLOW_BACKFILL_POSTS,
    )


def prune(executor: Executor, actor_id: UUID, recipient_id: UUID) -> int:
    """Delete the followee's posts from the follower's feed unless they follow again."""
    return executor.execute(PRUNE, actor_id=actor_id, recipient_id=recipient_id)
