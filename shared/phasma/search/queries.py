"""SQL of search: recent searches (docs/domain.md §2.8), the PostgreSQL engine's ranked
reads (docs/domain.md §6.4: trigram and full-text matching, no extra server), and the
like counts the Meilisearch engine's hits show.

Every statement is a constant with bound parameters. LIKE patterns escape `\\`, `%`
and `_`; the full-text query is built from letters-and-digits words only, so no
user input is ever parsed as tsquery syntax. Orderings end in unique keys, so a
page boundary never splits ties differently between two requests.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict
from uuid import UUID

from phasma.config import Limits
from phasma.db.pool import Executor
from phasma.search.models import HashtagHit, PostHit, UserHit
from phasma.search.query import PostQuery
from phasma.visibility import shows_posts, visible

# Users and hashtags are resolved from their current rows at read time; the caller
# drops entries whose row is gone (a renamed or deleted user, a never-created tag) or
# that the viewer may no longer meet (a block either way: `visible`).
_LIST = f"""
SELECT recent_searches.public_id, recent_searches.entity_type, recent_searches.reference,
       users.username, users.name, users.avatar,
       hashtags.name AS hashtag_name, hashtags.post_count
FROM recent_searches
LEFT JOIN users
       ON recent_searches.entity_type = 'users' AND users.username = recent_searches.reference
      AND {visible("users")}
LEFT JOIN hashtags
       ON recent_searches.entity_type = 'hashtags' AND hashtags.name = recent_searches.reference
WHERE recent_searches.user_id = :user_id
ORDER BY recent_searches.created DESC, recent_searches.id DESC
LIMIT :limit
"""


class RecentRow(TypedDict):
    """A recent search and the row it refers to: the user's or the tag's columns are
    None when it refers to the other kind, or to one that is gone."""

    public_id: UUID
    entity_type: Literal["users", "hashtags", "posts"]
    reference: str
    username: str | None
    name: str | None
    avatar: str | None
    hashtag_name: str | None
    post_count: int | None


def recent_searches(executor: Executor, user_id: int) -> list[RecentRow]:
    """The user's newest entries with the rows they refer to (NULL columns when gone)."""
    return executor.fetch_all_as(
        RecentRow, _LIST, user_id=user_id, viewer_id=user_id, limit=Limits.RECENT_SEARCHES_MAX
    )


def record(executor: Executor, user_id: int, entity_type: str, reference: str) -> None:
    """Insert or bump the entry, then keep the newest 10 (call inside a transaction).

    The user row lock serialises concurrent recordings of one user, so two of them can
    never both see room for one more entry.
    """
    executor.execute("SELECT 1 FROM users WHERE id = :user_id FOR UPDATE", user_id=user_id)
    executor.execute(
        """
        INSERT INTO recent_searches (user_id, entity_type, reference)
        VALUES (:user_id, :entity_type, :reference)
        ON CONFLICT (user_id, entity_type, reference) DO UPDATE SET created = now()
        """,
        user_id=user_id,
        entity_type=entity_type,
        reference=reference,
    )
    executor.execute(
        """
        DELETE FROM recent_searches
        WHERE user_id = :user_id AND id NOT IN (
            SELECT id FROM recent_searches
            WHERE user_id = :user_id
            ORDER BY created DESC, id DESC
            LIMIT :keep
        )
        """,
        user_id=user_id,
        keep=Limits.RECENT_SEARCHES_MAX,
    )


def delete_one(executor: Executor, user_id: int, public_id: UUID) -> bool:
    """Delete one of the user's entries; False when it is not theirs or does not exist."""
    return bool(
        executor.execute(
            "DELETE FROM recent_searches WHERE public_id = :public_id AND user_id = :user_id",
            public_id=public_id,
            user_id=user_id,
        )
    )


def delete_all(executor: Executor, user_id: int) -> None:
    executor.execute("DELETE FROM recent_searches WHERE user_id = :user_id", user_id=user_id)


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


def user_hits(
    executor: Executor, text: str, offset: int, limit: int, viewer_id: int
) -> list[UserHit]:
    """Users matching `text` that the viewer may meet, best first: the slice
    `offset`..`offset + limit` of the ranking."""
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


def hashtag_hits(executor: Executor, text: str, offset: int, limit: int) -> list[HashtagHit]:
    """Hashtags with posts matching `text`, best first (no viewer: a tag is public)."""
    if not text or limit < 1:
        return []
    rows = executor.fetch_all(
        _HASHTAGS, text=text, prefix=like_prefix(text), offset=offset, limit=limit
    )
    return [HashtagHit(name=row["name"], post_count=row["post_count"]) for row in rows]


def post_hits(
    executor: Executor, query: PostQuery, offset: int, limit: int, viewer_id: int
) -> list[PostHit]:
    """Posts the viewer may see: a tag's newest first, else ranked by `query`'s text."""
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


_LIKES = """
SELECT public_id, like_count FROM posts WHERE public_id = ANY(CAST(:ids AS uuid[]))
"""


def like_counts(executor: Executor, post_ids: list[str]) -> dict[str, int]:
    """The current like counts of the posts `post_ids` (as strings), by that id."""
    rows = executor.fetch_all(_LIKES, ids=post_ids)
    return {str(row["public_id"]): row["like_count"] for row in rows}
