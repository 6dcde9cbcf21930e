"""The connection pooler (PgBouncer, transaction mode) in front of PostgreSQL.

Its rules are docs/operations.md §3 and §5.

Functions connect only here. Two replicas behind one ClusterIP Service keep the
database reachable while one restarts. The login list is rendered at start from the
two login Secrets into an in-memory scratch volume, so no password is baked into a
ConfigMap or the image.
"""

from __future__ import annotations

from typing import Any

from phasma.deploy import images, secrets
from phasma.deploy.environment import (
    DATABASE_CA_VOLUME,
    DATABASE_NAME,
    POOLER_PORT,
    POSTGRES_HOST,
    POSTGRES_PORT,
    database_ca_volume,
)
from phasma.deploy.kubernetes import (
    SECRETS_CHECKSUM,
    Manifest,
    digest,
    labels,
    metadata,
    pod_security_context,
    resources,
    restricted_security_context,
    scratch_volume,
    secret_env,
    secrets_checksum,
    selector_labels,
)
from phasma.provisioning import APP_DATABASE_USER, INDEXER_DATABASE_USER

NAME = "pooler"
USER_ID = 70  # the image's postgres user
CONFIG_NAME = "pooler-config"
REPLICAS = 2

CONFIGURATION = f"""\
[databases]
{DATABASE_NAME} = host={POSTGRES_HOST} port={POSTGRES_PORT} dbname={DATABASE_NAME}

[pgbouncer]
listen_addr = 0.0.0.0
listen_port = {POOLER_PORT}
unix_socket_dir =
pool_mode = transaction
default_pool_size = 20
reserve_pool_size = 5
max_client_conn = 1000
; Transaction pooling with protocol-level prepared statements tracked by the pooler.
max_prepared_statements = 200
auth_type = scram-sha-256
auth_file = /run/pgbouncer/userlist.txt
client_tls_sslmode = require
client_tls_cert_file = /etc/pgbouncer/tls/tls.crt
client_tls_key_file = /etc/pgbouncer/tls/tls.key
; The server's certificate must chain to the database CA and name POSTGRES_HOST.
server_tls_sslmode = verify-full
server_tls_ca_file = /etc/pgbouncer/ca/ca.crt
ignore_startup_parameters = extra_float_digits,options
"""

# Secret values are hex, so they need no quoting inside the userlist.
_START = f"""\
printf '"%s" "%s"\\n"%s" "%s"\\n' \\
  {APP_DATABASE_USER} "$APP_DB_PASSWORD" {INDEXER_DATABASE_USER} "$INDEXER_DB_PASSWORD" \\
  > /run/pgbouncer/userlist.txt
exec pgbouncer /etc/pgbouncer/pgbouncer.ini
"""


def config_map() -> Manifest:
    """The pooler's pgbouncer.ini."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(CONFIG_NAME, "pooler"),
        "data": {"pgbouncer.ini": CONFIGURATION},
    }


def service() -> Manifest:
    """The ClusterIP Service functions connect to."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(NAME, "pooler"),
        "spec": {
            "selector": selector_labels(NAME),
            "ports": [
                {
                    "name": "postgres",
                    "port": POOLER_PORT,
                    "targetPort": POOLER_PORT,
                    "protocol": "TCP",
                }
            ],
        },
    }


def deployment() -> Manifest:
    """Two PgBouncer replicas, spread across nodes where possible."""
    probe = {"tcpSocket": {"port": POOLER_PORT}}
    container: dict[str, Any] = {
        "name": NAME,
        "image": images.POOLER,
        "command": ["/bin/sh", "-c", _START],
        "env": [
            secret_env("APP_DB_PASSWORD", secrets.APP_DATABASE.name, "app-db-password"),
            secret_env("INDEXER_DB_PASSWORD", secrets.INDEXER_DATABASE.name, "indexer-db-password"),
        ],
        "ports": [{"name": "postgres", "containerPort": POOLER_PORT}],
        "resources": resources("50m", "64Mi", "128Mi"),
        "startupProbe": {**probe, "periodSeconds": 2, "failureThreshold": 30},
        "readinessProbe": {**probe, "periodSeconds": 5},
        "livenessProbe": {**probe, "periodSeconds": 10, "failureThreshold": 6},
        "securityContext": restricted_security_context(USER_ID),
        "volumeMounts": [
            {
                "name": "config",
                "mountPath": "/etc/pgbouncer/pgbouncer.ini",
                "subPath": "pgbouncer.ini",
            },
            {"name": "tls", "mountPath": "/etc/pgbouncer/tls", "readOnly": True},
            {"name": DATABASE_CA_VOLUME, "mountPath": "/etc/pgbouncer/ca", "readOnly": True},
            {"name": "run", "mountPath": "/run/pgbouncer"},
        ],
    }
    pod_spec: dict[str, Any] = {
        "serviceAccountName": NAME,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": pod_security_context(USER_ID),
        "affinity": {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 100,
                        "podAffinityTerm": {
                            "labelSelector": {"matchLabels": selector_labels(NAME)},
                            "topologyKey": "kubernetes.io/hostname",
                        },
                    }
                ]
            }
        },
        "containers": [container],
        "volumes": [
            {"name": "config", "configMap": {"name": CONFIG_NAME}},
            {
                "name": "tls",
                "secret": {"secretName": secrets.DATABASE_TLS.name, "defaultMode": 0o440},
            },
            database_ca_volume(),
            # Holds the rendered passwords: memory-backed, never on the node's disk.
            scratch_volume("run", in_memory=True),
        ],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(NAME, "pooler"),
        "spec": {
            "replicas": REPLICAS,
            "selector": {"matchLabels": selector_labels(NAME)},
            "template": {
                "metadata": {
                    "labels": labels(NAME, "pooler"),
                    "annotations": {
                        SECRETS_CHECKSUM: secrets_checksum(pod_spec),
                        # A changed pgbouncer.ini only takes effect in new pods.
                        "phasma.dev/config-checksum": digest(CONFIGURATION),
                    },
                },
                "spec": pod_spec,
            },
        },
    }


def manifests() -> list[Manifest]:
    """ConfigMap, Service and Deployment of the pooler."""
    return [config_map(), service(), deployment()]
