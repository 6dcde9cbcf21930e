"""Search on PostgreSQL (docs/domain.md §6.4): trigram and full-text matching, no extra server.

Every statement is a constant with bound parameters. LIKE patterns escape `\\`, `%`
and `_`; the full-text query is built from letters-and-digits words only, so no
user input is ever parsed as tsquery syntax. Orderings end in unique keys, so a
page boundary never splits ties differently between two requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from phasma.db.pool import Database, Executor
from phasma.search.backend import BlendedHits
from phasma.search.models import HashtagHit, PostHit, UserHit
from phasma.search.query import PostQuery, SearchType
from phasma.visibility import shows_posts, visible

# The one visibility rule (docs/api.md §D, §E), applied before any cut or offset so pages stay
# full: users the viewer may meet, posts the viewer may see.
VISIBLE = visible("users")
SHOWS_POSTS = shows_posts("users")

# Each way of matching is its own branch so each reads its own index (a single OR made
# the planner scan every row); the candidates are then ranked together.
_USERS = f"""
WITH candidates AS (
    SELECT id, username, name, avatar FROM users
    WHERE username LIKE :prefix ESCAPE '\\' AND {VISIBLE}
    UNION
    SELECT id, username, name, avatar FROM users
    WHERE name ILIKE :prefix ESCAPE '\\' AND {VISIBLE}
    UNION
    SELECT id, username, name, avatar FROM users WHERE username % :text AND {VISIBLE}
    UNION
    SELECT id, username, name, avatar FROM users WHERE name % :text AND {VISIBLE}
)
SELECT username, name, avatar
FROM candidates
ORDER BY username = :text DESC,
         (username LIKE :prefix ESCAPE '\\' OR name ILIKE :prefix ESCAPE '\\') DESC,
         greatest(similarity(username, :text), similarity(name, :text)) DESC,
         username COLLATE "C"
OFFSET :offset LIMIT :limit
"""

_HASHTAGS = """
WITH candidates AS (
    SELECT id, name, post_count FROM hashtags WHERE name LIKE :prefix ESCAPE '\\'
    UNION
    SELECT id, name, post_count FROM hashtags WHERE name % :text
)
SELECT name, post_count
FROM candidates
WHERE post_count > 0
ORDER BY name = :text DESC,
         name LIKE :prefix ESCAPE '\\' DESC,
         similarity(name, :text) DESC,
         post_count DESC,
         name COLLATE "C"
OFFSET :offset LIMIT :limit
"""

# Ranking every match of a common word would read most of the table, so a text query
# ranks a bounded candidate set: the newest 1,000 posts whose text matches plus the newest
# 1,000 by the 100 best-matching authors (an author-only match has no text rank and sorts
# after every text match). Paging therefore ends after at most 2,000 hits, as Meilisearch's
# own `maxTotalHits` (1,000) bounds it there. The planner sees the bound query terms, so
# a common word walks the newest posts and a rare one comes from the full-text index.
_POSTS_BY_TEXT = f"""
WITH text_matches AS (
    SELECT posts.id, posts.created, posts.search_vector
    FROM posts JOIN users ON users.id = posts.user_id
    WHERE posts.search_vector @@ to_tsquery('simple', :terms) AND {SHOWS_POSTS}
    ORDER BY posts.created DESC, posts.id DESC
    LIMIT 1000
),
authors AS (
    SELECT users.id
    FROM users
    WHERE (users.username LIKE :prefix ESCAPE '\\' OR users.username % :text) AND {SHOWS_POSTS}
    ORDER BY users.username = :text DESC,
             users.username LIKE :prefix ESCAPE '\\' DESC,
             similarity(users.username, :text) DESC,
             users.username COLLATE "C"
    LIMIT 100
),
author_matches AS (
    SELECT recent.id, recent.created, recent.search_vector
    FROM authors
    CROSS JOIN LATERAL (
        SELECT posts.id, posts.created, posts.search_vector
        FROM posts
        WHERE posts.user_id = authors.id
        ORDER BY posts.created DESC, posts.id DESC
        LIMIT 1000
    ) AS recent
    ORDER BY recent.created DESC, recent.id DESC
    LIMIT 1000
),
page AS (
    SELECT candidates.id, candidates.created,
           ts_rank(candidates.search_vector, to_tsquery('simple', :terms)) AS rank
    FROM (SELECT * FROM text_matches UNION SELECT * FROM author_matches) AS candidates
    ORDER BY rank DESC, candidates.created DESC, candidates.id DESC
    OFFSET :offset LIMIT :limit
)
SELECT posts.public_id, users.username, posts.description, posts.filename, posts.like_count
FROM page
JOIN posts ON posts.id = page.id
JOIN users ON users.id = posts.user_id
ORDER BY page.rank DESC, page.created DESC, page.id DESC
"""

_HASHTAG_ID = "SELECT id FROM hashtags WHERE name = :tag"

# Given the tag's id rather than its name, the planner knows how common the tag is: a
# popular one walks the newest posts, a rare one sorts its few links.
_POSTS_BY_TAG = f"""
SELECT posts.public_id, users.username, posts.description, posts.filename, posts.like_count
FROM post_hashtags
JOIN posts ON posts.id = post_hashtags.post_id
JOIN users ON users.id = posts.user_id AND {SHOWS_POSTS}
WHERE post_hashtags.hashtag_id = :hashtag_id
ORDER BY posts.created DESC, posts.id DESC
OFFSET :offset LIMIT :limit
"""


def like_prefix(text: str) -> str:
    """A LIKE pattern matching strings that start with `text` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def prefix_terms(words: tuple[str, ...]) -> str:
    """`w1 & w2 & w3:*`: every word, the last one as a prefix (it may still be typed)."""
    return " & ".join((*words[:-1], words[-1] + ":*")) if words else ""


