"""Test databases copied from one migrated template instead of migrated one by one.

The session migrates `TEMPLATE` once (every file in migrations/, as `./taskw up` would);
each suite then gets its database with ``CREATE DATABASE ... TEMPLATE``, a file copy that
takes a fraction of running the migrations again. tests/db/test_migrations.py still
migrates from empty: it tests the migrations themselves.

What the copy carries: schema, data, the ledger and every grant made inside the database.
What it does not: the database's own ACL (``GRANT CONNECT ON DATABASE``), which
`database_from_template` copies over. Roles belong to the server, so they are shared.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from phasma.db.connect import connect
from phasma.db.migrations import migrate

TEMPLATE = "phasma_template"


def with_database(database_url: str, database: str) -> str:
    """``database_url`` pointing at another database on the same server."""
    return urlunsplit(urlsplit(database_url)._replace(path=f"/{database}"))


def migrated_template(server_url: str) -> str:
    """Create `TEMPLATE` afresh with every migration applied; returns its name.

    A template left by an earlier session against the same server may predate a
    migration, so it is always rebuilt.
    """
    with connect(server_url) as admin:
        admin.run(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
        admin.run(f"CREATE DATABASE {TEMPLATE}")
    migrate(with_database(server_url, TEMPLATE), progress=lambda _line: None)
    return TEMPLATE


def database_from_template(server_url: str, template: str, name: str) -> str:
    """Replace database `name` by a copy of `template`; returns its owner URL.

    `name` and `template` come from the tests, never from input: interpolating them is safe.
    Nothing may be connected to the template while it is copied, so nothing but this
    module ever connects to it, and only to build it.
    """
    with connect(server_url) as admin:
        admin.run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.run(f"CREATE DATABASE {name} TEMPLATE {template}")
        # The database's ACL lives in pg_database, outside the copied files.
        grants = admin.run(
            "SELECT acl.privilege_type, role.rolname"
            " FROM pg_database AS db, aclexplode(db.datacl) AS acl"
            " JOIN pg_roles AS role ON role.oid = acl.grantee"
            " WHERE db.datname = :template AND acl.grantee <> db.datdba",
            template=template,
        )
        for privilege, role in grants:
            admin.run(f'GRANT {privilege} ON DATABASE {name} TO "{role}"')
    return with_database(server_url, name)
