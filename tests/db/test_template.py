"""The migrated template the test databases are copied from (tests/databases.py)."""

from __future__ import annotations

from phasma.db.connect import connect
from phasma.db.migrations import DEFAULT_DIR, discover, migrate

# Each query lists one part of what the migrations leave in a database, in a stable order.
FINGERPRINT = {
    "ledger": "SELECT version, name, checksum FROM schema_migrations ORDER BY version",
    "columns": (
        "SELECT table_name, column_name, data_type, is_nullable, column_default"
        " FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2"
    ),
    "table grants": (
        "SELECT grantee, table_name, privilege_type FROM information_schema.role_table_grants"
        " WHERE table_schema = 'public' ORDER BY 1, 2, 3"
    ),
    "column grants": (
        "SELECT grantee, table_name, column_name, privilege_type"
        " FROM information_schema.role_column_grants"
        " WHERE table_schema = 'public' ORDER BY 1, 2, 3, 4"
    ),
    "default privileges": "SELECT defaclacl::text[] FROM pg_default_acl ORDER BY 1",
    "database grants": "SELECT datacl::text[] FROM pg_database WHERE datname = current_database()",
    "indexes": "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1",
}


def fingerprint(database_url: str) -> dict[str, list[list[object]]]:
    with connect(database_url) as connection:
        return {part: connection.run(query) for part, query in FINGERPRINT.items()}


def test_a_copy_of_the_template_is_what_migrating_from_empty_gives(
    migrated_database_url: str, empty_database_url: str
) -> None:
    migrate(empty_database_url, progress=lambda _line: None)
    copied, migrated = fingerprint(migrated_database_url), fingerprint(empty_database_url)
    assert copied == migrated
    # Every migration in the directory, whatever their number, and the grants came along:
    # the database's own ACL is not in the copied files (tests/databases.py copies it).
    assert len(copied["ledger"]) == len(discover(DEFAULT_DIR))
    assert any(grantee == "phasma_app" for grantee, *_ in copied["table grants"])
    assert any("phasma_app=c/" in acl for [acls] in copied["database grants"] for acl in acls)