def _post(row: dict[str, Any]) -> PostHit:
    return PostHit(
        id=row["public_id"],
        username=row["username"],
        description=row["description"] or "",
        filename=row["filename"],
        likes=row["like_count"],
    )


class PostgresSearch:
    """The PostgreSQL backend: every index is a ranked query over the live tables."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def users(self, text: str, offset: int, limit: int, viewer_id: int) -> list[UserHit]:
        return self._database.read(
            lambda executor: _users(executor, text, offset, limit, viewer_id)
        )

    def hashtags(self, text: str, offset: int, limit: int) -> list[HashtagHit]:
        return self._database.read(lambda executor: _hashtags(executor, text, offset, limit))

    def posts(self, query: PostQuery, offset: int, limit: int, viewer_id: int) -> list[PostHit]:
        return self._database.read(
            lambda executor: _posts(executor, query, offset, limit, viewer_id)
        )

    def blended(
        self,
        text: str,
        posts: PostQuery,
        slices: Mapping[SearchType, tuple[int, int]],
        viewer_id: int,
    ) -> BlendedHits:
        # One connection for the three statements: each takes a few milliseconds, less
        # than the cost of borrowing two more connections to run them side by side.
        def run(executor: Executor) -> BlendedHits:
            return BlendedHits(
                users=_users(executor, text, *slices["users"], viewer_id),
                posts=_posts(executor, posts, *slices["posts"], viewer_id),
                hashtags=_hashtags(executor, text, *slices["hashtags"]),
            )

        return self._database.read(run)


def _users(executor: Executor, text: str, offset: int, limit: int, viewer_id: int) -> list[UserHit]:
    if not text or limit < 1:
        return []
    rows = executor.fetch_all(
        _USERS,
        text=text,
        prefix=like_prefix(text),
        offset=offset,
        limit=limit,
        viewer_id=viewer_id,
    )
    return [
        UserHit(username=row["username"], name=row["name"], avatar=row["avatar"]) for row in rows
    ]


def _hashtags(executor: Executor, text: str, offset: int, limit: int) -> list[HashtagHit]:
    if not text or limit < 1:
        return []
    rows = executor.fetch_all(
        _HASHTAGS, text=text, prefix=like_prefix(text), offset=offset, limit=limit
    )
    return [HashtagHit(name=row["name"], post_count=row["post_count"]) for row in rows]


def _posts(
    executor: Executor, query: PostQuery, offset: int, limit: int, viewer_id: int
) -> list[PostHit]:
    if limit < 1:
        return []
    if query.tag is not None:
        hashtag_id = executor.fetch_value(_HASHTAG_ID, tag=query.tag)
        if hashtag_id is None:
            return []
        rows = executor.fetch_all(
            _POSTS_BY_TAG, hashtag_id=hashtag_id, offset=offset, limit=limit, viewer_id=viewer_id
        )
        return [_post(row) for row in rows]
    if not query.text:
        return []
    rows = executor.fetch_all(
        _POSTS_BY_TEXT,
        terms=prefix_terms(query.words),
        text=query.text,
        prefix=like_prefix(query.text),
        offset=offset,
        limit=limit,
        viewer_id=viewer_id,
    )
    return [_post(row) for row in rows]
