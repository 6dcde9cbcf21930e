"""SQL for the media route: whether an image is a private account's."""

from __future__ import annotations

from phasma.db.pool import Executor

# The owner of a post image (the first image is on `posts`, the rest in `post_images`;
# both unique on `filename`), when the owner is private and the image is nobody's
# avatar: a private account's profile header, avatar included, is public (docs/api.md §E),
# even when the avatar was picked from one of its posts. Pending uploads, avatars and
# public accounts' images are not restricted.
_PRIVATE_OWNER = """
    SELECT owner.id FROM (
        SELECT p.user_id AS id FROM posts p WHERE p.filename = :filename
        UNION ALL
        SELECT p.user_id FROM post_images i JOIN posts p ON p.id = i.post_id
        WHERE i.filename = :filename
    ) AS owner
    JOIN users u ON u.id = owner.id AND u.private
    WHERE NOT EXISTS (SELECT 1 FROM users a WHERE a.avatar = :filename)
    LIMIT 1
"""


def private_owner(executor: Executor, filename: str) -> int | None:
    """The private account whose post shows `filename`, if the image is restricted."""
    owner: int | None = executor.fetch_value(_PRIVATE_OWNER, filename=filename)
    return owner
