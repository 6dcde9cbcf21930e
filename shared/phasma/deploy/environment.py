"""What each function needs from the cluster, and the environment that provides it.

Needs are derived from the registry entry, so a newly registered function gets the
right variables, Secrets and network access without touching this package. The few
facts the registry does not carry (who is public, who reads blobs) come from the
operations and security specs and are named here once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from phasma.deploy import secrets
from phasma.deploy.kubernetes import (
    CLUSTER_DOMAIN,
    CONFIG_MAP,
    USES_BROKER,
    USES_CACHE,
    USES_DATABASE,
    USES_MAIL,
    USES_SEARCH,
    USES_STORAGE,
    Manifest,
    config_env,
    literal_env,
    metadata,
    secret_env,
)
from phasma.provisioning import APP_DATABASE_USER, INDEXER_DATABASE_USER
from phasma.registry import Function

# docs/operations.md §1: only the frontend gets a public route.
PUBLIC_FUNCTIONS = frozenset({"frontend"})
# docs/operations.md §6: MEILI_URL and a scoped key, each only its own.
SEARCH_KEY_OF = {"search": "search-api-key", "search-indexer": "search-indexer-key"}
SEARCH_VARIABLE_OF = {"search": "MEILI_SEARCH_KEY", "search-indexer": "MEILI_INDEXER_KEY"}
# docs/domain.md §1.3: the indexer reads through its own, narrower login.
INDEXER_FUNCTIONS = frozenset({"search-indexer"})
# docs/operations.md §6: KAFKA_BROKERS goes to mutating functions and the relay.
RELAY_FUNCTIONS = frozenset({"outbox-relay"})
# docs/api.md §B: the mailer sends SMTP and mints mail tokens under SESSION_HASH_SECRET.
MAIL_FUNCTIONS = frozenset({"mailer"})

# TRUSTED_PROXY_HOPS (docs/api.md §A.1): how many X-Forwarded-For entries, from the right,
# were written by the Knative data plane in front of a function. What each hop does:
# - Kourier's Envoy appends the peer it saw only with `use_remote_address`, which
#   Kourier sets from config-kourier `use-remote-address` (default "false": nothing
#   appended, so the client is never recorded; docs/operations.md makes "true" a
#   cluster prerequisite) on its external and cluster-local listeners alike
#   (knative-extensions/net-kourier: pkg/envoy/api/http_connection_manager.go,
#   pkg/generator/caches.go, config/200-config.yaml). With `xff_num_trusted_hops` 0
#   it also overwrites X-Forwarded-Proto.
# - The activator and queue-proxy are Go `httputil.ReverseProxy`s with a Director
#   (knative/serving: pkg/http/proxy.go NewHeaderPruningReverseProxy, used by
#   pkg/activator/handler/handler.go and pkg/queue/sharedmain/main.go), which append
#   their peer to X-Forwarded-For (golang/go: src/net/http/httputil/reverseproxy.go).
# - The activator is in the path only while the autoscaler sees too little spare
#   capacity (knative/serving: pkg/reconciler/autoscaling/kpa/kpa.go), so the count
#   would change with load; `target-burst-capacity: "-1"` (ACTIVATOR_ALWAYS_IN_PATH)
#   keeps it in the path for good (config/core/configmaps/autoscaler.yaml).
# So the frontend sees "<client's own>, client, envoy, activator" and the client is
# 3 from the right; a backend, which the frontend calls through Kourier's
# cluster-local listener after replacing the header with the browser's address,
# sees "browser, frontend, envoy, activator": 4. An L7 load balancer in front of
# Kourier that appends adds one to the frontend's count.
FRONTEND_PROXY_HOPS = 3
BACKEND_PROXY_HOPS = 4
ACTIVATOR_ALWAYS_IN_PATH = {"autoscaling.knative.dev/target-burst-capacity": "-1"}

DATABASE_NAME = "phasma"
POOLER_HOST = f"pooler.{CLUSTER_DOMAIN}"
POOLER_PORT = 6432
POSTGRES_HOST = f"postgres-0.postgres.{CLUSTER_DOMAIN}"
POSTGRES_PORT = 5432
# Fully qualified: the KafkaSource and KafkaSink data plane runs in knative-eventing.
BROKER_ADDRESS = f"broker-0.broker.{CLUSTER_DOMAIN}:9092"
OWNER_DATABASE_USER = "postgres"
# docs/domain.md §1.3: every database client checks the server's certificate chain and host
# name against the CA in the `database-ca` Secret, mounted here as a file.
DATABASE_CA_DIRECTORY = "/etc/phasma/database-ca"
DATABASE_CA_FILE = f"{DATABASE_CA_DIRECTORY}/ca.crt"
DATABASE_CA_VOLUME = "database-ca"

# The shared ConfigMap: non-secret settings an operator may change in one place.
CONFIG_VALUES: dict[str, str] = {
    "LOG_LEVEL": "info",
    "POSTGRES_MAX_CONNS": "5",
    "RATE_LIMIT_FAIL_OPEN": "false",
    "CACHE_URL": f"redis://cache-0.cache.{CLUSTER_DOMAIN}:6379/0",
    "S3_ENDPOINT": f"http://storage-0.storage.{CLUSTER_DOMAIN}:8333",
    "S3_BUCKET": "phasma",
    "S3_REGION": "us-east-1",
    "S3_FORCE_PATH_STYLE": "true",
    "KAFKA_BROKERS": BROKER_ADDRESS,
    "MEILI_URL": f"http://meilisearch-0.meilisearch.{CLUSTER_DOMAIN}:7700",
    # The site's public origin (CSRF checks, HSTS): set it to the installation's domain.
    "PUBLIC_ORIGIN": "https://phasma.example.com",
    # The mail server and the site address links point at (the login is in smtp-secret).
    "SMTP_HOST": "smtp.example.com",
    "SMTP_PORT": "587",
    "SMTP_STARTTLS": "true",
    "MAIL_FROM": "Phasma <no-reply@phasma.example.com>",
    "SITE_URL": "https://phasma.example.com",
}


@dataclass(frozen=True)
class Needs:
    """The dependencies one function reaches, derived from its registry entry."""

    public: bool
    database: bool
    indexer_login: bool
    sessions_and_cache: bool
    object_store: bool
    broker: bool
    search: bool
    mail: bool


def is_public(function: Function) -> bool:
    """Whether the function gets a public route (only the frontend)."""
    return function.name in PUBLIC_FUNCTIONS


def needs_of(function: Function) -> Needs:
    """What `function` needs, from its kind, routes and the spec's tables."""
    public = is_public(function)
    http_backend = function.kind == "http" and not public
    mutates = any(route.method not in ("GET", "HEAD") for route in function.routes)
    return Needs(
        public=public,
        database=function.uses_database,
        indexer_login=function.name in INDEXER_FUNCTIONS,
        sessions_and_cache=http_backend,
        # docs/operations.md §3.4: `storage-secret` only where the registry says blobs are used.
        object_store=function.uses_blob_store,
        broker=(http_backend and mutates) or function.name in RELAY_FUNCTIONS,
        search=function.name in SEARCH_KEY_OF,
        mail=function.name in MAIL_FUNCTIONS,
    )


