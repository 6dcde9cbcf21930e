"""One-shot Meilisearch provisioning (docs/domain.md §6.2): indexes, settings, scoped keys.

    MEILI_URL=… MEILI_MASTER_KEY=… python -m phasma.search.setup [--output env|secret|kubernetes]

Creates the `users`, `posts` and `hashtags` indexes with their primary keys when
missing, applies their settings (idempotent: the same body every time), then creates
two keys valid for one year on those indexes: `search` only for the search function,
`documents.add` + `documents.delete` for the indexer. Where the keys go:

- `env` (the default): printed as `MEILI_SEARCH_KEY=…` / `MEILI_INDEXER_KEY=…` lines;
- `secret`: printed as the `search-keys` Secret (JSON) for `kubectl apply -f -`;
- `kubernetes`: written into the `search-keys` Secret of the pod's own namespace
  through the Kubernetes API with the pod's service-account token (the setup-search
  Job). The Secret must already exist (`./taskw deploy` creates it from its template)
  and the account may only read and patch it, so this is checked before any key is
  created; nothing secret is printed, and the Secret's
  `phasma.dev/keys-created-at` annotation records when the keys were made.

Functions never see the master key; it is read here and nowhere else. Each run
creates new keys: rotation is rerun, roll both functions, delete the old keys.
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

from phasma.in_cluster import SecretWriter, read_service_account
from phasma.search.documents import INDEX_UIDS, INDEXES
from phasma.search.meilisearch_backend import connect

KEY_LIFETIME = timedelta(days=365)
TASK_TIMEOUT_MS = 60_000
# docs/domain.md §6.2: what each function's key may do, and nothing more.
KEY_ACTIONS: Mapping[str, tuple[str, ...]] = {
    "search": ("search",),
    "search-indexer": ("documents.add", "documents.delete"),
}
# The Secret `search-keys` (phasma.deploy.secrets.SEARCH_KEYS) and its key per function.
SECRET_NAME = "search-keys"
SECRET_KEY_OF = {"search": "search-api-key", "search-indexer": "search-indexer-key"}
VARIABLE_OF = {"search": "MEILI_SEARCH_KEY", "search-indexer": "MEILI_INDEXER_KEY"}
# When the keys now in the Secret were created: older keys in Meilisearch are stale.
CREATED_ANNOTATION = "phasma.dev/keys-created-at"
OUTPUTS = ("env", "secret", "kubernetes")


class SetupError(Exception):
    """Meilisearch refused a setup step."""


def key_requests(now: datetime) -> dict[str, dict[str, Any]]:
    """The body of each scoped key to create, by the function that will hold it."""
    return {
        function: {
            "description": f"phasma {function}: {', '.join(actions)}",
            "actions": list(actions),
            "indexes": list(INDEX_UIDS),
            "expiresAt": timestamp(now + KEY_LIFETIME),
        }
        for function, actions in KEY_ACTIONS.items()
    }


def timestamp(moment: datetime) -> str:
    """`2026-06-22T12:00:00Z`: UTC to the second, as Meilisearch and Kubernetes write it."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def secret_values(keys: Mapping[str, str]) -> dict[str, str]:
    """The created keys under their `search-keys` Secret key names."""
    return {SECRET_KEY_OF[function]: key for function, key in keys.items()}


def render(keys: Mapping[str, str], output: str) -> str:
    """The created keys as `VAR=value` lines, or as the `search-keys` Secret (JSON)."""
    if output == "env":
        return "".join(f"{VARIABLE_OF[function]}={key}\n" for function, key in keys.items())
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": SECRET_NAME, "namespace": "phasma"},
        "type": "Opaque",
        "stringData": secret_values(keys),
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
    parser.add_argument(
        "--output",
        choices=OUTPUTS,
        default="env",
        help="print env lines or the Secret, or write the Secret through the Kubernetes API",
    )
    options = parser.parse_args(arguments)
    url, master_key = environ.get("MEILI_URL", ""), environ.get("MEILI_MASTER_KEY", "")
    if not url or not master_key:
        print("search setup needs MEILI_URL and MEILI_MASTER_KEY", file=sys.stderr)
        return 2
    now = datetime.now(UTC)
    try:
        if options.output != "kubernetes":
            sys.stdout.write(render(provision(connect(url, master_key), now), options.output))
            return 0
        # Checked first: keys created for a Secret that cannot be written would be orphans.
        writer = SecretWriter(read_service_account(), SECRET_NAME)
        writer.check_access()
        keys = provision(connect(url, master_key), now)
        writer.write(secret_values(keys), {CREATED_ANNOTATION: timestamp(now)})
    except Exception as error:  # a Job's log should end in one line saying why
        print(f"search setup failed: {error}", file=sys.stderr)
        return 1
    written = ", ".join(secret_values(keys))
    print(f"search setup: wrote {written} to Secret {writer.account.namespace}/{SECRET_NAME}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
