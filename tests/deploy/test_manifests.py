"""The generated Knative manifests: schema-valid, complete for the registry, and committed.

Core kinds are checked against the Kubernetes JSON schemas (kubernetes-validate, strict:
unknown fields fail). Knative Services and PingSources are checked against the
cloudcoil Knative models in pydantic strict mode; because those models *ignore* unknown
fields, each document must also survive a round trip (validate -> dump) unchanged, so a
misspelt or unsupported field fails. KafkaSource and KafkaSink use the project's strict
models (`phasma.deploy.kafkasource`, `kafkasink`), which forbid unknown fields outright.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from pydantic import BaseModel, ValidationError

with warnings.catch_warnings():
    # cloudcoil's eventing package warns about its own Channel model on import.
    warnings.simplefilter("ignore", UserWarning)
    from cloudcoil.models.knative_eventing.sources.v1 import PingSource
    from cloudcoil.models.knative_serving.serving.v1 import Service as KnativeService

from phasma.config import Settings
from phasma.deploy import environment, eventing, images, manifests, network, secrets
from phasma.deploy.kafkasink import KafkaSink
from phasma.deploy.kafkasource import KafkaSource
from phasma.deploy.kubernetes import secrets_checksum
from phasma.registry import FUNCTIONS, Function, Scaling, get_function

# The oldest Kubernetes minor the manifests must work on (Knative 1.17 supports 1.30+).
KUBERNETES_VERSION = "1.30"
KNATIVE_GROUPS = ("serving.knative.dev/", "sources.knative.dev/", "eventing.knative.dev/")

# Functions the spec names but the registry does not have yet: they exercise the event,
# schedule, public and object-store paths of the generator.
LIGHT = Scaling(1, 4, 10, None, "100m", "500m", "128Mi", "256Mi", 60)
FUTURE_FUNCTIONS = (
    Function(
        "frontend",
        "http",
        "pages",
        Scaling(2, 10, 50, None, "250m", "1", "256Mi", "512Mi", 60),
        uses_database=False,
    ),
)
EVERY_FUNCTION = (*FUNCTIONS, *FUTURE_FUNCTIONS)


def documents(files: list[manifests.ManifestFile]) -> Iterator[dict[str, Any]]:
    """Every document as read back from its rendered YAML."""
    for file in files:
        yield from yaml.safe_load_all(file.render())


def kind_of(document: dict[str, Any]) -> str:
    return f"{document['kind']}.{document['apiVersion'].split('/')[0]}"


@pytest.fixture(scope="module")
def committed() -> list[dict[str, Any]]:
    return list(documents(manifests.build()))


@pytest.fixture(scope="module")
def complete() -> list[dict[str, Any]]:
    """The manifests of a registry holding every function of the spec's kinds."""
    return list(documents(manifests.build(EVERY_FUNCTION)))


def knative_services(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if kind_of(d) == "Service.serving.knative.dev"}


