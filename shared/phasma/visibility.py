"""Who may see whom: the one set of SQL conditions, below every slice that reads users.

Session resolution (`phasma.auth.sessions`) applies `live` as well as every slice's reads,
and the blocks, mutes and privacy of docs/api.md §D and §E are read by the feed, search,
posts, comments, likes, follows and notifications alike, so the rules live here rather
than in the `users` slice. Each is a condition to put in a WHERE clause; viewer-aware
ones read the statement's `:viewer_id` parameter (NULL: anonymous) unless given another
viewer expression. `phasma.audience` turns them into the statuses of an account's routes.
"""

from __future__ import annotations


def live(alias: str) -> str:
    """The rule for accounts that no reader sees, as a condition on `alias` (a `users` row).

    An account whose removal was requested (`DELETE /users/me`) is gone for every reader
    at once, though its rows are removed later, batch by batch (`phasma.removal`); a
    suspended account (docs/api.md §D) is hidden until a moderator reinstates it.
    Reads with no viewer (workers, the indexer, sessions) filter with this; reads on
    behalf of a viewer use `visible` or `shows_posts`, which include it.
    """
    return f"{alias}.deleted_at IS NULL AND {alias}.suspended_at IS NULL"


# The viewer of a read, as every viewer-aware query names it (NULL: anonymous).
VIEWER = "CAST(:viewer_id AS bigint)"

# Every check of the rule ends its subquery with `OFFSET 0`, which keeps it a correlated
# probe of one key per row checked. Without it the planner may pull a NOT EXISTS up
# into an anti-join that reads every block naming the viewer once per statement and
# compares it with each row (a viewer blocked by 100,000 accounts pays that on every
# read), or turn the follow check into a hashed subplan that scans `follows` (measured
# in `benchmarks/feed_blocks.py`, whose printed plans show each check as one probe).
_PROBE = "OFFSET 0"


def not_blocked_between(first: str, second: str) -> str:
    """No block in either direction between the accounts whose ids are `first` and `second`.

    Both are SQL expressions (a column, `VIEWER`, a cast parameter): two primary-key
    probes, so a viewer with a thousand blocks pays what one with none does.
    """
    return f"""NOT EXISTS (
            SELECT 1 FROM blocks
            WHERE blocks.blocker_id = {first} AND blocks.blocked_id = {second}
            {_PROBE})
        AND NOT EXISTS (
            SELECT 1 FROM blocks
            WHERE blocks.blocker_id = {second} AND blocks.blocked_id = {first}
            {_PROBE})"""


def visible(alias: str, viewer: str = VIEWER) -> str:
    """The one rule for whether the viewer may meet the account `alias` at all.

    Live, and no block between the two in either direction (docs/api.md §D): a block hides
    each account from the other everywhere. An anonymous viewer compares with NULL,
    which matches no block. `viewer` is the `VIEWER` parameter unless a statement has
    one per row (the notifications worker's recipients).
    """
    return f"""({live(alias)}
        AND {not_blocked_between(viewer, f"{alias}.id")})"""


def shows_posts(alias: str) -> str:
    """The one rule for whether the viewer may see the posts (and lists) of `alias`.

    `visible`, and the account is public, is the viewer's own, or the viewer follows it
    (docs/api.md §E): a pending follow request does not count.
    """
    return f"""({visible(alias)}
        AND (NOT {alias}.private
            OR {alias}.id = {VIEWER}
            OR EXISTS (
                SELECT 1 FROM follows
                WHERE follows.follower_id = {VIEWER} AND follows.followee_id = {alias}.id
                {_PROBE})))"""


def not_muted(author_column: str, viewer: str = VIEWER) -> str:
    """Mute (docs/api.md §D): the muter's feed and notifications leave out the muted account.

    Nothing else reads mutes, so the muted account cannot tell. `viewer` as in `visible`.
    """
    return f"""NOT EXISTS (
        SELECT 1 FROM mutes
        WHERE mutes.muter_id = {viewer} AND mutes.muted_id = {author_column}
        {_PROBE})"""
