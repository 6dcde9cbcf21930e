"""The setup-search and search-reindex Jobs (docs/operations.md §4, docs/domain.md §6.2).

What each Job is given is checked in the manifests, and then by running the Job's own
command line against the environment those manifests resolve to, so a variable the code
reads but the Job lacks (or a misspelt name) fails here rather than in the cluster.
"""

from __future__ import annotations

import hashlib
import importlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from phasma.config import Settings
from phasma.deploy import environment, manifests, network
from phasma.in_cluster import ServiceAccount
from phasma.search import reindex, setup

INDEXER_URL_PREFIX = (
    "postgresql://phasma_indexer_user:$(INDEXER_DB_PASSWORD)@pooler.phasma.svc.cluster.local:6432/"
)


@pytest.fixture(scope="module")
def generated() -> list[dict[str, Any]]:
    return [
        document for file in manifests.build() for document in yaml.safe_load_all(file.render())
    ]


def jobs_by_family(documents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["labels"]["phasma.dev/job"]: d for d in documents if d["kind"] == "Job"}


def pod_specs(documents: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(`Kind/name`, pod spec) of every workload: Jobs, StatefulSets, Deployments, ksvcs.

    A Job is named by its family (`Job/setup-search`), not its checksummed name.
    """
    for document in documents:
        template = document.get("spec", {}).get("template")
        if template and "spec" in template:
            labels = document["metadata"]["labels"]
            name = labels.get("phasma.dev/job", document["metadata"]["name"])
            yield f"{document['kind']}/{name}", template["spec"]


def containers(pod_spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod_spec.get("initContainers", []), *pod_spec["containers"]]


def env_of(job: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (container,) = job["spec"]["template"]["spec"]["containers"]
    return {variable["name"]: variable for variable in container["env"]}


def placeholder(secret: str, key: str) -> str:
    """A stand-in Secret value: hex, like the real ones, and distinct per key."""
    return hashlib.sha256(f"{secret}/{key}".encode()).hexdigest()[:32]


def resolved_environment(job: dict[str, Any]) -> dict[str, str]:
    """The container's environment as the kubelet builds it, with stand-in Secret values."""
    (container,) = job["spec"]["template"]["spec"]["containers"]
    result: dict[str, str] = {}
    for variable in container["env"]:
        source = variable.get("valueFrom", {})
        if "configMapKeyRef" in source:
            value = environment.CONFIG_VALUES[source["configMapKeyRef"]["key"]]
        elif "secretKeyRef" in source:
            value = placeholder(source["secretKeyRef"]["name"], source["secretKeyRef"]["key"])
        else:
            # `$(NAME)` expands only to variables defined earlier in the same list.
            value = re.sub(r"\$\((\w+)\)", lambda match: result[match[1]], variable["value"])
        result[variable["name"]] = value
    return result


def test_only_setup_search_mounts_a_service_account_token(
    generated: list[dict[str, Any]],
) -> None:
    mounting = {
        workload
        for workload, spec in pod_specs(generated)
        if spec.get("automountServiceAccountToken") is not False
    }
    assert mounting == {"Job/setup-search"}
    setup_search = jobs_by_family(generated)["setup-search"]["spec"]["template"]["spec"]
    assert setup_search["automountServiceAccountToken"] is True
    # Nobody reaches a token another way: every account refuses automounting by default,
    # and no pod projects one into a volume.
    accounts = [d for d in generated if d["kind"] == "ServiceAccount"]
    assert {"job-setup-search", "job-search-reindex"} <= {a["metadata"]["name"] for a in accounts}
    assert all(account["automountServiceAccountToken"] is False for account in accounts)
    for workload, spec in pod_specs(generated):
        for volume in spec.get("volumes", []):
            assert "projected" not in volume, workload


def test_the_role_names_exactly_the_search_keys_secret(generated: list[dict[str, Any]]) -> None:
    rbac = [d for d in generated if d["apiVersion"].startswith("rbac.authorization.k8s.io/")]
    assert sorted(d["kind"] for d in rbac) == ["Role", "RoleBinding"]  # no ClusterRole
    role = next(d for d in rbac if d["kind"] == "Role")
    binding = next(d for d in rbac if d["kind"] == "RoleBinding")
    assert role["metadata"]["namespace"] == "phasma"
    assert role["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["secrets"],
            "resourceNames": ["search-keys"],
            "verbs": ["get", "patch"],
        }
    ]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    job = jobs_by_family(generated)["setup-search"]
    assert binding["subjects"] == [
        {
            "kind": "ServiceAccount",
            "name": job["spec"]["template"]["spec"]["serviceAccountName"],
            "namespace": "phasma",
        }
    ]