def container_env(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    container = service["spec"]["template"]["spec"]["containers"][0]
    return {variable["name"]: variable for variable in container["env"]}


def assert_strict(model: type[BaseModel], document: dict[str, Any]) -> None:
    """Strict validation plus an unchanged round trip: nothing ignored, nothing coerced."""
    parsed = model.model_validate_json(json.dumps(document), strict=True)
    dumped = parsed.model_dump(mode="json", by_alias=True, exclude_unset=True)
    assert dumped == document, f"{document['kind']} {document['metadata']['name']}: fields lost"


def test_the_committed_knative_directory_is_fresh() -> None:
    stale = manifests.differences(manifests.build())
    assert not stale, f"knative/ is stale ({', '.join(stale)}): run ./taskw manifests"


def test_every_file_parses_and_every_document_names_its_kind(
    committed: list[dict[str, Any]],
) -> None:
    for path in sorted(manifests.OUTPUT_DIRECTORY.rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            assert {"apiVersion", "kind"} <= set(document), path
    assert committed


@pytest.mark.parametrize("registry", ["committed", "complete"])
def test_core_kinds_match_the_kubernetes_schemas(
    registry: str, request: pytest.FixtureRequest
) -> None:
    core = [
        d
        for d in request.getfixturevalue(registry)
        if not d["apiVersion"].startswith((*KNATIVE_GROUPS, "kustomize"))
    ]
    assert {d["kind"] for d in core} >= {
        "StatefulSet",
        "Deployment",
        "Job",
        "NetworkPolicy",
        "ServiceAccount",
        "Role",
        "RoleBinding",
    }
    assert {d["metadata"]["labels"]["phasma.dev/job"] for d in core if d["kind"] == "Job"} == {
        "migrate",
        "setup-broker",
        "setup-storage",
        "setup-search",
        "search-reindex",
    }
    for document in core:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_the_strict_schemas_reject_unknown_fields() -> None:
    namespace = manifests.namespace()
    namespace["metadata"]["lables"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(namespace, KUBERNETES_VERSION, strict=True)
    service = knative_services(list(documents(manifests.build())))["users"]
    service["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(AssertionError, match="fields lost"):
        assert_strict(KnativeService, service)


def test_knative_services_match_the_serving_models(complete: list[dict[str, Any]]) -> None:
    services = knative_services(complete)
    assert set(services) == {function.name for function in EVERY_FUNCTION}
    for service in services.values():
        assert_strict(KnativeService, service)


def test_knative_pod_specs_are_valid_kubernetes_pod_specs(complete: list[dict[str, Any]]) -> None:
    # Knative fills in the serving port of HTTP probes; a plain Pod needs it spelled out.
    knative_only = ("containerConcurrency", "timeoutSeconds")
    for service in knative_services(complete).values():
        template = json.loads(json.dumps(service["spec"]["template"]))  # fixture stays intact
        spec = {k: v for k, v in template["spec"].items() if k not in knative_only}
        for container in spec["containers"]:
            for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                container[probe]["httpGet"]["port"] = 8080
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": template["metadata"], "spec": spec}
        kubernetes_validate.validate(pod, KUBERNETES_VERSION, strict=True)


def test_eventing_objects_match_their_models(complete: list[dict[str, Any]]) -> None:
    models: dict[str, type[BaseModel]] = {
        "PingSource.sources.knative.dev": PingSource,
        "KafkaSource.sources.knative.dev": KafkaSource,
        "KafkaSink.eventing.knative.dev": KafkaSink,
    }
    eventing_documents = [d for d in complete if kind_of(d) in models]
    assert Counter(kind_of(d) for d in eventing_documents) == {
        "PingSource.sources.knative.dev": 2,
        # notifications-worker, feed-worker, search-indexer, mailer, exporter, account-remover
        "KafkaSource.sources.knative.dev": 6,
        "KafkaSink.eventing.knative.dev": 1,
    }
    for document in eventing_documents:
        assert_strict(models[kind_of(document)], document)


def test_the_kafka_models_reject_unknown_and_invalid_fields() -> None:
    source = eventing.kafka_source(get_function("search-indexer"))
    KafkaSource.model_validate(source)
    for *parents, field, value in (
        ("spec", "consumerGroupId", "x"),
        ("spec", "initialOffset", "newest"),
        ("spec", "delivery", "backoffDelay", "500ms"),
        ("spec", "consumers", "1"),
    ):
        broken = json.loads(json.dumps(source))
        target = broken
        for key in parents:
            target = target[key]
        target[field] = value
        with pytest.raises(ValidationError):
            KafkaSource.model_validate(broken)
    sink = eventing.dead_letter_sink()
    sink["spec"]["partitions"] = 1
    with pytest.raises(ValidationError):
        KafkaSink.model_validate(sink)


def test_every_registered_function_has_exactly_one_service(
    committed: list[dict[str, Any]],
) -> None:
    names = Counter(
        d["metadata"]["name"] for d in committed if kind_of(d) == "Service.serving.knative.dev"
    )
    assert names == Counter(function.name for function in FUNCTIONS)


def test_every_event_function_has_exactly_one_source(complete: list[dict[str, Any]]) -> None:
    sources = Counter(
        d["spec"]["sink"]["ref"]["name"]
        for d in complete
        if d["kind"] in ("KafkaSource", "PingSource")
    )
    events = [function for function in EVERY_FUNCTION if function.kind == "event"]
    assert sources == Counter(function.name for function in events)


def test_kafka_sources_follow_the_delivery_contract(complete: list[dict[str, Any]]) -> None:
    source = next(
        d for d in complete if d["kind"] == "KafkaSource" and d["metadata"]["name"] == "feed-worker"
    )
    spec = source["spec"]
    assert spec["consumerGroup"] == "phasma-feed-worker"
    assert spec["topics"] == ["entity-changes", "activity"]
    assert (spec["initialOffset"], spec["ordering"], spec["consumers"]) == (
        "earliest",
        "ordered",
        1,
    )
    assert (
        source["metadata"]["annotations"]["kafka.eventing.knative.dev/delivery.order"] == "ordered"
    )
    assert spec["delivery"] == {
        "retry": 10,
        "backoffPolicy": "exponential",
        "backoffDelay": "PT0.5S",
        "deadLetterSink": {
            "ref": {
                "apiVersion": "eventing.knative.dev/v1alpha1",
                "kind": "KafkaSink",
                "name": "dead-letter",
            }
        },
    }
    assert spec["sink"]["ref"] == {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "name": "feed-worker",
    }


def test_ping_sources_exist_only_for_registered_targets(complete: list[dict[str, Any]]) -> None:
    pings = {d["metadata"]["name"]: d["spec"] for d in complete if d["kind"] == "PingSource"}
    assert pings["outbox-relay-sweep"]["schedule"] == "* * * * *"
    assert json.loads(pings["outbox-relay-sweep"]["data"]) == {"task": "outbox-sweep"}
    assert pings["janitor-hourly"]["schedule"] == "17 * * * *"
    assert json.loads(pings["janitor-hourly"]["data"]) == {"task": "all"}
    assert pings["janitor-hourly"]["sink"]["ref"]["name"] == "janitor"
    not_events = [function for function in FUNCTIONS if function.kind != "event"]
    assert eventing.ping_sources(not_events) == []
    assert eventing.kafka_sinks(not_events) == []


def test_scaling_follows_the_registry(complete: list[dict[str, Any]]) -> None:
    services = knative_services(complete)
    for function in EVERY_FUNCTION:
        scaling = function.scaling
        template = services[function.name]["spec"]["template"]
        annotations = template["metadata"]["annotations"]
        assert annotations["autoscaling.knative.dev/min-scale"] == str(scaling.min_scale)
        assert annotations["autoscaling.knative.dev/max-scale"] == str(scaling.max_scale)
        assert annotations["autoscaling.knative.dev/target"] == str(scaling.target)
        assert annotations["autoscaling.knative.dev/initial-scale"] == str(
            max(scaling.min_scale, 1)
        )
        delay = annotations.get("autoscaling.knative.dev/scale-down-delay")
        assert delay == ("5m" if scaling.min_scale == 0 else None)
        spec = template["spec"]
        assert spec.get("containerConcurrency") == scaling.container_concurrency
        assert spec["timeoutSeconds"] == scaling.timeout_seconds
        assert spec["containers"][0]["resources"] == {
            "requests": {"cpu": scaling.cpu_request, "memory": scaling.memory_request},
            "limits": {"memory": scaling.memory_limit, "cpu": scaling.cpu_limit},
        }


def test_only_the_frontend_is_public(complete: list[dict[str, Any]]) -> None:
    for name, service in knative_services(complete).items():
        visibility = service["metadata"]["labels"].get("networking.knative.dev/visibility")
        assert visibility == (None if name == "frontend" else "cluster-local")


def test_functions_run_the_one_image_restricted(complete: list[dict[str, Any]]) -> None:
    for name, service in knative_services(complete).items():
        spec = service["spec"]["template"]["spec"]
        container = spec["containers"][0]
        assert container["image"] == images.function_image()
        env = container_env(service)
        assert env["FUNCTION_SOURCE"]["value"] == f"functions/{name}/main.py"
        assert env["FUNCTION_TARGET"]["value"] == "handle"
        context = container["securityContext"]
        assert context["runAsUser"] == 65532 and context["runAsNonRoot"] is True
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert spec["volumes"][0] == {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}
        assert [volume for volume in spec["volumes"][1:] if "secret" not in volume] == []
        assert spec["automountServiceAccountToken"] is False
        assert container["livenessProbe"] == {
            "httpGet": {"path": "/health"},
            "periodSeconds": 10,
            "timeoutSeconds": 3,
            "failureThreshold": 3,
        }
        assert container["readinessProbe"] == {"httpGet": {"path": "/ready"}}


def test_every_function_source_exists_in_the_image_context() -> None:
    for function in FUNCTIONS:
        assert (manifests.REPOSITORY_ROOT / function.source).is_file(), function.source


# Settings whose default cannot work in the cluster, and who must be given them.
REQUIRED_IN_CLUSTER = {
    "DATABASE_URL": lambda needs: needs.database,
    "SESSION_HASH_SECRET": lambda needs: needs.sessions_and_cache or needs.mail,
    "CACHE_URL": lambda needs: needs.sessions_and_cache,
    "CACHE_PASSWORD": lambda needs: needs.sessions_and_cache,
    "TRUSTED_PROXY_HOPS": lambda needs: needs.sessions_and_cache or needs.public,
    "S3_ENDPOINT": lambda needs: needs.object_store,
    "S3_BUCKET": lambda needs: needs.object_store,
    "S3_REGION": lambda needs: needs.object_store,
    "S3_ACCESS_KEY": lambda needs: needs.object_store,
    "S3_SECRET_KEY": lambda needs: needs.object_store,
    "KAFKA_BROKERS": lambda needs: needs.broker,
    "MEILI_URL": lambda needs: needs.search,
    "PUBLIC_ORIGIN": lambda needs: needs.public,  # the default is the local stack's
    "SMTP_HOST": lambda needs: needs.mail,
    "SMTP_USERNAME": lambda needs: needs.mail,
    "SMTP_PASSWORD": lambda needs: needs.mail,
    "SITE_URL": lambda needs: needs.mail,  # the default is the local stack's
}
# docs/domain.md §6.2: each search function gets only its own scoped key; the master key
# belongs to the setup command and reaches no function.
SEARCH_KEY_OWNERS = {
    "MEILI_SEARCH_KEY": "search",
    "MEILI_INDEXER_KEY": "search-indexer",
    "MEILI_MASTER_KEY": None,
}
# Unset means "use the spec default", which is what the cluster wants.
OPTIONAL_OVERRIDES = {
    name.upper() for name in Settings.model_fields if name.startswith("rate_limit_")
} - {"RATE_LIMIT_FAIL_OPEN"}
# The local gateway only: in the cluster the frontend uses BACKEND_URL_TEMPLATE.
OPTIONAL_OVERRIDES.add("BACKEND_URL")
# docs/security.md §9: unset keeps the public site's /metrics a 404; an operator who
# scrapes the frontend adds it (docs/operations.md, "Logs and metrics").
OPTIONAL_OVERRIDES.add("METRICS_TOKEN")


def test_every_setting_without_a_cluster_default_is_covered() -> None:
    for name, field in Settings.model_fields.items():
        variable = name.upper()
        if field.default is None and variable not in OPTIONAL_OVERRIDES | set(SEARCH_KEY_OWNERS):
            assert variable in REQUIRED_IN_CLUSTER, f"{variable}: who needs it in the cluster?"


def test_functions_get_every_variable_they_need(complete: list[dict[str, Any]]) -> None:
    services = knative_services(complete)
    for function in EVERY_FUNCTION:
        needs = environment.needs_of(function)
        env = container_env(services[function.name])
        for variable, needed in REQUIRED_IN_CLUSTER.items():
            assert (variable in env) == needed(needs), f"{function.name}: {variable}"
        for variable, owner in SEARCH_KEY_OWNERS.items():
            assert (variable in env) == (function.name == owner), f"{function.name}: {variable}"
    # Spot checks against the spec's tables.
    assert environment.needs_of(FUNCTIONS[0]).object_store  # users stores avatars
    frontend = container_env(services["frontend"])
    assert "SESSION_HASH_SECRET" not in frontend and "DATABASE_URL" not in frontend
    worker = container_env(services["feed-worker"])
    assert "SESSION_HASH_SECRET" not in worker and "CACHE_URL" not in worker
    indexer = container_env(services["search-indexer"])
    assert indexer["DATABASE_URL"]["value"].startswith("postgresql://phasma_indexer_user:")
    assert "MEILI_INDEXER_KEY" in indexer and "MEILI_SEARCH_KEY" not in indexer


def test_each_function_trusts_exactly_the_knative_proxies_in_front_of_it(
    complete: list[dict[str, Any]],
) -> None:
    # docs/api.md §A.1: with the activator always in the path (target-burst-capacity -1),
    # Envoy (use-remote-address), the activator and queue-proxy each append one entry;
    # a backend also sees the frontend's, which replaced whatever the browser sent.
    services = knative_services(complete)
    for function in EVERY_FUNCTION:
        service = services[function.name]
        annotations = service["spec"]["template"]["metadata"]["annotations"]
        hops = container_env(service).get("TRUSTED_PROXY_HOPS", {}).get("value")
        burst = annotations.get("autoscaling.knative.dev/target-burst-capacity")
        if function.name == "frontend":
            assert (hops, burst) == ("3", "-1")
        elif function.kind == "http":
            assert (hops, burst) == ("4", "-1"), function.name
        else:
            assert (hops, burst) == (None, None), function.name  # event functions serve no client


def test_database_urls_expand_a_password_defined_before_them(
    complete: list[dict[str, Any]],
) -> None:
    for service in knative_services(complete).values():
        env = list(container_env(service))
        for position, name in enumerate(env):
            value = container_env(service)[name].get("value", "")
            if "$(" in value:
                referenced = value.split("$(")[1].split(")")[0]
                assert referenced in env[:position], f"{name} uses {referenced} before it is set"


def test_every_database_client_verifies_the_server_against_the_mounted_ca(
    complete: list[dict[str, Any]],
) -> None:
    # docs/domain.md §1.3: sslmode=require would accept any server; verify-full checks the
    # chain against the database-ca Secret and the host name, so no spoofed pooler or
    # PostgreSQL ever sees a password.
    pods = [service["spec"]["template"]["spec"] for service in knative_services(complete).values()]
    pods += [d["spec"]["template"]["spec"] for d in complete if d["kind"] in ("Job", "Deployment")]
    clients = 0
    for pod in pods:
        ca_volumes = {
            volume["name"]
            for volume in pod.get("volumes", [])
            if volume.get("secret", {}).get("secretName") == secrets.DATABASE_CA.name
        }
        for container in [*pod.get("initContainers", []), *pod["containers"]]:
            for variable in container["env"]:
                if not variable["name"].endswith("DATABASE_URL"):
                    continue
                clients += 1
                query = variable["value"].split("?", 1)[1]
                assert query == f"sslmode=verify-full&sslrootcert={environment.DATABASE_CA_FILE}"
                mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
                assert mounts[environment.DATABASE_CA_DIRECTORY] in ca_volumes, container["name"]
    assert clients >= 3  # functions, the migrate Job's two containers, search-reindex
    pooler_config = next(
        d for d in complete if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "pooler-config"
    )["data"]["pgbouncer.ini"]
    assert "server_tls_sslmode = verify-full\n" in pooler_config
    assert "server_tls_ca_file = /etc/pgbouncer/ca/ca.crt\n" in pooler_config


def test_references_resolve_to_the_config_map_and_secret_templates(
    complete: list[dict[str, Any]],
) -> None:
    config = next(
        d for d in complete if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "phasma-config"
    )
    secret_keys = {template.name: set(template.keys) for template in secrets.ALL}

    def walk(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            yield node
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    for node in walk(complete):
        if "configMapKeyRef" in node:
            assert node["configMapKeyRef"]["key"] in config["data"]
        if "secretKeyRef" in node:
            reference = node["secretKeyRef"]
            assert reference["key"] in secret_keys[reference["name"]], reference
        if "secretName" in node:
            assert node["secretName"] in secret_keys


def test_secret_templates_hold_no_values_and_stay_out_of_the_kustomization() -> None:
    files = manifests.build()
    for file in files:
        if file.is_secret_template:
            (document,) = file.documents
            assert set(document["stringData"].values()) == {""}
    kustomization = files[-1].documents[0]
    assert not any(path.startswith("secrets/") for path in kustomization["resources"])
    listed = set(kustomization["resources"])
    generated = {
        f.path for f in files if not f.is_secret_template and f.path != "kustomization.yaml"
    }
    assert listed == generated


def test_the_secrets_checksum_follows_the_secrets_read() -> None:
    spec = {
        "containers": [
            {"env": [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}
        ]
    }
    other = {
        "containers": [
            {"env": [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": "j"}}}]}
        ]
    }
    assert secrets_checksum(spec) != secrets_checksum(other)
    assert secrets_checksum(spec) == secrets_checksum(json.loads(json.dumps(spec)))


def test_no_image_floats(complete: list[dict[str, Any]]) -> None:
    def image_references(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "image":
                    yield value
                else:
                    yield from image_references(value)
        elif isinstance(node, list):
            for value in node:
                yield from image_references(value)

    references = set(image_references(complete))
    containerfile = (manifests.OUTPUT_DIRECTORY / "Containerfile").read_text()
    references |= {
        line.split()[1] for line in containerfile.splitlines() if line.startswith("FROM ")
    }
    assert set(images.THIRD_PARTY) <= references
    for reference in references:
        name, _, tag = reference.rpartition(":")
        pinned = "@sha256:" in reference or (name and "/" not in tag and tag != "latest")
        assert pinned, f"{reference} is not pinned to a version or digest"


def test_database_connections_fit_the_pooler(complete: list[dict[str, Any]]) -> None:
    # docs/operations.md §5: the sum over functions of max-scale x POSTGRES_MAX_CONNS stays
    # under the pooler's max_client_conn.
    per_replica = int(environment.CONFIG_VALUES["POSTGRES_MAX_CONNS"])
    total = sum(f.scaling.max_scale * per_replica for f in EVERY_FUNCTION if f.uses_database)
    assert total < 1000


def test_every_dependency_label_has_an_egress_policy(complete: list[dict[str, Any]]) -> None:
    egress_selectors = [
        d["spec"]["podSelector"].get("matchLabels")
        for d in complete
        if d["kind"] == "NetworkPolicy" and d["spec"]["policyTypes"] == ["Egress"]
    ]
    workloads = [*knative_services(complete).values()]
    workloads += [d for d in complete if d["kind"] == "Job"]
    for workload in workloads:
        labels = workload["spec"]["template"]["metadata"]["labels"]
        for label in (key for key in labels if key.startswith("phasma.dev/uses-")):
            assert {label: "true"} in egress_selectors, label
    servers = {access.server for access in network.ACCESS}
    assert servers == {"pooler", "postgres", "cache", "storage", "meilisearch", "broker"}


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a NetworkPolicy podSelector (matchLabels, In/NotIn) selects `labels`."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        present = labels.get(expression["key"]) in expression["values"]
        if present != (expression["operator"] == "In"):
            return False
    return True


def test_event_functions_hear_only_eventing_deliveries_through_knative(
    complete: list[dict[str, Any]],
) -> None:
    # docs/security.md §7: a worker's ingress is the delivery path of the KafkaSource and
    # PingSource dispatchers (internal gateway, activator) and the serving control
    # plane's admin and metrics ports: no pod of phasma, no other namespace.
    ingress = [
        d
        for d in complete
        if d["kind"] == "NetworkPolicy" and "Ingress" in d["spec"]["policyTypes"]
    ]
    knative = {network.KNATIVE_SERVING_NAMESPACE, network.GATEWAY_NAMESPACE}
    events = 0
    for name, service in knative_services(complete).items():
        labels = service["spec"]["template"]["metadata"]["labels"]
        selecting = [d for d in ingress if _selects(d["spec"]["podSelector"], labels)]
        names = {d["metadata"]["name"] for d in selecting}
        rules = [rule for d in selecting for rule in d["spec"].get("ingress", [])]
        assert rules, name
        gateway_ports: set[int] = set()
        for rule in rules:
            for peer in rule["from"]:
                assert set(peer) == {"namespaceSelector"}, (name, peer)
                namespace = peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                assert namespace in knative, (name, namespace)
                if namespace == network.GATEWAY_NAMESPACE:
                    gateway_ports |= {entry["port"] for entry in rule["ports"]}
        if get_function(name).kind == "event":
            events += 1
            assert names == {"default-deny", "event-functions-from-eventing-delivery"}, name
            assert gateway_ports == {8012, 8013}  # requests only: the deliveries
        else:
            assert names == {"default-deny", "functions-from-knative"}, name
    assert events >= 4


def test_jobs_are_named_by_what_they_do(tmp_path: Path) -> None:
    before = {file.path: file.documents for file in manifests.build()}
    migrations = tmp_path / "migrations"
    shutil.copytree(manifests.MIGRATIONS_DIRECTORY, migrations)
    (migrations / "9999_extra.up.sql").write_text("SELECT 1;\n")
    after = {file.path: file.documents for file in manifests.build(migrations_directory=migrations)}
    name = lambda files, path: files[path][0]["metadata"]["name"]  # noqa: E731
    assert name(before, "jobs/migrate.yaml") != name(after, "jobs/migrate.yaml")
    assert name(before, "jobs/setup-broker.yaml") == name(after, "jobs/setup-broker.yaml")
    assert name(before, "jobs/migrate.yaml").startswith("migrate-")


def test_job_pods_carry_their_family_label(committed: list[dict[str, Any]]) -> None:
    # `kubectl logs -l phasma.dev/job=migrate` selects pods; Job labels are not copied.
    for job in (d for d in committed if d["kind"] == "Job"):
        family = job["metadata"]["labels"]["phasma.dev/job"]
        assert job["spec"]["template"]["metadata"]["labels"]["phasma.dev/job"] == family


@pytest.mark.skipif(
    shutil.which("kubectl") is None, reason="kubectl (with kustomize) not installed"
)
def test_the_kustomization_builds() -> None:
    result = subprocess.run(
        ["kubectl", "kustomize", str(manifests.OUTPUT_DIRECTORY)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    built = list(yaml.safe_load_all(result.stdout))
    assert all(d["metadata"].get("namespace", "phasma") == "phasma" for d in built)
    assert "Secret" not in {d["kind"] for d in built}
