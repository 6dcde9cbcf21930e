"""The rollout Jobs of docs/operations.md §4, from migrate to search-reindex.

A Job's pod template is immutable, so each name ends in a checksum of what the Job
does: an unchanged Job re-applies as a no-op, a changed one (new migrations, new image)
is a new Job that runs once. Finished Jobs are deleted after a day, except the two
search Jobs: setup-search creates new keys on every run and search-reindex reads the
whole database, so they are kept and re-applying them stays a no-op until their
template changes or the operator deletes them to run them again.

Only setup-search gets a service-account token: it writes the keys it creates into
`search-keys`, and its Role allows exactly that one Secret (`setup_search_access`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from phasma.deploy import secrets
from phasma.deploy.environment import (
    DATABASE_CA_VOLUME,
    OWNER_DATABASE_USER,
    POSTGRES_HOST,
    POSTGRES_PORT,
    database_ca_mount,
    database_ca_volume,
    database_url,
    object_store_environment,
    pooled_database_environment,
    scoped_search_environment,
)
from phasma.deploy.functions import FUNCTION_USER_ID
from phasma.deploy.kubernetes import (
    DATABASE_OWNER,
    NAMESPACE,
    ROLE,
    SECRETS_CHECKSUM,
    USES_BROKER,
    USES_DATABASE,
    USES_KUBERNETES_API,
    USES_SEARCH,
    USES_STORAGE,
    Manifest,
    config_env,
    digest,
    labels,
    literal_env,
    metadata,
    resources,
    restricted_security_context,
    scratch_volume,
    secret_env,
    secrets_checksum,
)

ONE_DAY_SECONDS = 86_400
DEADLINE_SECONDS = 300
# A backfill reads every user, post and hashtag: a large database outlasts five minutes.
REINDEX_DEADLINE_SECONDS = 3600
BACKOFF_LIMIT = 3
SETUP_SEARCH = "setup-search"
# On the Job and on its pods: Kubernetes copies no Job label to the pods it starts,
# and `kubectl logs -l` selects pods.
FAMILY_LABEL = "phasma.dev/job"


def service_account_name(job: str) -> str:
    """The ServiceAccount of the Job family `job` (stable across checksummed names)."""
    return f"job-{job}"


def container(
    name: str,
    image: str,
    command: list[str],
    env: list[dict[str, Any]],
    *,
    database: bool = False,
) -> dict[str, Any]:
    """A Job container running the project image with the restricted context.

    `database` mounts the CA its DSN verifies the server with.
    """
    return {
        "name": name,
        "image": image,
        "command": command,
        "env": env,
        "resources": resources("100m", "128Mi", "256Mi", "500m"),
        "securityContext": restricted_security_context(FUNCTION_USER_ID),
        "volumeMounts": [
            {"name": "tmp", "mountPath": "/tmp"},
            *([database_ca_mount()] if database else []),
        ],
    }


def job(
    family: str,
    pod_spec_parts: dict[str, Any],
    network_labels: dict[str, str],
    extra_inputs: Any = None,
    *,
    api_token: bool = False,
    keep_finished: bool = False,
    deadline_seconds: int = DEADLINE_SECONDS,
) -> Manifest:
    """A Job named `<family>-<checksum>` from its containers and network labels.

    `api_token` mounts the ServiceAccount's token (setup-search only); `keep_finished`
    leaves out the one-day TTL so that re-applying the Job never runs it again.
    """
    containers = [*pod_spec_parts.get("initContainers", []), *pod_spec_parts["containers"]]
    mounted = {mount["name"] for part in containers for mount in part["volumeMounts"]}
    pod_spec: dict[str, Any] = {
        "serviceAccountName": service_account_name(family),
        "automountServiceAccountToken": api_token,
        "enableServiceLinks": False,
        "restartPolicy": "Never",
        **pod_spec_parts,
        "volumes": [
            scratch_volume("tmp"),
            *([database_ca_volume()] if DATABASE_CA_VOLUME in mounted else []),
        ],
    }
    template = {
        "metadata": {
            "labels": labels(family, "job", {ROLE: "job", FAMILY_LABEL: family, **network_labels}),
            "annotations": {SECRETS_CHECKSUM: secrets_checksum(pod_spec)},
        },
        "spec": pod_spec,
    }
    name = f"{family}-{digest({'template': template, 'inputs': extra_inputs}, 10)}"
    job_metadata = metadata(name, "job", extra_labels={FAMILY_LABEL: family})
    job_metadata["labels"]["app.kubernetes.io/name"] = family
    spec: dict[str, Any] = {
        "backoffLimit": BACKOFF_LIMIT,
        "activeDeadlineSeconds": deadline_seconds,
    }
    if not keep_finished:
        spec["ttlSecondsAfterFinished"] = ONE_DAY_SECONDS
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": job_metadata,
        "spec": {**spec, "template": template},
    }


def migrations_checksum(directory: Path) -> str:
    """Checksum of every file name and byte under `migrations/`."""
    files = sorted(path for path in directory.iterdir() if path.is_file())
    return digest([[path.name, hashlib.sha256(path.read_bytes()).hexdigest()] for path in files])


def owner_environment() -> list[dict[str, Any]]:
    """The owner's direct DSN (not through the pooler: migrations hold a session lock)."""
    return [
        secret_env("DATABASE_PASSWORD", secrets.DATABASE.name, "database-password"),
        literal_env(
            "MIGRATION_DATABASE_URL",
            database_url(OWNER_DATABASE_USER, "DATABASE_PASSWORD", POSTGRES_HOST, POSTGRES_PORT),
        ),
    ]


