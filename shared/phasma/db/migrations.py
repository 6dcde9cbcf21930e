"""Schema migrations: numbered SQL files applied in order, recorded in a ledger.

Files are named ``NNNN_name.up.sql`` and ``NNNN_name.down.sql``. Each up file runs in
its own transaction together with its ledger row, so a migration either applies
completely or not at all; files therefore must not contain transaction control
(``BEGIN``/``COMMIT``) or statements that refuse to run inside a transaction
(``CREATE INDEX CONCURRENTLY``). History is append-only: once applied, a file must
never change (the runner refuses to continue if one did); fixes are new migrations
and down files are meant for development.

The runner connects directly to PostgreSQL as the database owner, never through the
transaction-mode pooler, because it holds a session advisory lock for the whole run
so that concurrent runs (for example two migrate Jobs) apply each file once.

Command line: ``python -m phasma.db.migrations {migrate,rollback,status} [--steps N]``
reads the owner's DSN from ``MIGRATION_DATABASE_URL`` (falling back to
``DATABASE_URL``) and the files from ``MIGRATIONS_DIR`` (default: the repository's
``migrations/`` folder).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import os
import re
import secrets
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pg8000.exceptions
import pg8000.native

from phasma.db.connect import connect

DEFAULT_DIR = Path(
    os.environ.get("MIGRATIONS_DIR") or Path(__file__).resolve().parents[3] / "migrations"
)

# "phasma" in ASCII: one fixed key shared by every runner against this database.
ADVISORY_LOCK_KEY = 0x706861736D61

# pg8000 applies its timeout to every socket read, including waiting for the
# advisory lock and building indexes; the Job's activeDeadlineSeconds (300) bounds
# the whole run anyway, so this only has to be generous.
_SOCKET_TIMEOUT_SECONDS = 600.0
_APPLICATION_NAME = "phasma-migrations"

_FILE_PATTERN = re.compile(r"(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.(?P<direction>up|down)\.sql")

# PostgreSQL's default SCRAM iteration count (scram_iterations).
_SCRAM_ITERATIONS = 4096

Progress = Callable[[str], object]


class MigrationError(Exception):
    """The migration files or the recorded history do not allow the requested run."""


@dataclass(frozen=True)
class Migration:
    """One numbered migration as found on disk."""

    version: int
    name: str
    up_sql: str
    down_sql: str
    checksum: str  # sha256 hex digest of the up file's bytes

    @property
    def label(self) -> str:
        """``NNNN_name``, the file name without direction and extension."""
        return f"{self.version:04d}_{self.name}"


@dataclass(frozen=True)
class MigrationStatus:
    """Where one migration stands in a database."""

    version: int
    name: str
    applied_at: datetime | None
    checksum_ok: bool  # False also for an applied version whose file is gone


@dataclass(frozen=True)
class _AppliedRecord:
    version: int
    name: str
    checksum: str
    applied_at: datetime


def discover(directory: Path) -> list[Migration]:
    """Read every migration in ``directory``, ordered by version.

    Raises ``MigrationError`` for a missing directory, a ``.sql`` file that does not
    follow the naming scheme, duplicate versions, gaps in the numbering (versions
    must run 1, 2, 3, ...) or an up file without its down file (or the reverse).
    """
    if not directory.is_dir():
        raise MigrationError(f"migrations directory {directory} does not exist")
    files: dict[int, dict[str, Path]] = {}
    names: dict[int, str] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_PATTERN.fullmatch(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: not named NNNN_name.up.sql or NNNN_name.down.sql")
        version, name = int(match["version"]), match["name"]
        if names.setdefault(version, name) != name:
            raise MigrationError(
                f"duplicate migration version {version:04d}: "
                f"{version:04d}_{names[version]} and {version:04d}_{name}"
            )
        files.setdefault(version, {})[match["direction"]] = path
    if not files:
        raise MigrationError(f"no migration files in {directory}")

    migrations = []
    for expected, version in enumerate(sorted(files), start=1):
        if version != expected:
            raise MigrationError(
                f"migration versions have a gap: {expected:04d} is missing before {version:04d}"
            )
        pair = files[version]
        for direction in ("up", "down"):
            if direction not in pair:
                raise MigrationError(
                    f"{version:04d}_{names[version]}.{direction}.sql is missing in {directory}"
                )
        up_bytes = pair["up"].read_bytes()
        migrations.append(
            Migration(
                version=version,
                name=names[version],
                up_sql=up_bytes.decode("utf-8"),
                down_sql=pair["down"].read_text(encoding="utf-8"),
                checksum=hashlib.sha256(up_bytes).hexdigest(),
            )
        )
    return migrations


def migrate(
    database_url: str, directory: Path = DEFAULT_DIR, progress: Progress = print
) -> list[Migration]:
    """Apply every pending migration in order and return the ones applied.

    Each up file runs in its own transaction with its ledger row. Refuses with
    ``MigrationError`` before applying anything when an applied file changed or
    disappeared, or when a pending version is older than an applied one.
    """
    migrations = discover(directory)
    started = time.monotonic()
    applied_now: list[Migration] = []
    with _locked_connection(database_url, progress) as connection:
        _create_ledger(connection)
        applied = _verified_history(connection, migrations, directory)
        pending = [migration for migration in migrations if migration.version not in applied]
        if pending and applied and pending[0].version < max(applied):
            raise MigrationError(
                f"{pending[0].label} is pending but the later {max(applied):04d} is already "
                f"applied; roll back to before it first"
            )
        for migration in pending:
            migration_started = time.monotonic()
            _run_in_transaction(
                connection,
                migration.up_sql,
                f"{migration.label}.up.sql",
                "INSERT INTO schema_migrations (version, name, checksum)"
                " VALUES (:version, :name, :checksum)",
                version=migration.version,
                name=migration.name,
                checksum=migration.checksum,
            )
            applied_now.append(migration)
            progress(f"applied {migration.label} ({_milliseconds_since(migration_started)} ms)")
    latest = migrations[-1].label
    if applied_now:
        progress(
            f"applied {len(applied_now)} migration(s) in {_milliseconds_since(started)} ms; "
            f"schema is at {latest}"
        )
    else:
        progress(f"schema is up to date at {latest}")
    return applied_now


def rollback(
    database_url: str,
    steps: int = 1,
    directory: Path = DEFAULT_DIR,
    progress: Progress = print,
) -> list[Migration]:
    """Run the down files of the ``steps`` latest applied migrations, newest first.

    Each down file runs in its own transaction with the removal of its ledger row.
    Returns the migrations rolled back (fewer than ``steps`` if fewer are applied).
    Refuses, like ``migrate``, when an applied file changed or disappeared.
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    migrations = {migration.version: migration for migration in discover(directory)}
    rolled_back: list[Migration] = []
    with _locked_connection(database_url, progress) as connection:
        _create_ledger(connection)
        applied = _verified_history(connection, list(migrations.values()), directory)
        for version in sorted(applied, reverse=True)[:steps]:
            migration = migrations[version]
            migration_started = time.monotonic()
            _run_in_transaction(
                connection,
                migration.down_sql,
                f"{migration.label}.down.sql",
                "DELETE FROM schema_migrations WHERE version = :version",
                version=version,
            )
            rolled_back.append(migration)
            progress(f"rolled back {migration.label} ({_milliseconds_since(migration_started)} ms)")
    remaining = sorted(set(applied) - {migration.version for migration in rolled_back})
    position = f"is at {migrations[remaining[-1]].label}" if remaining else "has no migrations"
    progress(f"rolled back {len(rolled_back)} migration(s); schema {position}")
    return rolled_back


