"""Network policies of docs/operations.md §3.2: deny by default, then allow each known path.

Every connection needs an egress rule on the client and an ingress rule on the server;
both are generated from one table (`ACCESS`), keyed on the `phasma.dev/uses-*` pod
labels that `environment.network_labels` puts on functions and Jobs.

The Knative namespaces are the upstream defaults with the Kourier ingress; a cluster
using another ingress changes `GATEWAY_NAMESPACE`.

The API server is no pod, so the one client allowed to reach it (setup-search, label
`phasma.dev/uses-kubernetes-api`) gets egress by address and port instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from phasma.deploy.kubernetes import (
    DATABASE_OWNER,
    EXPOSURE,
    FUNCTION_KIND,
    ROLE,
    USES_BROKER,
    USES_CACHE,
    USES_DATABASE,
    USES_KUBERNETES_API,
    USES_MAIL,
    USES_SEARCH,
    USES_STORAGE,
    Manifest,
    metadata,
    selector_labels,
)

KNATIVE_SERVING_NAMESPACE = "knative-serving"
GATEWAY_NAMESPACE = "kourier-system"
EVENTING_NAMESPACE = "knative-eventing"
# queue-proxy: 8012 HTTP/1, 8013 HTTP/2, 8022 admin, 9090 autoscaler and 9091 user metrics.
QUEUE_PROXY_PORTS = (8012, 8013, 8022, 9090, 9091)
# Of those, what carries requests (a CloudEvent delivery) and what only the serving
# control plane uses (admin, autoscaler metrics, user metrics).
DELIVERY_PORTS = (8012, 8013)
SERVING_CONTROL_PORTS = (8022, 9090, 9091)
# What the frontend dials to reach a cluster-local Service: the activator (8012, 8013)
# or Kourier's internal listeners (8081 HTTP, 8444 HTTPS).
INTERNAL_GATEWAY_PORTS = (8012, 8013, 8081, 8444)
# NetworkPolicy sees the API server's endpoint after the `kubernetes` Service is
# translated, so the rule names its real port: 6443 (kubeadm, kind, k3s) or 443
# (most managed clusters). Its address differs per cluster: narrow the CIDR to what
# `kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes` shows.
KUBERNETES_API_PORTS = (443, 6443)
KUBERNETES_API_CIDR = "0.0.0.0/0"
# The mail server is outside the cluster (a provider's relay): SMTP, submission with
# STARTTLS, submission over TLS. Narrow the CIDR to the relay's addresses where known.
SMTP_PORTS = (25, 465, 587)
SMTP_CIDR = "0.0.0.0/0"


@dataclass(frozen=True)
class ClientGroup:
    """Pods allowed to reach one data service, by label."""

    name: str
    selector: dict[str, str]


@dataclass(frozen=True)
class Access:
    """Who may reach one data service's port."""

    server: str
    port: int
    clients: tuple[ClientGroup, ...]
    namespaces: tuple[str, ...] = ()


ACCESS = (
    Access("pooler", 6432, (ClientGroup("database-users", {USES_DATABASE: "true"}),)),
    Access(
        "postgres",
        5432,
        (
            ClientGroup("pooler", selector_labels("pooler")),
            ClientGroup("database-owner", {DATABASE_OWNER: "true"}),
        ),
    ),
    Access("cache", 6379, (ClientGroup("cache-users", {USES_CACHE: "true"}),)),
    Access("storage", 8333, (ClientGroup("storage-users", {USES_STORAGE: "true"}),)),
    Access("meilisearch", 7700, (ClientGroup("search-users", {USES_SEARCH: "true"}),)),
    # The KafkaSource dispatcher and KafkaSink receiver live in knative-eventing.
    Access(
        "broker",
        9092,
        (ClientGroup("broker-users", {USES_BROKER: "true"}),),
        namespaces=(EVENTING_NAMESPACE,),
    ),
)


