"""The migration runner against a real PostgreSQL: apply, verify, roll back, CLI."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import scramp

from phasma.db.connect import connect
from phasma.db.migrations import (
    ADVISORY_LOCK_KEY,
    DEFAULT_DIR,
    Migration,
    MigrationError,
    discover,
    ensure_login_user,
    migrate,
    rollback,
    status,
)

MIGRATION_COUNT = len(discover(DEFAULT_DIR))


def _quiet(_line: str) -> None:
    """A progress callback that discards the lines."""


def _public_tables(database_url: str) -> set[str]:
    with connect(database_url) as connection:
        rows = connection.run("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {name for [name] in rows}


def _applied_versions(database_url: str) -> list[int]:
    with connect(database_url) as connection:
        return [version for [version] in connection.run("SELECT version FROM schema_migrations")]


def _copy_migrations(destination: Path, up_to: int) -> None:
    """Copy the repository's migrations numbered 1..``up_to`` into ``destination``."""
    destination.mkdir(exist_ok=True)
    for path in DEFAULT_DIR.glob("*.sql"):
        if int(path.name[:4]) <= up_to:
            shutil.copy(path, destination / path.name)


def _write_migration(directory: Path, label: str, up_sql: str, down_sql: str = "") -> None:
    directory.mkdir(exist_ok=True)
    (directory / f"{label}.up.sql").write_text(up_sql)
    (directory / f"{label}.down.sql").write_text(down_sql)


# --- discovery -------------------------------------------------------------------


def test_discover_reads_the_repository_migrations_in_order() -> None:
    migrations = discover(DEFAULT_DIR)

    assert [migration.version for migration in migrations] == list(range(1, MIGRATION_COUNT + 1))
    assert migrations[0].label == "0001_extensions"
    assert all(re.fullmatch(r"[0-9a-f]{64}", migration.checksum) for migration in migrations)
    assert all(migration.up_sql.strip() and migration.down_sql.strip() for migration in migrations)


def test_discover_refuses_a_gap(tmp_path: Path) -> None:
    _write_migration(tmp_path, "0001_first", "SELECT 1;")
    _write_migration(tmp_path, "0003_third", "SELECT 1;")

    with pytest.raises(MigrationError, match="0002 is missing"):
        discover(tmp_path)


def test_discover_refuses_a_duplicate_version(tmp_path: Path) -> None:
    _write_migration(tmp_path, "0001_first", "SELECT 1;")
    _write_migration(tmp_path, "0001_other", "SELECT 1;")

    with pytest.raises(MigrationError, match="duplicate migration version 0001"):
        discover(tmp_path)


def test_discover_refuses_a_missing_down_file(tmp_path: Path) -> None:
    _write_migration(tmp_path, "0001_first", "SELECT 1;")
    (tmp_path / "0001_first.down.sql").unlink()

    with pytest.raises(MigrationError, match=r"0001_first\.down\.sql is missing"):
        discover(tmp_path)


def test_discover_refuses_a_misnamed_file(tmp_path: Path) -> None:
    _write_migration(tmp_path, "0001_first", "SELECT 1;")
    (tmp_path / "2_second.up.sql").write_text("SELECT 1;")

    with pytest.raises(MigrationError, match=r"2_second\.up\.sql: not named"):
        discover(tmp_path)


# --- migrate / status / rollback -----------------------------------------------


def test_migrate_applies_everything_once(empty_database_url: str) -> None:
    lines: list[str] = []

    applied = migrate(empty_database_url, progress=lines.append)
    again = migrate(empty_database_url, progress=lines.append)

    assert [migration.version for migration in applied] == list(range(1, MIGRATION_COUNT + 1))
    assert again == []
    assert all(
        re.fullmatch(rf"applied {migration.label} \(\d+ ms\)", line)
        for migration, line in zip(applied, lines, strict=False)
    )
    assert lines[-1] == f"schema is up to date at {applied[-1].label}"
    assert _applied_versions(empty_database_url) == list(range(1, MIGRATION_COUNT + 1))
    assert {"users", "posts", "notifications", "outbox"} <= _public_tables(empty_database_url)


def test_status_reports_pending_then_applied(empty_database_url: str) -> None:
    before = status(empty_database_url)
    migrate(empty_database_url, progress=_quiet)
    after = status(empty_database_url)

    assert [entry.version for entry in before] == list(range(1, MIGRATION_COUNT + 1))
    assert all(entry.applied_at is None and entry.checksum_ok for entry in before)
    assert all(entry.applied_at is not None and entry.checksum_ok for entry in after)
    assert [entry.name for entry in after] == [entry.name for entry in before]


