"""The janitor's tasks (docs/domain.md §2.9, docs/operations.md §2.3), run by its PingSource.

`{"task": "all"}` runs every task in turn; `{"task": "<name>"}` runs one. Each batch
is one transaction that first takes the task's advisory lock: a run overlapping
another skips the task rather than racing it. Batches repeat until nothing is left
or the time budget (well inside the function's 300 s timeout) is spent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from phasma.blobs import image_keys
from phasma.config import Limits
from phasma.db.pool import Executor
from phasma.events.worker import Outcome, ReceivedEvent, Skip
from phasma.exports import queries as export_queries
from phasma.janitor import queries
from phasma.removal import actions as removal
from phasma.removal import queries as removal_queries
from phasma.runtime import Runtime
from phasma.topics import TOPICS

log = logging.getLogger(__name__)

BATCH_SIZE = 500
TIME_BUDGET_SECONDS = 240.0
ALL_TASKS = "all"


@dataclass(frozen=True)
class TaskResult:
    """Rows a task removed or corrected, or that it skipped because another run holds it."""

    task: str
    changed: int
    skipped: bool = False


# One batch: (the work done, whether more may remain).
Batch = Callable[[Executor, Runtime], tuple[int, bool]]


def _run_batches(task: str, runtime: Runtime, batch: Batch, deadline: float) -> TaskResult:
    changed = 0
    while True:
        with runtime.db.transaction() as executor:
            if not queries.try_lock(executor, task):
                log.info("janitor: %s skipped, another run holds it", task)
                return TaskResult(task, changed, skipped=True)
            done, more = batch(executor, runtime)
        changed += done
        if not more or time.monotonic() >= deadline:
            return TaskResult(task, changed)


def _expired_sessions(executor: Executor, runtime: Runtime) -> tuple[int, bool]:
    ttl_hours = runtime.settings.session_absolute_ttl_hours
    deleted = queries.delete_invalid_sessions(executor, ttl_hours, BATCH_SIZE)
    return deleted, deleted == BATCH_SIZE


def _outbox_retention(executor: Executor, runtime: Runtime) -> tuple[int, bool]:
    days = runtime.settings.outbox_retention_days
    deleted = queries.delete_old_published_events(executor, days, BATCH_SIZE)
    return deleted, deleted == BATCH_SIZE


def _ended_mail_tokens(executor: Executor, runtime: Runtime) -> tuple[int, bool]:
    keep = Limits.MAIL_TOKEN_KEEP_AFTER_END_SECONDS
    deleted = queries.delete_ended_mail_tokens(executor, keep, BATCH_SIZE)
    return deleted, deleted == BATCH_SIZE


def mail_delivery_retention_days(runtime: Runtime) -> int:
    """How long a mail delivery record must outlive its send (operations.md, SMTP).

    The record is what keeps a redelivered event from mailing twice, so it must last
    as long as the event can come back: from its topic or the dead-letter topic (an
    operator replays dead letters) while the broker retains them, or from its outbox
    row while the janitor keeps that. Whichever is longest.
    """
    # Topic retention (phasma.topics), set by `setup topics`: how long the broker can
    # still hand a record (back) to a consumer.
    return max(runtime.settings.outbox_retention_days, *(t.retention_days for t in TOPICS))


def _mail_deliveries(executor: Executor, runtime: Runtime) -> tuple[int, bool]:
    days = mail_delivery_retention_days(runtime)
    deleted = queries.delete_old_mail_deliveries(executor, days, BATCH_SIZE)
    return deleted, deleted == BATCH_SIZE


def _expired_uploads(executor: Executor, runtime: Runtime) -> tuple[int, bool]:
    """Blobs first, then rows: a blob-store failure rolls back and keeps the rows for later.

    Deleting a missing key succeeds, so a blob that is already gone counts as deleted.
    """
    filenames = queries.lock_expired_uploads(executor, BATCH_SIZE)
    if not filenames:
        return 0, False
    keys = [key for filename in filenames for key in image_keys(filename)]
    runtime.blob_store.delete_many(keys)
    deleted = queries.delete_uploads(executor, filenames)
    return deleted, len(filenames) == BATCH_SIZE


def _expired_exports(executor: Executor, runtime: Runtime) -> tuple[int, bool]:
    """Exports past their 24 h (docs/api.md §C): objects first, then rows, as for uploads.

    A failed or stuck pending export may still have an object (a crash after the
    upload completed), so every removed row's key is deleted.
    """
    rows = export_queries.lock_expired(executor, BATCH_SIZE)
    if not rows:
        return 0, False
    runtime.blob_store.delete_many(export_queries.object_key(row["public_id"]) for row in rows)
    deleted = export_queries.delete_exports(executor, [row["id"] for row in rows])
    return deleted, len(rows) == BATCH_SIZE


class _FollowerCounts:
    """Walks every user in id order, one batch per transaction, remembering where it is."""

    def __init__(self) -> None:
        self.after_id = 0

    def __call__(self, executor: Executor, runtime: Runtime) -> tuple[int, bool]:
        last_id, corrected = queries.reconcile_follower_counts(executor, self.after_id, BATCH_SIZE)
        self.after_id = last_id
        return corrected, last_id != 0


def _account_removals(executor: Executor, runtime: Runtime) -> tuple[int, bool]:
    """One batch of the oldest account removal the event path left unfinished (a crash,
    a lost event): the remover's own next batch (`removal.actions.run_batch`), so both
    paths converge."""
    account = removal_queries.lock_unfinished_account(executor)
    if account is None:
        return 0, False
    removal.run_batch(executor, runtime.blob_store, account)
    return 1, True


TASKS: dict[str, Callable[[], Batch]] = {
    "expired-sessions": lambda: _expired_sessions,
    "outbox-retention": lambda: _outbox_retention,
    "expired-uploads": lambda: _expired_uploads,
    "expired-exports": lambda: _expired_exports,
    "mail-tokens": lambda: _ended_mail_tokens,
    "mail-deliveries": lambda: _mail_deliveries,
    "follower-counts": _FollowerCounts,
    "account-removals": lambda: _account_removals,
}


def run(runtime: Runtime, task: str) -> list[TaskResult]:
    """Run `task` (or every task for "all"); one result per task run."""
    names = list(TASKS) if task == ALL_TASKS else [task]
    deadline = time.monotonic() + TIME_BUDGET_SECONDS
    results = []
    for name in names:
        result = _run_batches(name, runtime, TASKS[name](), deadline)
        log.info(
            "janitor: %s changed %d rows%s",
            name,
            result.changed,
            " (skipped)" if result.skipped else "",
        )
        results.append(result)
    return results


def handle(event: ReceivedEvent, runtime: Runtime) -> Outcome:
    """The PingSource's `{"task": "all" | <task name>}`."""
    task = event.data.get("task")
    if task != ALL_TASKS and task not in TASKS:
        raise Skip(f"unknown janitor task {task!r}")
    run(runtime, str(task))
    return "applied"