def trusted_proxy_hops(needs: Needs) -> int | None:
    """The function's TRUSTED_PROXY_HOPS; None for functions that serve no client."""
    if needs.public:
        return FRONTEND_PROXY_HOPS
    if needs.sessions_and_cache:
        return BACKEND_PROXY_HOPS
    return None


def network_labels(needs: Needs) -> dict[str, str]:
    """Pod labels the network policies key their egress rules on."""
    flags = {
        USES_DATABASE: needs.database,
        USES_CACHE: needs.sessions_and_cache,
        USES_STORAGE: needs.object_store,
        USES_BROKER: needs.broker,
        USES_SEARCH: needs.search,
        USES_MAIL: needs.mail,
    }
    return {label: "true" for label, wanted in flags.items() if wanted}


def database_url(user: str, password_variable: str, host: str, port: int) -> str:
    """A DSN whose password is filled in by Kubernetes' `$(VAR)` expansion at start.

    The password variable must come earlier in the same env list. Secret values are
    hex, so they need no percent-encoding inside the URL. `verify-full` refuses a server
    whose certificate does not chain to the mounted CA or does not name `host`, so a
    spoofed pooler or database never sees the password.
    """
    return (
        f"postgresql://{user}:$({password_variable})@{host}:{port}/{DATABASE_NAME}"
        f"?sslmode=verify-full&sslrootcert={DATABASE_CA_FILE}"
    )


def database_ca_volume() -> dict[str, Any]:
    """The `database-ca` Secret as a volume (the pod spec's side of `database_ca_mount`)."""
    return {
        "name": DATABASE_CA_VOLUME,
        "secret": {"secretName": secrets.DATABASE_CA.name, "defaultMode": 0o444},
    }