def test_rollback_of_every_step_leaves_only_the_ledger(empty_database_url: str) -> None:
    migrate(empty_database_url, progress=_quiet)

    rolled_back = rollback(empty_database_url, steps=MIGRATION_COUNT, progress=_quiet)

    assert [migration.version for migration in rolled_back] == list(range(MIGRATION_COUNT, 0, -1))
    assert _public_tables(empty_database_url) == {"schema_migrations"}
    assert _applied_versions(empty_database_url) == []
    with connect(empty_database_url) as connection:
        assert connection.run("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'") == [
            [0]
        ]
        # The roles' default privileges and database grants are gone as well.
        assert connection.run("SELECT count(*) FROM pg_default_acl") == [[0]]
        [[database_acl, schema_acl]] = connection.run(
            "SELECT (SELECT coalesce(datacl::text, '') FROM pg_database"
            "        WHERE datname = current_database()),"
            "       (SELECT coalesce(nspacl::text, '') FROM pg_namespace"
            "        WHERE nspname = 'public')"
        )
        assert "phasma_" not in database_acl + schema_acl

    # The down files really reverse the up files: everything applies again.
    assert len(migrate(empty_database_url, progress=_quiet)) == MIGRATION_COUNT


def test_rollback_one_step(empty_database_url: str) -> None:
    migrate(empty_database_url, progress=_quiet)
    lines: list[str] = []

    [rolled_back] = rollback(empty_database_url, progress=lines.append)

    assert rolled_back.version == MIGRATION_COUNT
    assert _applied_versions(empty_database_url) == list(range(1, MIGRATION_COUNT))
    assert re.fullmatch(rf"rolled back {rolled_back.label} \(\d+ ms\)", lines[0])
    assert [migration.version for migration in migrate(empty_database_url, progress=_quiet)] == [
        MIGRATION_COUNT
    ]


def test_migrate_waits_for_a_concurrent_run(empty_database_url: str) -> None:
    lines: list[str] = []
    runner = threading.Thread(
        target=migrate, args=(empty_database_url,), kwargs={"progress": lines.append}
    )
    with connect(empty_database_url) as other_run:
        other_run.run("SELECT pg_advisory_lock(:key)", key=ADVISORY_LOCK_KEY)
        runner.start()
        deadline = time.monotonic() + 10
        while not lines and time.monotonic() < deadline:
            time.sleep(0.05)

        assert lines == ["waiting for another migration run to release its lock"]
        assert _public_tables(empty_database_url) == set()
        other_run.run("SELECT pg_advisory_unlock(:key)", key=ADVISORY_LOCK_KEY)
        runner.join(timeout=30)

    assert not runner.is_alive()
    assert _applied_versions(empty_database_url) == list(range(1, MIGRATION_COUNT + 1))


def test_a_changed_applied_file_stops_everything(empty_database_url: str, tmp_path: Path) -> None:
    directory = tmp_path / "migrations"
    _copy_migrations(directory, up_to=3)
    migrate(empty_database_url, directory, progress=_quiet)
    _copy_migrations(directory, up_to=MIGRATION_COUNT)
    edited = directory / "0002_users_and_sessions.up.sql"
    edited.write_text(edited.read_text() + "\n-- an innocent-looking edit\n")

    with pytest.raises(MigrationError, match=r"0002_users_and_sessions\.up\.sql changed"):
        migrate(empty_database_url, directory, progress=_quiet)
    with pytest.raises(MigrationError, match=r"0002_users_and_sessions\.up\.sql changed"):
        rollback(empty_database_url, directory=directory, progress=_quiet)

    assert _applied_versions(empty_database_url) == [1, 2, 3]
    assert "notifications" not in _public_tables(empty_database_url)
    assert [entry.checksum_ok for entry in status(empty_database_url, directory)] == [
        True,
        False,
        True,
        *[True] * (MIGRATION_COUNT - 3),
    ]


def test_an_applied_migration_without_a_file_stops_everything(
    empty_database_url: str, tmp_path: Path
) -> None:
    directory = tmp_path / "migrations"
    _copy_migrations(directory, up_to=2)
    migrate(empty_database_url, directory, progress=_quiet)
    for path in directory.glob("0002_*"):
        path.unlink()

    with pytest.raises(MigrationError, match="0002_users_and_sessions is applied but has no file"):
        migrate(empty_database_url, directory, progress=_quiet)


