"""The stateful infrastructure of docs/operations.md §3: one single-replica StatefulSet each.

PostgreSQL, the Redis-protocol cache (Dragonfly), Redpanda, SeaweedFS and Meilisearch,
each with its headless Service, PVC, probes, pinned image, restricted security context
and 256Mi scratch volumes for every writable path outside the PVC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from phasma.deploy import images, secrets
from phasma.deploy.environment import BROKER_ADDRESS, DATABASE_NAME, OWNER_DATABASE_USER
from phasma.deploy.kubernetes import (
    CLUSTER_DOMAIN,
    SECRETS_CHECKSUM,
    Manifest,
    headless_service,
    labels,
    literal_env,
    metadata,
    pod_security_context,
    resources,
    restricted_security_context,
    scratch_volume,
    secret_env,
    secrets_checksum,
    selector_labels,
)


@dataclass(frozen=True)
class Probe:
    """Startup, readiness and liveness timing around one probe action."""

    action: dict[str, Any]
    startup_attempts: int = 30

    def render(self) -> dict[str, Any]:
        """The three probes of a data service: startup every 2 s, ready every 5 s, live 6x10 s."""
        return {
            "startupProbe": {
                **self.action,
                "periodSeconds": 2,
                "failureThreshold": self.startup_attempts,
            },
            "readinessProbe": {**self.action, "periodSeconds": 5},
            "livenessProbe": {**self.action, "periodSeconds": 10, "failureThreshold": 6},
        }


def tcp(port: int) -> dict[str, Any]:
    """A TCP connect probe action."""
    return {"tcpSocket": {"port": port}}


@dataclass(frozen=True)
class Datastore:
    """One single-replica StatefulSet with its storage and container."""

    name: str
    image: str
    user_id: int
    ports: tuple[tuple[str, int], ...]
    storage: str
    data_path: str
    cpu_request: str
    memory_request: str
    memory_limit: str
    probe: Probe
    args: tuple[str, ...] = ()
    command: tuple[str, ...] = ()
    env: tuple[dict[str, Any], ...] = ()
    scratch_paths: tuple[str, ...] = ()
    extra_volumes: tuple[dict[str, Any], ...] = ()
    extra_mounts: tuple[dict[str, Any], ...] = ()
    read_only_root_filesystem: bool = True


def statefulset(store: Datastore) -> Manifest:
    """The StatefulSet of `store`."""
    scratch_volumes = [
        scratch_volume(f"scratch-{index}") for index, _ in enumerate(store.scratch_paths)
    ]
    scratch_mounts = [
        {"name": f"scratch-{index}", "mountPath": path}
        for index, path in enumerate(store.scratch_paths)
    ]
    container: dict[str, Any] = {"name": store.name, "image": store.image}
    if store.command:
        container["command"] = list(store.command)
    if store.args:
        container["args"] = list(store.args)
    if store.env:
        container["env"] = list(store.env)
    container |= {
        "ports": [{"name": name, "containerPort": port} for name, port in store.ports],
        "resources": resources(store.cpu_request, store.memory_request, store.memory_limit),
        **store.probe.render(),
        "securityContext": restricted_security_context(
            store.user_id, read_only_root_filesystem=store.read_only_root_filesystem
        ),
        "volumeMounts": [
            {"name": "data", "mountPath": store.data_path},
            *scratch_mounts,
            *store.extra_mounts,
        ],
    }
    pod_spec: dict[str, Any] = {
        "serviceAccountName": store.name,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        # Time to flush and checkpoint before the kubelet kills the process.
        "terminationGracePeriodSeconds": 60,
        "securityContext": pod_security_context(store.user_id),
        "containers": [container],
        "volumes": [*scratch_volumes, *store.extra_volumes],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": metadata(store.name, "datastore"),
        "spec": {
            "serviceName": store.name,
            "replicas": 1,
            "selector": {"matchLabels": selector_labels(store.name)},
            "updateStrategy": {"type": "RollingUpdate"},
            "template": {
                "metadata": {
                    "labels": labels(store.name, "datastore"),
                    "annotations": {SECRETS_CHECKSUM: secrets_checksum(pod_spec)},
                },
                "spec": pod_spec,
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": store.storage}},
                    },
                }
            ],
        },
    }


def manifests(store: Datastore) -> list[Manifest]:
    """Headless Service and StatefulSet of `store`."""
    return [headless_service(store.name, store.ports), statefulset(store)]


POSTGRES = Datastore(
    name="postgres",
    image=images.POSTGRES,
    user_id=70,  # the image's postgres user
    ports=(("postgres", 5432),),
    storage="5Gi",
    data_path="/var/lib/postgresql",
    cpu_request="500m",
    memory_request="512Mi",
    memory_limit="512Mi",
    probe=Probe({"exec": {"command": ["pg_isready", "-U", "postgres", "-d", DATABASE_NAME]}}),
    args=(
        "-c",
        "ssl=on",
        "-c",
        "ssl_cert_file=/etc/postgresql/tls/tls.crt",
        "-c",
        "ssl_key_file=/etc/postgresql/tls/tls.key",
        "-c",
        # Kept for a future log-based outbox relay.
        "wal_level=logical",
        "-c",
        "max_connections=100",
    ),
    env=(
        literal_env("POSTGRES_USER", OWNER_DATABASE_USER),
        literal_env("POSTGRES_DB", DATABASE_NAME),
        secret_env("POSTGRES_PASSWORD", secrets.DATABASE.name, "database-password"),
        # A subdirectory, so the volume's lost+found does not upset initdb.
        literal_env("PGDATA", "/var/lib/postgresql/18/docker"),
    ),
    extra_volumes=(
        {
            "name": "tls",
            # The server refuses a key readable by others: owner root, group postgres, 0640.
            "secret": {"secretName": secrets.DATABASE_TLS.name, "defaultMode": 0o640},
        },
    ),
    extra_mounts=({"name": "tls", "mountPath": "/etc/postgresql/tls", "readOnly": True},),
    # PostgreSQL writes its socket and lock files outside the data directory.
    read_only_root_filesystem=False,
)

CACHE = Datastore(
    name="cache",
    image=images.CACHE,
    user_id=1000,
    ports=(("redis", 6379),),
    storage="1Gi",
    data_path="/data",
    cpu_request="100m",
    memory_request="256Mi",
    memory_limit="384Mi",
    probe=Probe(tcp(6379)),
    args=(
        # One worker thread keeps Dragonfly's per-thread memory floor inside the limit.
        "--proactor_threads=1",
        "--maxmemory=320mb",
        "--dir=/data",
        "--dbfilename=cache",
    ),
    # Dragonfly reads any flag from DFLY_<flag>; this keeps the password out of argv.
    env=(secret_env("DFLY_requirepass", secrets.CACHE.name, "cache-password"),),
    scratch_paths=("/tmp",),
)

BROKER = Datastore(
    name="broker",
    image=images.BROKER,
    user_id=101,  # the image's redpanda user
    ports=(("kafka", 9092), ("rpc", 33145), ("admin", 9644)),
    storage="2Gi",
    data_path="/var/lib/redpanda/data",
    cpu_request="200m",
    memory_request="256Mi",
    memory_limit="512Mi",
    probe=Probe({"httpGet": {"path": "/v1/status/ready", "port": 9644}}, startup_attempts=60),
    args=(
        "redpanda",
        "start",
        "--smp=1",
        "--memory=256M",
        "--reserve-memory=0M",
        # Shares its core with other pods: poll less aggressively, no pinning.
        "--overprovisioned",
        "--node-id=0",
        f"--seeds=broker-0.broker.{CLUSTER_DOMAIN}:33145",
        "--kafka-addr=internal://0.0.0.0:9092",
        f"--advertise-kafka-addr=internal://{BROKER_ADDRESS}",
        "--rpc-addr=0.0.0.0:33145",
        f"--advertise-rpc-addr=broker-0.broker.{CLUSTER_DOMAIN}:33145",
        "--set=redpanda.auto_create_topics_enabled=false",
        "--set=redpanda.empty_seed_starts_cluster=true",
        "--default-log-level=warn",
    ),
    # rpk writes the effective redpanda.yaml at start.
    scratch_paths=("/etc/redpanda",),
)

_STORAGE_START = """\
cat > /tmp/s3.json <<EOF
{"identities": [{"name": "phasma",
  "credentials": [{"accessKey": "$S3_ACCESS_KEY", "secretKey": "$S3_SECRET_KEY"}],
  "actions": ["Admin", "Read", "List", "Tagging", "Write"]}]}