def policy(name: str, spec: dict[str, Any]) -> Manifest:
    """A NetworkPolicy in the phasma namespace."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(name, "network-policy"),
        "spec": spec,
    }


def namespace_peer(namespace: str) -> dict[str, Any]:
    """A peer matching every pod of `namespace`."""
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}


def tcp_ports(*ports: int) -> list[dict[str, Any]]:
    """TCP port entries of a rule."""
    return [{"protocol": "TCP", "port": port} for port in ports]


def baseline() -> list[Manifest]:
    """Default deny in both directions, and DNS for everyone."""
    return [
        policy("default-deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
        policy(
            "allow-dns",
            {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [
                            {
                                **namespace_peer("kube-system"),
                                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                            }
                        ],
                        "ports": [
                            {"protocol": "UDP", "port": 53},
                            {"protocol": "TCP", "port": 53},
                        ],
                    }
                ],
            },
        ),
    ]


def functions() -> list[Manifest]:
    """Function pods hear only the Knative data plane; the frontend talks only to it.

    Event functions get a policy of their own (docs/security.md §7). A KafkaSource or
    PingSource delivery leaves its dispatcher in `knative-eventing` for the Service's
    cluster-local address, which Knative Serving resolves to the internal gateway; the
    gateway (or the activator) then dials the pod. So the pod itself only ever sees the
    gateway and the activator, and the eventing namespace is admitted on the first hop:
    nothing in `phasma` but the frontend may dial the gateway (the egress rule below).
    The event policy admits only delivery (8012/8013) from that path and the serving
    control plane's admin and metrics ports, never the eventing pods directly.
    """
    knative = [namespace_peer(KNATIVE_SERVING_NAMESPACE), namespace_peer(GATEWAY_NAMESPACE)]
    not_event = {"key": FUNCTION_KIND, "operator": "NotIn", "values": ["event"]}
    return [
        policy(
            "functions-from-knative",
            {
                "podSelector": {
                    "matchLabels": {ROLE: "function"},
                    "matchExpressions": [not_event],
                },
                "policyTypes": ["Ingress"],
                "ingress": [{"from": knative, "ports": tcp_ports(*QUEUE_PROXY_PORTS)}],
            },
        ),
        policy(
            "event-functions-from-eventing-delivery",
            {
                "podSelector": {"matchLabels": {ROLE: "function", FUNCTION_KIND: "event"}},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {"from": knative, "ports": tcp_ports(*DELIVERY_PORTS)},
                    {
                        "from": [namespace_peer(KNATIVE_SERVING_NAMESPACE)],
                        "ports": tcp_ports(*SERVING_CONTROL_PORTS),
                    },
                ],
            },
        ),
        policy(
            "public-functions-to-internal-gateway",
            {
                "podSelector": {"matchLabels": {ROLE: "function", EXPOSURE: "public"}},
                "policyTypes": ["Egress"],
                "egress": [{"to": knative, "ports": tcp_ports(*INTERNAL_GATEWAY_PORTS)}],
            },
        ),
    ]


def kubernetes_api() -> list[Manifest]:
    """Egress to the API server for pods labelled as its clients (setup-search only)."""
    return [
        policy(
            "kubernetes-api-users-to-kubernetes-api",
            {
                "podSelector": {"matchLabels": {USES_KUBERNETES_API: "true"}},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [{"ipBlock": {"cidr": KUBERNETES_API_CIDR}}],
                        "ports": tcp_ports(*KUBERNETES_API_PORTS),
                    }
                ],
            },
        )
    ]


def mail_server() -> list[Manifest]:
    """Egress to the outside mail server for pods labelled as its clients (the mailer)."""
    return [
        policy(
            "mail-users-to-smtp",
            {
                "podSelector": {"matchLabels": {USES_MAIL: "true"}},
                "policyTypes": ["Egress"],
                "egress": [
                    {"to": [{"ipBlock": {"cidr": SMTP_CIDR}}], "ports": tcp_ports(*SMTP_PORTS)}
                ],
            },
        )
    ]


def data_services() -> list[Manifest]:
    """For each data service: ingress from its clients, and each client group's egress."""
    result = []
    for access in ACCESS:
        peers = [{"podSelector": {"matchLabels": group.selector}} for group in access.clients]
        peers += [namespace_peer(namespace) for namespace in access.namespaces]
        result.append(
            policy(
                f"{access.server}-ingress",
                {
                    "podSelector": {"matchLabels": selector_labels(access.server)},
                    "policyTypes": ["Ingress"],
                    "ingress": [{"from": peers, "ports": tcp_ports(access.port)}],
                },
            )
        )
        server = {"podSelector": {"matchLabels": selector_labels(access.server)}}
        result += [
            policy(
                f"{group.name}-to-{access.server}",
                {
                    "podSelector": {"matchLabels": group.selector},
                    "policyTypes": ["Egress"],
                    "egress": [{"to": [server], "ports": tcp_ports(access.port)}],
                },
            )
            for group in access.clients
        ]
    return result


def all_policies() -> list[Manifest]:
    """Every NetworkPolicy of the namespace."""
    return [*baseline(), *functions(), *kubernetes_api(), *mail_server(), *data_services()]
