"""Small builders for the Kubernetes shapes every manifest repeats.

Manifests are plain dicts (what `kubectl apply` reads), built here so that labels,
security contexts, scratch volumes and secret references look the same everywhere.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

Manifest = dict[str, Any]

NAMESPACE = "phasma"
PART_OF = "phasma"
CLUSTER_DOMAIN = f"{NAMESPACE}.svc.cluster.local"
CONFIG_MAP = "phasma-config"

# Label keys the network policies select on (network.py); values are always "true".
USES_DATABASE = "phasma.dev/uses-database"
USES_CACHE = "phasma.dev/uses-cache"
USES_STORAGE = "phasma.dev/uses-storage"
USES_BROKER = "phasma.dev/uses-broker"
USES_SEARCH = "phasma.dev/uses-search"
USES_KUBERNETES_API = "phasma.dev/uses-kubernetes-api"
USES_MAIL = "phasma.dev/uses-mail"
DATABASE_OWNER = "phasma.dev/database-owner"
ROLE = "phasma.dev/role"
EXPOSURE = "phasma.dev/exposure"
FUNCTION_KIND = "phasma.dev/function-kind"
SECRETS_CHECKSUM = "phasma.dev/secrets-checksum"

SCRATCH_SIZE = "256Mi"


def labels(name: str, component: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The recommended app.kubernetes.io labels plus `extra`."""
    result = {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PART_OF,
    }
    result.update(extra or {})
    return result


def metadata(
    name: str,
    component: str,
    *,
    extra_labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    namespaced: bool = True,
) -> dict[str, Any]:
    """Object metadata in the phasma namespace with the standard labels."""
    result: dict[str, Any] = {"name": name}
    if namespaced:
        result["namespace"] = NAMESPACE
    result["labels"] = labels(name, component, extra_labels)
    if annotations:
        result["annotations"] = dict(annotations)
    return result


def selector_labels(name: str) -> dict[str, str]:
    """The one label a workload's selector and its Service match on."""
    return {"app.kubernetes.io/name": name}


def restricted_security_context(
    user_id: int, *, read_only_root_filesystem: bool = True
) -> dict[str, Any]:
    """The container security context of docs/operations.md §3.1 (restricted profile)."""
    return {
        "runAsNonRoot": True,
        "runAsUser": user_id,
        "runAsGroup": user_id,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": read_only_root_filesystem,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def pod_security_context(group_id: int) -> dict[str, Any]:
    """Pod-level context for plain workloads: volumes group-owned by `group_id`."""
    return {
        "runAsNonRoot": True,
        "fsGroup": group_id,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def scratch_volume(name: str = "scratch", *, in_memory: bool = False) -> dict[str, Any]:
    """A 256Mi emptyDir: every writable path outside a PVC is one of these."""
    empty_dir: dict[str, Any] = {"sizeLimit": SCRATCH_SIZE}
    if in_memory:
        empty_dir["medium"] = "Memory"
    return {"name": name, "emptyDir": empty_dir}


def config_env(name: str, key: str | None = None) -> dict[str, Any]:
    """An env var read from the shared ConfigMap (key defaults to the variable's name)."""
    return {
        "name": name,
        "valueFrom": {"configMapKeyRef": {"name": CONFIG_MAP, "key": key or name}},
    }


def secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    """An env var read from one key of a Secret."""
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def literal_env(name: str, value: str) -> dict[str, Any]:
    """An env var with a fixed value."""
    return {"name": name, "value": value}


def resources(
    cpu_request: str, memory_request: str, memory_limit: str, cpu_limit: str | None = None
) -> dict[str, Any]:
    """Requests and limits; CPU is left unlimited where the spec gives only a request."""
    limits = {"memory": memory_limit}
    if cpu_limit is not None:
        limits["cpu"] = cpu_limit
    return {"requests": {"cpu": cpu_request, "memory": memory_request}, "limits": limits}


def secret_references(pod_spec: Mapping[str, Any]) -> list[str]:
    """Every `secret/key` (or `secret/*` for a mounted volume) a pod spec reads, sorted."""
    found: set[str] = set()
    containers = [*pod_spec.get("initContainers", []), *pod_spec.get("containers", [])]
    for container in containers:
        for variable in container.get("env", []):
            reference = variable.get("valueFrom", {}).get("secretKeyRef")
            if reference:
                found.add(f"{reference['name']}/{reference['key']}")
    for volume in pod_spec.get("volumes", []):
        if "secret" in volume:
            found.add(f"{volume['secret']['secretName']}/*")
    return sorted(found)


def secrets_checksum(pod_spec: Mapping[str, Any]) -> str:
    """Checksum of the Secret keys a pod reads, for its template annotation.

    The repository holds no secret values, so this covers which Secrets and keys are
    read: adding or removing one rolls the workload. A rotated *value* is rolled by the
    operator (docs/operations.md, "Rotate a secret").
    """
    return digest(secret_references(pod_spec))


def digest(value: Any, length: int = 16) -> str:
    """Short, stable sha256 of any JSON-serialisable value."""
    encoded = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()[:length]


def service_account(name: str, component: str) -> Manifest:
    """One ServiceAccount per workload; no API token is ever mounted."""
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata(name, component),
        "automountServiceAccountToken": False,
    }


def headless_service(name: str, ports: Iterable[tuple[str, int]]) -> Manifest:
    """The governing Service of a StatefulSet: stable DNS even before the pod is Ready."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(name, "datastore"),
        "spec": {
            "clusterIP": "None",
            "publishNotReadyAddresses": True,
            "selector": selector_labels(name),
            "ports": [
                {"name": port_name, "port": port, "targetPort": port, "protocol": "TCP"}
                for port_name, port in ports
            ],
        },
    }