def test_the_role_can_patch_the_secret_deploy_creates(generated: list[dict[str, Any]]) -> None:
    # `create` cannot be limited to a name: the Secret must exist before the Job runs.
    assert "secrets/search-keys.yaml" in {file.path for file in manifests.build()}
    assert "create" not in next(d for d in generated if d["kind"] == "Role")["rules"][0]["verbs"]


def test_only_setup_search_and_meilisearch_get_the_master_key(
    generated: list[dict[str, Any]],
) -> None:
    by_name, by_secret = set(), set()
    for workload, spec in pod_specs(generated):
        for container in containers(spec):
            for variable in container.get("env", []):
                if variable["name"] == "MEILI_MASTER_KEY":
                    by_name.add(workload)
                reference = variable.get("valueFrom", {}).get("secretKeyRef", {})
                if reference.get("name") == "search-secret":
                    by_secret.add(workload)
    # Meilisearch itself is started with its master key; no function or other Job is.
    assert by_name == by_secret == {"Job/setup-search", "StatefulSet/meilisearch"}
    assert env_of(jobs_by_family(generated)["setup-search"])["MEILI_MASTER_KEY"] == {
        "name": "MEILI_MASTER_KEY",
        "valueFrom": {"secretKeyRef": {"name": "search-secret", "key": "search-master-key"}},
    }


def test_search_reindex_runs_as_the_indexer_with_the_indexer_key(
    generated: list[dict[str, Any]],
) -> None:
    env = env_of(jobs_by_family(generated)["search-reindex"])
    assert env["DATABASE_URL"]["value"].startswith(INDEXER_URL_PREFIX)
    assert env["INDEXER_DB_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "indexer-db-secret",
        "key": "indexer-db-password",
    }
    assert env["MEILI_INDEXER_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "search-keys",
        "key": "search-indexer-key",
    }
    assert not {"MEILI_MASTER_KEY", "MEILI_SEARCH_KEY", "APP_DB_PASSWORD"} & set(env)


def test_the_search_jobs_are_kept_so_re_applying_never_reruns_them(
    generated: list[dict[str, Any]],
) -> None:
    families = jobs_by_family(generated)
    for family in ("setup-search", "search-reindex"):
        assert "ttlSecondsAfterFinished" not in families[family]["spec"], family
    assert families["migrate"]["spec"]["ttlSecondsAfterFinished"] == 86_400
    assert families["search-reindex"]["spec"]["activeDeadlineSeconds"] == 3600


def test_the_search_jobs_reach_only_what_they_use(generated: list[dict[str, Any]]) -> None:
    policies = {d["metadata"]["name"]: d["spec"] for d in generated if d["kind"] == "NetworkPolicy"}
    egress = {
        tuple(sorted(spec["podSelector"].get("matchLabels", {}).items())): spec["egress"]
        for spec in policies.values()
        if spec["policyTypes"] == ["Egress"]
    }
    families = jobs_by_family(generated)
    uses = {
        family: {
            label
            for label in families[family]["spec"]["template"]["metadata"]["labels"]
            if label.startswith("phasma.dev/uses-")
        }
        for family in ("setup-search", "search-reindex")
    }
    assert uses == {
        "setup-search": {"phasma.dev/uses-search", "phasma.dev/uses-kubernetes-api"},
        "search-reindex": {"phasma.dev/uses-database", "phasma.dev/uses-search"},
    }
    (api_rule,) = egress[(("phasma.dev/uses-kubernetes-api", "true"),)]
    assert api_rule["ports"] == [
        {"protocol": "TCP", "port": 443},
        {"protocol": "TCP", "port": 6443},
    ]
    assert api_rule["to"] == [{"ipBlock": {"cidr": network.KUBERNETES_API_CIDR}}]
    (search_rule,) = egress[(("phasma.dev/uses-search", "true"),)]
    assert search_rule["to"] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "meilisearch"}}}
    ]
    (database_rule,) = egress[(("phasma.dev/uses-database", "true"),)]
    assert database_rule["to"] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "pooler"}}}
    ]
    assert database_rule["ports"] == [{"protocol": "TCP", "port": 6432}]
    # ...and the servers admit them.
    for server, label in (("meilisearch", "uses-search"), ("pooler", "uses-database")):
        (ingress,) = policies[f"{server}-ingress"]["ingress"]
        assert {"podSelector": {"matchLabels": {f"phasma.dev/{label}": "true"}}} in ingress["from"]


