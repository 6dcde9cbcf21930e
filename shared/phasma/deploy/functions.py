"""One Knative Service per registered function (docs/operations.md §1, §3.1).

Every function runs the same image; `FUNCTION_SOURCE` picks its entry module. Scaling,
resources and timeouts come from the registry's `Scaling`; environment, Secrets and
network labels from `environment.needs_of`.
"""

from __future__ import annotations

from typing import Any

from phasma.deploy.environment import (
    ACTIVATOR_ALWAYS_IN_PATH,
    database_ca_mount,
    database_ca_volume,
    function_environment,
    is_public,
    needs_of,
    network_labels,
    trusted_proxy_hops,
)
from phasma.deploy.kubernetes import (
    EXPOSURE,
    FUNCTION_KIND,
    ROLE,
    SECRETS_CHECKSUM,
    Manifest,
    labels,
    metadata,
    resources,
    restricted_security_context,
    scratch_volume,
    secrets_checksum,
)
from phasma.registry import Function

FUNCTION_USER_ID = 65532
SCALE_DOWN_DELAY = "5m"
AUTOSCALING = "autoscaling.knative.dev"


def service_account_name(function: Function) -> str:
    """The function's own ServiceAccount (one per workload)."""
    return f"function-{function.name}"


def scaling_annotations(function: Function) -> dict[str, str]:
    """Knative autoscaling annotations of the revision template."""
    scaling = function.scaling
    annotations = {
        f"{AUTOSCALING}/min-scale": str(scaling.min_scale),
        f"{AUTOSCALING}/max-scale": str(scaling.max_scale),
        f"{AUTOSCALING}/target": str(scaling.target),
        # The first rollout must prove the revision can start, even for min-0 functions.
        f"{AUTOSCALING}/initial-scale": str(max(scaling.min_scale, 1)),
    }
    if scaling.min_scale == 0:
        # Bursty functions keep a pod for a while rather than cold-starting every burst.
        annotations[f"{AUTOSCALING}/scale-down-delay"] = SCALE_DOWN_DELAY
    if trusted_proxy_hops(needs_of(function)) is not None:
        # A fixed proxy chain, so TRUSTED_PROXY_HOPS names the client (environment.py).
        annotations |= ACTIVATOR_ALWAYS_IN_PATH
    return annotations


def probes() -> dict[str, Any]:
    """Readiness, liveness and startup probes on the serving port (port left to Knative).

    Readiness has no period so Knative probes aggressively during a cold start.
    """
    return {
        "readinessProbe": {"httpGet": {"path": "/ready"}},
        "livenessProbe": {
            "httpGet": {"path": "/health"},
            "periodSeconds": 10,
            "timeoutSeconds": 3,
            "failureThreshold": 3,
        },
        "startupProbe": {
            "httpGet": {"path": "/health"},
            "periodSeconds": 2,
            "failureThreshold": 30,
        },
    }


def pod_labels(function: Function) -> dict[str, str]:
    """Labels on the function's pods: role, exposure and the dependencies it reaches."""
    needs = needs_of(function)
    return labels(
        function.name,
        "function",
        {
            ROLE: "function",
            EXPOSURE: "public" if needs.public else "cluster-local",
            FUNCTION_KIND: function.kind,
            **network_labels(needs),
        },
    )


def knative_service(function: Function, image: str) -> Manifest:
    """The Knative Service of `function` running `image`."""
    scaling = function.scaling
    database = needs_of(function).database
    container: dict[str, Any] = {
        "name": "user-container",
        "image": image,
        "ports": [{"name": "http1", "containerPort": 8080}],
        "env": function_environment(function),
        "resources": resources(
            scaling.cpu_request, scaling.memory_request, scaling.memory_limit, scaling.cpu_limit
        ),
        **probes(),
        "securityContext": restricted_security_context(FUNCTION_USER_ID),
        "volumeMounts": [
            {"name": "tmp", "mountPath": "/tmp"},
            *([database_ca_mount()] if database else []),
        ],
    }
    pod_spec: dict[str, Any] = {
        "serviceAccountName": service_account_name(function),
        "automountServiceAccountToken": False,
        "timeoutSeconds": scaling.timeout_seconds,
    }
    if scaling.container_concurrency is not None:
        pod_spec["containerConcurrency"] = scaling.container_concurrency
    pod_spec |= {
        "containers": [container],
        "volumes": [scratch_volume("tmp"), *([database_ca_volume()] if database else [])],
    }
    visibility = (
        {} if is_public(function) else {"networking.knative.dev/visibility": "cluster-local"}
    )
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": metadata(
            function.name,
            "function",
            extra_labels=visibility,
            annotations={"phasma.dev/summary": function.summary},
        ),
        "spec": {
            "template": {
                "metadata": {
                    "labels": pod_labels(function),
                    "annotations": {
                        **scaling_annotations(function),
                        SECRETS_CHECKSUM: secrets_checksum(pod_spec),
                    },
                },
                "spec": pod_spec,
            }
        },
    }
