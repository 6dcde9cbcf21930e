"""SQL of the mailer: claiming an event's delivery, and the recipient a mail goes to."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict
from uuid import UUID

from phasma.db.pool import Executor
from phasma.visibility import live


class Recipient(TypedDict):
    """The live account a requested mail is for."""

    id: int
    name: str
    username: str
    email: str
    email_verified_at: datetime | None


def claim_delivery(executor: Executor, event_id: str) -> bool:
    """Claim `event_id` for this delivery; False when another one already claimed it.

    A concurrent claim of the same id waits on this one's row until it commits or
    rolls back, so of two redeliveries one sends.
    """
    return bool(
        executor.fetch_value(
            """
            INSERT INTO mail_deliveries (event_id) VALUES (:event_id)
            ON CONFLICT DO NOTHING RETURNING 1
            """,
            event_id=event_id,
        )
    )


def recipient(executor: Executor, public_id: UUID) -> Recipient | None:
    """The account `public_id` while it is live (not removed, not suspended), else None."""
    return executor.fetch_one_as(
        Recipient,
        f"""
        SELECT id, name, username, email, email_verified_at FROM users
        WHERE public_id = :public_id AND {live("users")}
        """,
        public_id=public_id,
    )