def migrate_job(image: str, migrations_directory: Path) -> Manifest:
    """Apply pending migrations as the owner, then (re-)password the login users."""
    migrate = container(
        "migrate",
        image,
        ["python", "-m", "phasma.db.migrations", "migrate"],
        owner_environment(),
        database=True,
    )
    logins = container(
        "database-logins",
        image,
        ["python", "-m", "phasma.deploy.setup", "database-logins"],
        [
            *owner_environment(),
            secret_env("APP_DB_PASSWORD", secrets.APP_DATABASE.name, "app-db-password"),
            secret_env("INDEXER_DB_PASSWORD", secrets.INDEXER_DATABASE.name, "indexer-db-password"),
        ],
        database=True,
    )
    # Init containers run to completion in order: logins need the roles migrations create.
    return job(
        "migrate",
        {"initContainers": [migrate], "containers": [logins]},
        {DATABASE_OWNER: "true"},
        extra_inputs=migrations_checksum(migrations_directory),
    )


def setup_broker_job(image: str) -> Manifest:
    """Create the topics of docs/operations.md §2.1 (idempotent)."""
    command = ["python", "-m", "phasma.deploy.setup", "topics"]
    topics = container("setup-broker", image, command, [config_env("KAFKA_BROKERS")])
    return job("setup-broker", {"containers": [topics]}, {USES_BROKER: "true"})


def setup_storage_job(image: str) -> Manifest:
    """Create the bucket (idempotent)."""
    command = ["python", "-m", "phasma.deploy.setup", "bucket"]
    bucket = container("setup-storage", image, command, object_store_environment())
    return job("setup-storage", {"containers": [bucket]}, {USES_STORAGE: "true"})


def setup_search_job(image: str) -> Manifest:
    """Index settings and scoped keys (docs/domain.md §6.2), written into `search-keys`.

    The only workload given the master key, and the only pod with an API token.
    """
    command = ["python", "-m", "phasma.search.setup", "--output", "kubernetes"]
    environment = [
        config_env("MEILI_URL"),
        secret_env("MEILI_MASTER_KEY", secrets.SEARCH_MASTER.name, "search-master-key"),
    ]
    return job(
        SETUP_SEARCH,
        {"containers": [container(SETUP_SEARCH, image, command, environment)]},
        {USES_SEARCH: "true", USES_KUBERNETES_API: "true"},
        api_token=True,
        keep_finished=True,
    )


def search_reindex_job(image: str) -> Manifest:
    """Backfill Meilisearch from PostgreSQL as the indexer: its login and its key."""
    command = ["python", "-m", "phasma.search.reindex"]
    environment = [
        *pooled_database_environment(indexer_login=True),
        *scoped_search_environment("search-indexer"),
    ]
    return job(
        "search-reindex",
        {"containers": [container("search-reindex", image, command, environment, database=True)]},
        {USES_DATABASE: "true", USES_SEARCH: "true"},
        keep_finished=True,
        deadline_seconds=REINDEX_DEADLINE_SECONDS,
    )


def setup_search_access() -> list[Manifest]:
    """The Role and RoleBinding letting setup-search read and patch `search-keys` only.

    `create` cannot be limited to a name, so the Job never creates the Secret:
    `./taskw deploy` makes it from its template before any Job runs.
    """
    name = service_account_name(SETUP_SEARCH)
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": metadata(name, "job"),
        "rules": [
            {
                "apiGroups": [""],
                "resources": ["secrets"],
                "resourceNames": [secrets.SEARCH_KEYS.name],
                "verbs": ["get", "patch"],
            }
        ],
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": metadata(name, "job"),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": NAMESPACE}],
    }
    return [role, binding]


JOB_FAMILIES = ("migrate", "setup-broker", "setup-storage", SETUP_SEARCH, "search-reindex")
# Jobs that need another Job's result run in a later rollout stage: the backfill reads
# as the login migrate creates, with the key setup-search writes.
DEPENDENT_JOBS = frozenset({"search-reindex"})


def all_jobs(image: str, migrations_directory: Path) -> list[Manifest]:
    """Every rollout Job."""
    return [
        migrate_job(image, migrations_directory),
        setup_broker_job(image),
        setup_storage_job(image),
        setup_search_job(image),
        search_reindex_job(image),
    ]
