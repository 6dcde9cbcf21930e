"""Which accounts readers see: one SQL condition, below every slice that reads users.

Session resolution (`phasma.auth.sessions`) applies it as well as every slice's reads,
so it lives here rather than in the `users` slice.
"""

from __future__ import annotations


def live(alias: str) -> str:
    """The one visibility rule for accounts, as a condition on `alias` (a `users` row).

    An account whose removal was requested (`DELETE /users/me`) is gone for every reader
    at once, though its rows are removed later, batch by batch (`phasma.removal`).
    Every read that shows a user or something of theirs joins or filters with this.
    """
    return f"{alias}.deleted_at IS NULL"
