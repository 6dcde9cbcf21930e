"""Block, unblock, mute and unmute: each idempotent, in one transaction.

A block ends the follows between the two accounts through the follows slice's own
`remove_follow`, so counters and `phasma.user.unfollowed` events are exactly an
unfollow's; blocks and mutes themselves emit no event: nothing downstream keeps state
about them, every read applies them when it runs (`users.queries.visible`,
`not_muted`).
"""

from __future__ import annotations

from phasma.blocks import queries
from phasma.db.pool import Database, Executor
from phasma.follows import queries as follows_queries
from phasma.follows.actions import remove_follow
from phasma.http.errors import BadRequest, NotFound
from phasma.sessions.queries import Viewer


def _other(executor: Executor, viewer: Viewer, username: str, verb: str) -> follows_queries.UserKey:
    target = follows_queries.user_key(executor, username)
    if target is None:
        raise NotFound()
    if target["id"] == viewer.user_id:
        raise BadRequest(f"you cannot {verb} yourself")
    return target


def block(database: Database, viewer: Viewer, username: str) -> None:
    """Block `username`: follows both ways end (each as an unfollow); blocking again is a no-op.

    No follow request is withdrawn here: this branch has no `follow_requests` table.
    """
    with database.transaction() as executor:
        target = _other(executor, viewer, username, "block")
        queries.lock_pair(executor, viewer.user_id, target["id"])
        if not queries.insert_block(executor, viewer.user_id, target["id"]):
            return
        me = follows_queries.UserKey(id=viewer.user_id, public_id=viewer.user_public_id)
        remove_follow(executor, me, target)
        remove_follow(executor, target, me)


def unblock(database: Database, viewer: Viewer, username: str) -> None:
    """Lift the viewer's block of `username` (the follows do not come back); none is a no-op."""
    with database.transaction() as executor:
        target = _other(executor, viewer, username, "unblock")
        queries.delete_block(executor, viewer.user_id, target["id"])


def mute(database: Database, viewer: Viewer, username: str) -> None:
    """Mute `username`; muting again is a no-op. Nothing else changes (api-2.md §D)."""
    with database.transaction() as executor:
        target = _other(executor, viewer, username, "mute")
        queries.insert_mute(executor, viewer.user_id, target["id"])


def unmute(database: Database, viewer: Viewer, username: str) -> None:
    """Lift the viewer's mute of `username`; none is a no-op."""
    with database.transaction() as executor:
        target = _other(executor, viewer, username, "unmute")
        queries.delete_mute(executor, viewer.user_id, target["id"])
