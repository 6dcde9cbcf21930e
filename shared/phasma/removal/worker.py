"""The `account-remover` event function: removes an account after `DELETE /users/me`.

The batches and their order are the slice's actions (`actions.py`); a delivery runs
them until the account is gone or the time budget is spent, and the janitor's
`account-removals` sweep finishes what is left.
"""

from __future__ import annotations

from phasma.events.catalogue import UserDeleted
from phasma.events.worker import Outcome, ReceivedEvent, Skip
from phasma.removal import actions
from phasma.runtime import Runtime


def handle(event: ReceivedEvent, runtime: Runtime) -> Outcome:
    """`phasma.user.deleted`: remove the account; every other type is skipped."""
    if event.type != "phasma.user.deleted":
        raise Skip(f"{event.type} is not for the account-remover")
    actions.remove_account(runtime, event.payload(UserDeleted).user_id)
    return "applied"