def test_the_reindex_runs_after_setup_search_and_before_the_functions() -> None:
    stages = {file.path: file.stage for file in manifests.build()}
    assert stages["jobs/setup-search.yaml"] == stages["jobs/migrate.yaml"] == manifests.Stage.JOBS
    assert stages["jobs/setup-search.yaml"] < stages["jobs/search-reindex.yaml"]
    assert stages["jobs/search-reindex.yaml"] < stages["functions/search-indexer.yaml"]
    assert stages["pooler.yaml"] < stages["jobs/setup-search.yaml"]


def test_setup_search_command_finds_every_variable_it_reads(
    generated: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    job = jobs_by_family(generated)["setup-search"]
    (container,) = job["spec"]["template"]["spec"]["containers"]
    python, flag, module, *arguments = container["command"]
    assert (python, flag, module) == ("python", "-m", "phasma.search.setup")
    assert importlib.import_module(module) is setup
    connected: list[tuple[str, str]] = []
    written: list[dict[str, str]] = []

    class Writer:
        def __init__(self, account: ServiceAccount, name: str) -> None:
            self.account = account
            assert name == "search-keys"

        def check_access(self) -> None:
            return

        def write(self, values: dict[str, str], annotations: dict[str, str]) -> None:
            written.append(values)

    account = ServiceAccount("token", "phasma", Path("ca.crt"))
    monkeypatch.setattr(setup, "connect", lambda url, key: connected.append((url, key)))
    monkeypatch.setattr(
        setup, "provision", lambda client, now: {"search": "s", "search-indexer": "i"}
    )
    monkeypatch.setattr(setup, "read_service_account", lambda: account)
    monkeypatch.setattr(setup, "SecretWriter", Writer)
    assert setup.main(arguments, resolved_environment(job)) == 0
    assert connected == [
        (
            environment.CONFIG_VALUES["MEILI_URL"],
            placeholder("search-secret", "search-master-key"),
        )
    ]
    assert written == [{"search-api-key": "s", "search-indexer-key": "i"}]


def test_search_reindex_command_finds_every_variable_it_reads(
    generated: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    job = jobs_by_family(generated)["search-reindex"]
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "-m", "phasma.search.reindex"]
    # Only the Job's own environment: nothing inherited from the machine running the tests.
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    for name, value in resolved_environment(job).items():
        monkeypatch.setenv(name, value)
    seen: list[Settings] = []
    monkeypatch.setattr(reindex, "reindex", lambda settings, out: seen.append(settings) or {})
    assert reindex.main() == 0
    (settings,) = seen
    password = placeholder("indexer-db-secret", "indexer-db-password")
    assert settings.database_url == (
        f"postgresql://phasma_indexer_user:{password}@pooler.phasma.svc.cluster.local:6432/"
        "phasma?sslmode=verify-full&sslrootcert=/etc/phasma/database-ca/ca.crt"
    )
    assert settings.meili_url == environment.CONFIG_VALUES["MEILI_URL"]
    assert settings.meili_indexer_key == placeholder("search-keys", "search-indexer-key")
    assert settings.meili_master_key is None
    assert settings.postgres_max_conns == int(environment.CONFIG_VALUES["POSTGRES_MAX_CONNS"])
