"""One-shot Meilisearch provisioning (security.md §11): indexes, settings, scoped keys.

    MEILI_URL=… MEILI_MASTER_KEY=… python -m phasma.search.setup [--output env|secret]

Creates the `users`, `posts` and `hashtags` indexes with their primary keys when
missing, applies their settings (idempotent: the same body every time), then creates
two keys valid for one year on those indexes: `search` only for the search function,
`documents.add` + `documents.delete` for the indexer. It prints them as environment
lines (`env`, the default) or as the `search-keys` Secret for `kubectl apply -f -`
(`secret`). Functions never see the master key; it is read here and nowhere else.
Each run creates new keys: rotation is rerun, roll both functions, delete the old keys.
Nothing here runs on a function's cold start.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import meilisearch

from phasma.search.documents import INDEX_UIDS, INDEXES
from phasma.search.meilisearch_backend import connect

KEY_LIFETIME = timedelta(days=365)
TASK_TIMEOUT_MS = 60_000
# security.md §11: what each function's key may do, and nothing more.
KEY_ACTIONS: Mapping[str, tuple[str, ...]] = {
    "search": ("search",),
    "search-indexer": ("documents.add", "documents.delete"),
}
# The Secret `search-keys` (phasma.deploy.secrets.SEARCH_KEYS) and its key per function.
SECRET_NAME = "search-keys"
SECRET_KEY_OF = {"search": "search-api-key", "search-indexer": "search-indexer-key"}
VARIABLE_OF = {"search": "MEILI_SEARCH_KEY", "search-indexer": "MEILI_INDEXER_KEY"}


class SetupError(Exception):
    """Meilisearch refused a setup step."""


def key_requests(now: datetime) -> dict[str, dict[str, Any]]:
    """The body of each scoped key to create, by the function that will hold it."""
    expires = (now.astimezone(UTC) + KEY_LIFETIME).replace(microsecond=0)
    return {
        function: {
            "description": f"phasma {function}: {', '.join(actions)}",
            "actions": list(actions),
            "indexes": list(INDEX_UIDS),
            "expiresAt": expires.isoformat().replace("+00:00", "Z"),
        }
        for function, actions in KEY_ACTIONS.items()
    }


def render(keys: Mapping[str, str], output: str) -> str:
    """The created keys as `VAR=value` lines, or as the `search-keys` Secret (JSON)."""
    if output == "env":
        return "".join(f"{VARIABLE_OF[function]}={key}\n" for function, key in keys.items())
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": SECRET_NAME, "namespace": "phasma"},
        "type": "Opaque",
        "stringData": {SECRET_KEY_OF[function]: key for function, key in keys.items()},
    }
    return json.dumps(secret, indent=2) + "\n"


def _wait(client: meilisearch.Client, task_uid: int, tolerated: str | None = None) -> None:
    task = client.wait_for_task(task_uid, timeout_in_ms=TASK_TIMEOUT_MS)
    if task.status == "succeeded":
        return
    code = (task.error or {}).get("code")
    if code is not None and code == tolerated:
        return
    raise SetupError(f"task {task_uid} ({task.type}) {task.status}: {task.error}")


def provision(client: meilisearch.Client, now: datetime) -> dict[str, str]:
    """Create missing indexes, apply every setting, create the two keys; returns the keys."""
    for index in INDEXES:
        created = client.create_index(index.uid, {"primaryKey": index.primary_key})
        _wait(client, created.task_uid, tolerated="index_already_exists")
        updated = client.index(index.uid).update_settings(index.settings())
        _wait(client, updated.task_uid)
    return {function: client.create_key(body).key for function, body in key_requests(now).items()}


def main(arguments: Sequence[str] | None = None, environ: Mapping[str, str] = os.environ) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m phasma.search.setup",
        description="Create the Meilisearch indexes, apply their settings, create scoped keys.",
    )
    parser.add_argument("--output", choices=("env", "secret"), default="env")
    options = parser.parse_args(arguments)
    url, master_key = environ.get("MEILI_URL", ""), environ.get("MEILI_MASTER_KEY", "")
    if not url or not master_key:
        print("search setup needs MEILI_URL and MEILI_MASTER_KEY", file=sys.stderr)
        return 2
    try:
        keys = provision(connect(url, master_key), datetime.now(UTC))
    except Exception as error:  # a Job's log should end in one line saying why
        print(f"search setup failed: {error}", file=sys.stderr)
        return 1
    sys.stdout.write(render(keys, options.output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