def status(database_url: str, directory: Path = DEFAULT_DIR) -> list[MigrationStatus]:
    """Report every migration on disk (and any applied one missing from disk).

    Read-only: it neither takes the lock nor creates the ledger.
    """
    migrations = discover(directory)
    with connect(
        database_url, application_name=_APPLICATION_NAME, timeout=_SOCKET_TIMEOUT_SECONDS
    ) as connection:
        applied = _applied_records(connection)
    statuses = []
    for migration in migrations:
        record = applied.get(migration.version)
        statuses.append(
            MigrationStatus(
                version=migration.version,
                name=migration.name,
                applied_at=record.applied_at if record else None,
                checksum_ok=record is None or record.checksum == migration.checksum,
            )
        )
    on_disk = {migration.version for migration in migrations}
    statuses.extend(
        MigrationStatus(record.version, record.name, record.applied_at, checksum_ok=False)
        for version, record in sorted(applied.items())
        if version not in on_disk
    )
    return statuses


def ensure_login_user(
    database_url: str, username: str, password: str, role: str, progress: Progress = print
) -> None:
    """Create the LOGIN role ``username`` (or reset its password) as a member of ``role``.

    The password reaches the server only as a SCRAM-SHA-256 verifier computed here,
    so it never appears in statement logs; identifiers and literals are quoted by the
    server's ``format('%I')``/``format('%L')``. Refuses to touch a superuser and
    requires ``role`` to exist (it comes from the migrations).
    """
    if not password:
        raise ValueError(f"empty password for login user {username!r}")
    verifier = _scram_sha256_verifier(password)
    with _locked_connection(database_url, progress) as connection:
        if not connection.run("SELECT 1 FROM pg_roles WHERE rolname = :role", role=role):
            raise MigrationError(f"role {role!r} does not exist; run the migrations first")
        existing = connection.run(
            "SELECT rolsuper FROM pg_roles WHERE rolname = :username", username=username
        )
        if existing and existing[0][0]:
            raise MigrationError(f"refusing to re-password superuser {username!r}")
        # The verb is one of two constants; every supplied value is quoted by the server.
        verb = "ALTER" if existing else "CREATE"
        _run_formatted(
            connection,
            f"{verb} ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT PASSWORD %L",
            username,
            verifier,
        )
        _run_formatted(connection, "GRANT %I TO %I", role, username)


