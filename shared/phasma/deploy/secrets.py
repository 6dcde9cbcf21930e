"""The Secrets split of docs/operations.md §3.4, as templates with no values.

The repository never holds secret values. `knative/secrets/` carries one template per
Secret (every key present, every value empty) that is deliberately *not* part of the
kustomization, so applying the manifests can never blank a live Secret. `./taskw deploy`
creates each missing Secret from its template with random values (32 bytes, hex) and
leaves existing ones alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from phasma.deploy.kubernetes import Manifest, metadata

TEMPLATE_ANNOTATION = "phasma.dev/template"


@dataclass(frozen=True)
class SecretTemplate:
    """One Secret: its keys and who may read it."""

    name: str
    keys: tuple[str, ...]
    given_to: str
    type: str = "Opaque"
    # Deploy fills the keys with random hex; certificates are made, never random.
    random_values: bool = True
    # Values only the operator has (a mail provider's login): deploy creates the Secret
    # with empty values, for the operator to fill (docs/operations.md).
    operator_filled: bool = False


DATABASE = SecretTemplate("database-secret", ("database-password",), "PostgreSQL, migrate Job")
APP_DATABASE = SecretTemplate(
    "app-db-secret", ("app-db-password",), "migrate Job, pooler, functions that use the database"
)
INDEXER_DATABASE = SecretTemplate(
    "indexer-db-secret",
    ("indexer-db-password",),
    "migrate Job, pooler, search-indexer, search-reindex Job",
)
BACKEND = SecretTemplate(
    "backend-secret",
    ("session-hash-secret",),
    "HTTP backend functions that resolve sessions, mailer (mail-token HMAC key)",
)
CACHE = SecretTemplate("cache-secret", ("cache-password",), "cache, HTTP backend functions")
STORAGE = SecretTemplate(
    "storage-secret",
    ("s3-access-key", "s3-secret-key"),
    "SeaweedFS, setup-storage Job, functions that use the object store",
)
SEARCH_MASTER = SecretTemplate(
    "search-secret", ("search-master-key",), "Meilisearch, setup-search Job"
)
SEARCH_KEYS = SecretTemplate(
    "search-keys",
    ("search-api-key", "search-indexer-key"),
    "search (api key), search-indexer and search-reindex Job (indexer key); "
    "written by the setup-search Job",
)
DATABASE_TLS = SecretTemplate(
    "database-tls",
    ("tls.crt", "tls.key"),
    "PostgreSQL, pooler",
    type="kubernetes.io/tls",
    random_values=False,
)
# The CA that signed database-tls: every database client verifies the server with it
# (sslmode=verify-full). Self-signed, the certificate is its own CA.
DATABASE_CA = SecretTemplate(
    "database-ca",
    ("ca.crt",),
    "pooler, functions that use the database, migrate and search-reindex Jobs",
    random_values=False,
)

SMTP = SecretTemplate(
    "smtp-secret",
    ("smtp-username", "smtp-password"),
    "mailer",
    random_values=False,
    operator_filled=True,
)

ALL = (
    DATABASE,
    APP_DATABASE,
    INDEXER_DATABASE,
    BACKEND,
    CACHE,
    STORAGE,
    SEARCH_MASTER,
    SEARCH_KEYS,
    DATABASE_TLS,
    DATABASE_CA,
    SMTP,
)


def template(secret: SecretTemplate) -> Manifest:
    """The template manifest of `secret`: every key, no value."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata(
            secret.name,
            "secret",
            annotations={
                TEMPLATE_ANNOTATION: "true",
                "phasma.dev/given-to": secret.given_to,
            },
        ),
        "type": secret.type,
        "stringData": dict.fromkeys(secret.keys, ""),
    }
