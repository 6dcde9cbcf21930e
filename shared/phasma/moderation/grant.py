"""Give an account a role (docs/api.md §D; docs/operations.md "Moderators").

    ./taskw admin:grant -- USERNAME [--role moderator|admin|member]

`--role` defaults to `moderator`; `member` takes the rights away again. Runs as the
app login (`DATABASE_URL`; the Taskfile points it at the stack `./taskw up` runs from
this checkout when unset) through the same action every grant uses, which writes the
audit entry. The change applies to the account's next request: moderation routes read
the role from the database every time.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from phasma.config import Settings, get_settings
from phasma.db.pool import Database
from phasma.moderation.actions import UnknownAccount, grant_role
from phasma.moderation.models import ROLES
from phasma.text import USERNAME_PATTERN

PROG = "admin:grant"


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog=PROG, description="Give an account a role.")
    parser.add_argument("username", help="the account's username")
    parser.add_argument(
        "--role", default="moderator", help="moderator (the default), admin, or member"
    )
    arguments = parser.parse_args(argv)
    username = arguments.username.strip().lstrip("@").lower()
    if arguments.role not in ROLES:
        print(f"{PROG}: unknown role {arguments.role!r}: use {', '.join(ROLES)}", file=sys.stderr)
        return 2
    if not USERNAME_PATTERN.fullmatch(username):
        print(f"{PROG}: {arguments.username!r} is not a username", file=sys.stderr)
        return 2
    settings = settings or get_settings()
    if not settings.database_url:
        print(f"{PROG}: DATABASE_URL is not set and no local stack is running", file=sys.stderr)
        return 2
    database = Database(settings, application_name="admin-grant")
    try:
        granted = grant_role(database, username, arguments.role)
    except UnknownAccount:
        print(f"{PROG}: no account named {username!r}", file=sys.stderr)
        return 1
    except Exception as error:  # one line saying why, not a stack
        print(f"{PROG} failed: {error}", file=sys.stderr)
        return 1
    finally:
        database.close()
    print(f"{granted.username}: {granted.previous_role} -> {granted.role}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
