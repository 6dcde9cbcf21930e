"""Open a pg8000 connection from a libpq-style ``postgresql://`` URL."""

from __future__ import annotations

import ssl
from pathlib import PurePosixPath
from urllib.parse import parse_qs, unquote, urlsplit

import pg8000.native

_SCHEMES = ("postgresql", "postgres")
_DEFAULT_PORT = 5432

# libpq's sslmode values this module honours. "allow" and "prefer" are left out on
# purpose: they silently fall back to plaintext, which the deployment never wants.
_SSL_MODES = ("disable", "require", "verify-ca", "verify-full")


def connect(
    database_url: str,
    *,
    application_name: str = "phasma",
    timeout: float | None = 5.0,
) -> pg8000.native.Connection:
    """Connect to PostgreSQL as described by ``database_url``.

    Understands ``postgresql://user:password@host:port/dbname?sslmode=...`` (and the
    ``postgres://`` scheme). User and password are percent-decoded. A ``host`` query
    parameter naming a directory selects the unix socket ``<dir>/.s.PGSQL.<port>``.
    ``sslmode`` is ``disable`` (the default), ``require`` (TLS without certificate
    checks), ``verify-ca`` (the chain must verify, any host name) or ``verify-full``
    (chain and host name); ``sslrootcert`` names the CA file for the verify modes.

    ``timeout`` is pg8000's socket timeout in seconds, applied to connecting and to
    every later read, so long-running callers should pass a larger value or None.

    Raises ``ValueError`` for a URL that is not a PostgreSQL URL or has an unknown
    ``sslmode``; pg8000's ``InterfaceError``/``DatabaseError`` when connecting fails.
    """
    parts = urlsplit(database_url)
    if parts.scheme not in _SCHEMES:
        raise ValueError(
            f"not a PostgreSQL URL (expected postgresql:// or postgres://): "
            f"scheme {parts.scheme or '(none)'!r}"
        )
    query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    try:
        port = parts.port or _DEFAULT_PORT
    except ValueError as error:
        raise ValueError(f"invalid port in PostgreSQL URL: {error}") from None
    user = unquote(parts.username) if parts.username else "postgres"
    password = unquote(parts.password) if parts.password is not None else None
    database = unquote(parts.path.lstrip("/")) or user

    socket_directory = query.get("host", "")
    unix_socket = None
    host = parts.hostname or "localhost"
    if socket_directory.startswith("/"):
        unix_socket = str(PurePosixPath(socket_directory) / f".s.PGSQL.{port}")
    elif socket_directory:
        host = socket_directory

    return pg8000.native.Connection(
        user,
        host=host,
        port=port,
        database=database,
        password=password,
        unix_sock=unix_socket,
        ssl_context=_ssl_context(query.get("sslmode", "disable"), query.get("sslrootcert")),
        timeout=timeout,
        application_name=application_name,
    )


def _ssl_context(mode: str, root_certificate: str | None) -> ssl.SSLContext | bool:
    """Map an ``sslmode`` to what pg8000 expects: False (plaintext) or a context."""
    if mode not in _SSL_MODES:
        raise ValueError(f"unsupported sslmode {mode!r}; expected one of {', '.join(_SSL_MODES)}")
    if mode == "disable":
        # pg8000 treats None as "try TLS without verification", so say False explicitly.
        return False
    context = ssl.create_default_context(cafile=root_certificate)
    if mode == "require":
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif mode == "verify-ca":
        context.check_hostname = False
    return context