def describe_error(error: BaseException) -> str:
    """One line explaining ``error``, including PostgreSQL's message and SQLSTATE."""
    if isinstance(error, pg8000.exceptions.DatabaseError) and error.args:
        fields = error.args[0]
        if isinstance(fields, dict):
            text = f"{fields.get('M', 'database error')} (SQLSTATE {fields.get('C', '?')})"
            if "P" in fields:
                text += f" at character {fields['P']}"
            return " ".join(text.split())
    text = str(error) or type(error).__name__
    if error.__cause__ is not None:
        text = f"{text.rstrip('.')}: {error.__cause__}"
    return " ".join(text.split())


@contextmanager
def _locked_connection(database_url: str, progress: Progress) -> Iterator[pg8000.native.Connection]:
    """A direct connection holding the migration advisory lock until it closes."""
    with connect(
        database_url, application_name=_APPLICATION_NAME, timeout=_SOCKET_TIMEOUT_SECONDS
    ) as connection:
        [[acquired]] = connection.run("SELECT pg_try_advisory_lock(:key)", key=ADVISORY_LOCK_KEY)
        if not acquired:
            progress("waiting for another migration run to release its lock")
            connection.run("SELECT pg_advisory_lock(:key)", key=ADVISORY_LOCK_KEY)
        # Closing the connection releases the session lock; no explicit unlock needed.
        yield connection


def _create_ledger(connection: pg8000.native.Connection) -> None:
    connection.run(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version int PRIMARY KEY,"
        " name text NOT NULL,"
        " checksum text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())"
    )