EOF
exec weed server -dir=/data -ip=storage-0.storage.{domain} -ip.bind=0.0.0.0 \\
  -master.volumeSizeLimitMB=1024 -volume.max=0 -s3 -s3.port=8333 -s3.config=/tmp/s3.json
""".replace("{domain}", CLUSTER_DOMAIN)

STORAGE = Datastore(
    name="storage",
    image=images.STORAGE,
    user_id=65532,
    ports=(("s3", 8333),),
    storage="5Gi",
    data_path="/data",
    cpu_request="100m",
    memory_request="128Mi",
    memory_limit="256Mi",
    probe=Probe(tcp(8333)),
    # The S3 identity is rendered from storage-secret into the scratch volume at start.
    command=("/bin/sh", "-c", _STORAGE_START),
    env=(
        secret_env("S3_ACCESS_KEY", secrets.STORAGE.name, "s3-access-key"),
        secret_env("S3_SECRET_KEY", secrets.STORAGE.name, "s3-secret-key"),
    ),
    scratch_paths=("/tmp",),
)

# Not `search`: that name belongs to the search function's Knative Service.
SEARCH = Datastore(
    name="meilisearch",
    image=images.SEARCH,
    user_id=1000,
    ports=(("http", 7700),),
    storage="1Gi",
    data_path="/meili_data",
    cpu_request="100m",
    memory_request="256Mi",
    memory_limit="512Mi",
    probe=Probe({"httpGet": {"path": "/health", "port": 7700}}),
    env=(
        literal_env("MEILI_ENV", "production"),
        literal_env("MEILI_DB_PATH", "/meili_data/data.ms"),
        literal_env("MEILI_NO_ANALYTICS", "true"),
        secret_env("MEILI_MASTER_KEY", secrets.SEARCH_MASTER.name, "search-master-key"),
    ),
    scratch_paths=("/tmp",),
)

ALL = (STORAGE, CACHE, SEARCH, BROKER, POSTGRES)