def test_a_failing_migration_applies_nothing_of_itself(
    empty_database_url: str, tmp_path: Path
) -> None:
    directory = tmp_path / "migrations"
    _write_migration(directory, "0001_fine", "CREATE TABLE fine (id int);", "DROP TABLE fine;")
    _write_migration(
        directory,
        "0002_broken",
        "CREATE TABLE half_done (id int);\nSELECT no_such_function();",
        "DROP TABLE half_done;",
    )
    lines: list[str] = []

    with pytest.raises(MigrationError, match=r"0002_broken\.up\.sql failed: .*no_such_function"):
        migrate(empty_database_url, directory, progress=lines.append)

    assert lines[0].startswith("applied 0001_fine")
    assert _applied_versions(empty_database_url) == [1]
    assert _public_tables(empty_database_url) == {"schema_migrations", "fine"}


def test_a_multi_statement_file_with_dollar_quoting_runs_whole(
    empty_database_url: str, tmp_path: Path
) -> None:
    directory = tmp_path / "migrations"
    _write_migration(
        directory,
        "0001_script",
        "CREATE TABLE a (note text);\n"
        "INSERT INTO a VALUES ('semi;colon');\n"
        "DO $$ BEGIN INSERT INTO a VALUES ('from a DO block; still one statement'); END $$;\n",
        "DROP TABLE a;",
    )

    [applied] = migrate(empty_database_url, directory, progress=_quiet)

    assert isinstance(applied, Migration)
    with connect(empty_database_url) as connection:
        assert connection.run("SELECT count(*) FROM a") == [[2]]


# --- login users -----------------------------------------------------------------


@pytest.fixture
def login_name(migrated_database_url: str) -> Iterator[str]:
    """A unique login role name, dropped after the test (roles are server-wide)."""
    name = f"phasma_test_login_{uuid.uuid4().hex[:12]}"
    yield name
    with connect(migrated_database_url) as connection:
        connection.run(f'DROP ROLE IF EXISTS "{name}"')


def _verifier_matches(verifier: str, password: str) -> bool:
    """Whether a stored SCRAM-SHA-256 verifier was made from ``password``."""
    match = re.fullmatch(r"SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)", verifier)
    assert match is not None, verifier
    iterations, salt, stored_key, server_key = match.groups()
    expected = scramp.ScramMechanism("SCRAM-SHA-256").make_auth_info(
        password, iteration_count=int(iterations), salt=base64.b64decode(salt)
    )
    return expected[1:3] == (base64.b64decode(stored_key), base64.b64decode(server_key))


def test_ensure_login_user_creates_then_repasswords(
    migrated_database_url: str, login_name: str
) -> None:
    ensure_login_user(migrated_database_url, login_name, "first-password", "phasma_app")
    ensure_login_user(migrated_database_url, login_name, "second 'password'", "phasma_app")

    with connect(migrated_database_url) as connection:
        [[can_login, is_superuser, verifier, member]] = connection.run(
            "SELECT rolcanlogin, rolsuper, rolpassword, pg_has_role(oid, 'phasma_app', 'MEMBER')"
            " FROM pg_authid WHERE rolname = :name",
            name=login_name,
        )
    assert (can_login, is_superuser, member) == (True, False, True)
    # The server only ever saw the verifier, which matches the latest password.
    assert _verifier_matches(verifier, "second 'password'")
    assert not _verifier_matches(verifier, "first-password")


def test_ensure_login_user_refuses_a_missing_role(
    migrated_database_url: str, login_name: str
) -> None:
    with pytest.raises(MigrationError, match="does not exist"):
        ensure_login_user(migrated_database_url, login_name, "password", "no_such_role_here")


# --- command line ----------------------------------------------------------------


def _run_cli(*arguments: str, database_url: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "MIGRATIONS_DIR")
    }
    environment["MIGRATION_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "phasma.db.migrations", *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "database_url",
    ["mysql://root@127.0.0.1/phasma", "postgresql://postgres@127.0.0.1:1/phasma"],
)
def test_cli_reports_a_bad_url_in_one_line(database_url: str) -> None:
    result = _run_cli("migrate", database_url=database_url)

    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("migrations: migrate failed: ")
    assert "Traceback" not in result.stderr


def test_cli_migrates_and_prints_status(empty_database_url: str) -> None:
    migrated = _run_cli("migrate", database_url=empty_database_url)
    table = _run_cli("status", database_url=empty_database_url)

    assert migrated.returncode == 0, migrated.stderr
    assert len(migrated.stdout.splitlines()) == MIGRATION_COUNT + 1
    assert table.returncode == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split() == ["version", "name", "applied", "at", "checksum"]
    assert len(rows) == MIGRATION_COUNT
    assert all(
        row.startswith(f"{index:04d}") and row.endswith("ok")
        for index, row in enumerate(rows, start=1)
    )