def _applied_records(connection: pg8000.native.Connection) -> dict[int, _AppliedRecord]:
    [[ledger]] = connection.run("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not ledger:
        return {}
    rows = connection.run(
        "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version"
    )
    return {row[0]: _AppliedRecord(*row) for row in rows}


def _verified_history(
    connection: pg8000.native.Connection, migrations: list[Migration], directory: Path
) -> dict[int, _AppliedRecord]:
    """The applied records, after checking each still matches its file on disk."""
    applied = _applied_records(connection)
    on_disk = {migration.version: migration for migration in migrations}
    for version, record in applied.items():
        migration = on_disk.get(version)
        if migration is None:
            raise MigrationError(
                f"{version:04d}_{record.name} is applied but has no file in {directory}"
            )
        if migration.checksum != record.checksum:
            raise MigrationError(
                f"{migration.label}.up.sql changed after it was applied (checksum "
                f"{record.checksum[:12]}... recorded, {migration.checksum[:12]}... on disk); "
                f"applied migrations must not be edited, add a new one instead"
            )
    return applied


def _run_in_transaction(
    connection: pg8000.native.Connection,
    script: str,
    file_name: str,
    ledger_sql: str,
    **ledger_parameters: object,
) -> None:
    """Run ``script`` and the ledger statement atomically.

    ``Connection.run`` without parameters uses PostgreSQL's simple query protocol,
    which accepts a whole multi-statement script in one message; inside the explicit
    transaction opened here, every statement of it commits or rolls back together.
    """
    connection.run("BEGIN")
    try:
        try:
            connection.run(script)
        except pg8000.exceptions.DatabaseError as error:
            raise MigrationError(f"{file_name} failed: {describe_error(error)}") from error
        connection.run(ledger_sql, **ledger_parameters)
        connection.run("COMMIT")
    except BaseException:
        # A broken connection cannot roll back, but the server aborts the
        # transaction when the session ends, so the original error is what matters.
        with suppress(pg8000.exceptions.Error, OSError):
            connection.run("ROLLBACK")
        raise


def _run_formatted(
    connection: pg8000.native.Connection, template: str, first: str, second: str
) -> None:
    """Run ``template`` once the server's ``format()`` has quoted both values into it.

    Utility statements such as CREATE ROLE take no bind parameters, so the values
    are bound to ``format()`` instead and PostgreSQL does the quoting.
    """
    [[statement]] = connection.run(
        "SELECT format(:template, CAST(:first AS text), CAST(:second AS text))",
        template=template,
        first=first,
        second=second,
    )
    connection.run(statement)


def _scram_sha256_verifier(password: str) -> str:
    """The verifier PostgreSQL stores for ``password``, as libpq's PQencryptPasswordConn.

    Limited to ASCII, for which PostgreSQL's SASLprep step leaves the password
    unchanged; non-ASCII would need a full SASLprep to match what the server does.
    """
    if not password.isascii():
        raise ValueError("login user passwords must be ASCII (the generated secrets are hex)")
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("ascii"), salt, _SCRAM_ITERATIONS)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")

    def encode(value: bytes) -> str:
        return base64.b64encode(value).decode("ascii")

    return (
        f"SCRAM-SHA-256${_SCRAM_ITERATIONS}:{encode(salt)}"
        f"${encode(stored_key)}:{encode(server_key)}"
    )


def _milliseconds_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _print_status(statuses: list[MigrationStatus]) -> None:
    rows = [("version", "name", "applied at", "checksum")]
    for entry in statuses:
        if entry.applied_at is None:
            applied_at, checksum = "pending", "-"
        else:
            applied_at = entry.applied_at.isoformat(sep=" ", timespec="seconds")
            # Not ok means the file changed since it was applied, or is gone.
            checksum = "ok" if entry.checksum_ok else "MISMATCH"
        rows.append((f"{entry.version:04d}", entry.name, applied_at, checksum))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())


def main(arguments: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the process exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m phasma.db.migrations",
        description="Apply, roll back or inspect Phasma's schema migrations.",
    )
    parser.add_argument("command", choices=("migrate", "rollback", "status"))
    parser.add_argument("--steps", type=int, default=1, help="migrations to roll back (default 1)")
    options = parser.parse_args(arguments)
    database_url = os.environ.get("MIGRATION_DATABASE_URL") or os.environ.get("DATABASE_URL")
    try:
        if not database_url:
            raise MigrationError("set MIGRATION_DATABASE_URL (or DATABASE_URL) to the owner's DSN")
        if options.command == "migrate":
            migrate(database_url)
        elif options.command == "rollback":
            rollback(database_url, steps=options.steps)
        else:
            _print_status(status(database_url))
    except (MigrationError, ValueError, pg8000.exceptions.Error, OSError) as error:
        print(f"migrations: {options.command} failed: {describe_error(error)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