def database_ca_mount() -> dict[str, Any]:
    """Where a database client's container finds `DATABASE_CA_FILE`."""
    return {"name": DATABASE_CA_VOLUME, "mountPath": DATABASE_CA_DIRECTORY, "readOnly": True}


def function_environment(function: Function) -> list[dict[str, Any]]:
    """The env list of a function's container, in dependency order."""
    needs = needs_of(function)
    # functions-framework reads these two, so one image serves every function.
    env = [
        literal_env("FUNCTION_TARGET", "handle"),
        literal_env("FUNCTION_SOURCE", function.source),
        config_env("LOG_LEVEL"),
    ]
    if function.request_threads is not None:
        env.append(literal_env("THREADS", str(function.request_threads)))
    if needs.database:
        env += pooled_database_environment(indexer_login=needs.indexer_login)
    if needs.sessions_and_cache:
        env += [
            secret_env("SESSION_HASH_SECRET", secrets.BACKEND.name, "session-hash-secret"),
            config_env("CACHE_URL"),
            secret_env("CACHE_PASSWORD", secrets.CACHE.name, "cache-password"),
            config_env("RATE_LIMIT_FAIL_OPEN"),
        ]
    hops = trusted_proxy_hops(needs)
    if hops is not None:
        env.append(literal_env("TRUSTED_PROXY_HOPS", str(hops)))
    if needs.public:
        # The frontend reaches functions at BACKEND_URL_TEMPLATE's cluster-local default.
        env.append(config_env("PUBLIC_ORIGIN"))
    if needs.object_store:
        env += object_store_environment()
    if needs.broker:
        env.append(config_env("KAFKA_BROKERS"))
    if needs.search:
        env += scoped_search_environment(function.name)
    if needs.mail:
        env += mail_environment()
    return env


def mail_environment() -> list[dict[str, Any]]:
    """The mailer's SMTP settings, its login from `smtp-secret`, and the token key."""
    return [
        secret_env("SESSION_HASH_SECRET", secrets.BACKEND.name, "session-hash-secret"),
        config_env("SMTP_HOST"),
        config_env("SMTP_PORT"),
        config_env("SMTP_STARTTLS"),
        secret_env("SMTP_USERNAME", secrets.SMTP.name, "smtp-username"),
        secret_env("SMTP_PASSWORD", secrets.SMTP.name, "smtp-password"),
        config_env("MAIL_FROM"),
        config_env("SITE_URL"),
    ]


def pooled_database_environment(*, indexer_login: bool) -> list[dict[str, Any]]:
    """The password and pooler DSN of the app login, or of the indexer's narrower one.

    Shared by the functions and the search-reindex Job, which reads as the indexer.
    """
    if indexer_login:
        user, variable, secret = (
            INDEXER_DATABASE_USER,
            "INDEXER_DB_PASSWORD",
            secrets.INDEXER_DATABASE,
        )
    else:
        user, variable, secret = APP_DATABASE_USER, "APP_DB_PASSWORD", secrets.APP_DATABASE
    return [
        secret_env(variable, secret.name, secret.keys[0]),
        literal_env("DATABASE_URL", database_url(user, variable, POOLER_HOST, POOLER_PORT)),
        config_env("POSTGRES_MAX_CONNS"),
    ]


def scoped_search_environment(holder: str) -> list[dict[str, Any]]:
    """MEILI_URL and the scoped key of `holder` (`search` or `search-indexer`)."""
    return [
        config_env("MEILI_URL"),
        secret_env(SEARCH_VARIABLE_OF[holder], secrets.SEARCH_KEYS.name, SEARCH_KEY_OF[holder]),
    ]


def object_store_environment() -> list[dict[str, Any]]:
    """The S3_* variables, shared by blob-using functions and the setup-storage Job."""
    return [
        config_env("S3_ENDPOINT"),
        config_env("S3_BUCKET"),
        config_env("S3_REGION"),
        config_env("S3_FORCE_PATH_STYLE"),
        secret_env("S3_ACCESS_KEY", secrets.STORAGE.name, "s3-access-key"),
        secret_env("S3_SECRET_KEY", secrets.STORAGE.name, "s3-secret-key"),
    ]


def config_map() -> Manifest:
    """The `phasma-config` ConfigMap every workload reads its non-secret settings from."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(CONFIG_MAP, "config"),
        "data": dict(CONFIG_VALUES),
    }
