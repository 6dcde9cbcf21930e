"""Prepare the dependencies for the functions: schema, login role, bucket, topics, secrets.

Shared by `./taskw up` and the test session, so both run the same stack.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from phasma.db.migrations import ensure_login_user, migrate
from phasma.devstack.services import DependencyUrls
from phasma.provisioning import APP_DATABASE_USER, create_bucket, create_topics
from phasma.topics import PARTITIONS

LOCAL_S3_KEYS = ("phasma", "phasma-local-secret")


def state_secret(state_dir: Path, name: str) -> str:
    """A random secret kept under the state dir, so a restart keeps sessions valid."""
    path = state_dir / "secrets" / name
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    path.write_text(value)
    path.chmod(0o600)
    return value


def with_credentials(database_url: str, user: str, password: str) -> str:
    """`database_url` with its user and password replaced."""
    parts = urlsplit(database_url)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{quote(user)}:{quote(password)}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def prepare(
    urls: DependencyUrls,
    state_dir: Path,
    environ: Mapping[str, str],
    progress: Callable[[str], None],
) -> dict[str, str]:
    """Apply migrations, create the app login, bucket and topics; return the functions' env."""
    migrate(environ.get("MIGRATION_DATABASE_URL") or urls.database_url, progress=progress)
    if "DATABASE_URL" in environ:
        app_database_url = environ["DATABASE_URL"]
    else:
        password = state_secret(state_dir, "app-db-password")
        ensure_login_user(urls.database_url, APP_DATABASE_USER, password, "phasma_app")
        app_database_url = with_credentials(urls.database_url, APP_DATABASE_USER, password)
    access_key = environ.get("S3_ACCESS_KEY", LOCAL_S3_KEYS[0])
    secret_key = environ.get("S3_SECRET_KEY", LOCAL_S3_KEYS[1])
    bucket = environ.get("S3_BUCKET", "phasma")
    region = environ.get("S3_REGION", "us-east-1")
    create_bucket(urls.s3_endpoint, bucket, access_key, secret_key, region)
    progress(f"bucket     {bucket} ready")
    # docs/operations.md §2.1: topics are created by setup, never auto-created.
    create_topics(urls.kafka_brokers, PARTITIONS)
    progress(f"topics     {', '.join(PARTITIONS)} ready")
    return {
        "DATABASE_URL": app_database_url,
        "CACHE_URL": urls.cache_url,
        "KAFKA_BROKERS": urls.kafka_brokers,
        "S3_ENDPOINT": urls.s3_endpoint,
        "S3_BUCKET": bucket,
        "S3_REGION": region,
        "S3_ACCESS_KEY": access_key,
        "S3_SECRET_KEY": secret_key,
        "SESSION_HASH_SECRET": environ.get("SESSION_HASH_SECRET")
        or state_secret(state_dir, "session-hash-secret"),
        # The gateway plays the ingress: it replaces X-Forwarded-For with the one
        # address it saw, so the functions behind it trust exactly that hop.
        "TRUSTED_PROXY_HOPS": "1",
    }
