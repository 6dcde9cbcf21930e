"""The one-shot setup Jobs: topics, bucket and database logins, each idempotent.

    python -m phasma.deploy.setup topics           # KAFKA_BROKERS
    python -m phasma.deploy.setup bucket           # S3_ENDPOINT, S3_BUCKET, S3_REGION, S3_*_KEY
    python -m phasma.deploy.setup database-logins  # MIGRATION_DATABASE_URL, *_DB_PASSWORD

Topics and bucket are created by `phasma.provisioning`, as the local stack creates them,
so development and the cluster do it the same way. Running any command twice changes
nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence

from phasma.db.migrations import ensure_login_user
from phasma.provisioning import (
    APP_DATABASE_USER,
    INDEXER_DATABASE_USER,
    create_bucket,
    create_topics,
    set_retention,
)
from phasma.topics import PARTITIONS, RETENTION_MS

# docs/domain.md §1.3: login user -> the NOLOGIN role (from the migrations) it is granted.
DATABASE_LOGINS = {
    APP_DATABASE_USER: ("APP_DB_PASSWORD", "phasma_app"),
    INDEXER_DATABASE_USER: ("INDEXER_DB_PASSWORD", "phasma_indexer"),
}


class SetupError(Exception):
    """A setup command cannot run with the environment it was given."""


def required(environ: Mapping[str, str], name: str) -> str:
    """The non-empty value of `name`, or a SetupError naming it."""
    value = environ.get(name, "")
    if not value:
        raise SetupError(f"{name} is not set")
    return value


def topics(environ: Mapping[str, str]) -> None:
    """Create the topics of docs/operations.md §2.1 and set their retention."""
    brokers = required(environ, "KAFKA_BROKERS")
    create_topics(brokers, PARTITIONS)
    set_retention(brokers, RETENTION_MS)
    print(f"topics ready: {', '.join(PARTITIONS)}")


def bucket(environ: Mapping[str, str]) -> None:
    """Create the bucket the functions store image bytes in."""
    name = environ.get("S3_BUCKET") or "phasma"
    create_bucket(
        required(environ, "S3_ENDPOINT"),
        name,
        required(environ, "S3_ACCESS_KEY"),
        required(environ, "S3_SECRET_KEY"),
        environ.get("S3_REGION") or "us-east-1",
    )
    print(f"bucket ready: {name}")


def database_logins(environ: Mapping[str, str]) -> None:
    """Create or re-password the login users the pooler and functions connect as."""
    owner_url = required(environ, "MIGRATION_DATABASE_URL")
    for user, (password_variable, role) in DATABASE_LOGINS.items():
        ensure_login_user(owner_url, user, required(environ, password_variable), role)
    print(f"database logins ready: {', '.join(DATABASE_LOGINS)}")


COMMANDS: dict[str, Callable[[Mapping[str, str]], None]] = {
    "topics": topics,
    "bucket": bucket,
    "database-logins": database_logins,
}


def main(arguments: Sequence[str] | None = None, environ: Mapping[str, str] = os.environ) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m phasma.deploy.setup", description="Idempotent one-shot cluster setup."
    )
    parser.add_argument("command", choices=sorted(COMMANDS))
    options = parser.parse_args(arguments)
    try:
        COMMANDS[options.command](environ)
    except Exception as error:  # a Job's log should end in one line saying why it failed
        print(f"setup {options.command} failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
