"""`./taskw deploy` follows the rollout order of docs/operations.md §4 and fails in one line."""

from __future__ import annotations

import base64
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml

from phasma.deploy import manifests, rollout, secrets
from phasma.registry import FUNCTIONS, Function, Scaling

FRONTEND = Function(
    "frontend",
    "http",
    "pages",
    Scaling(2, 10, 50, None, "250m", "1", "256Mi", "512Mi", 60),
    uses_database=False,
)
WORKER = Function(
    "feed-worker",
    "event",
    "fan-out",
    Scaling(1, 4, 10, None, "250m", "1", "128Mi", "256Mi", 120),
    topics=("entity-changes", "activity"),
)


class FakeKubectl:
    """Records kubectl calls; Secrets named in `existing` already exist."""

    def __init__(self, existing: set[str], context: bool = True) -> None:
        self.existing = existing
        self.context = context
        self.calls: list[tuple[str, ...]] = []
        self.inputs: list[str | None] = []

    def __call__(
        self, arguments: Sequence[str], stdin: str | None
    ) -> subprocess.CompletedProcess[str]:
        self.calls.append(tuple(arguments))
        self.inputs.append(stdin)
        status = 0
        if list(arguments[:3]) == ["-n", "phasma", "get"]:
            status = 0 if arguments[-1] in self.existing else 1
        if list(arguments) == ["config", "current-context"] and not self.context:
            status = 1
        return subprocess.CompletedProcess(list(arguments), status, "", "")


def step(call: tuple[str, ...], stdin: str | None) -> str:
    """A readable name for one kubectl call."""
    if call[0] == "apply":
        applied = yaml.safe_load_all(stdin or "")
        return "apply " + " ".join(f"{d['kind']}/{d['metadata']['name']}" for d in applied)
    if "wait" in call or "rollout" in call:
        return "wait " + next(part for part in call if "/" in part and "--" not in part)
    if call[0] == "create":
        return "create secret"
    return " ".join(call)


def test_rollout_follows_the_operations_order() -> None:
    kubectl = FakeKubectl(existing={"database-tls", "database-ca"})
    files = manifests.build((*FUNCTIONS, WORKER, FRONTEND))
    rollout.Rollout(kubectl, log=lambda line: None).deploy(files)
    steps = [step(call, stdin) for call, stdin in zip(kubectl.calls, kubectl.inputs, strict=True)]

    def first(text: str) -> int:
        return next(index for index, name in enumerate(steps) if text in name)

    assert steps[0] == "apply Namespace/phasma"  # before anything in it
    assert first("create secret") < first("apply Service/storage")
    assert steps.count("create secret") == len(secrets.ALL) - 2  # the certificates existed
    for store in ("storage", "cache", "meilisearch", "broker"):
        assert first(f"wait statefulset/{store}") < first("StatefulSet/postgres")
    assert first("wait statefulset/postgres") < first("Deployment/pooler")
    assert first("wait deployment/pooler") < first("Job/migrate-")
    assert first("wait job/migrate-") < first("Service/users")
    # The backfill reads with the key setup-search writes, as the login migrate makes.
    assert first("wait job/setup-search-") < first("apply Job/search-reindex-")
    assert first("wait job/migrate-") < first("apply Job/search-reindex-")
    assert first("wait job/search-reindex-") < first("Service/users")
    assert first("wait ksvc/feed-worker") < first("KafkaSink/dead-letter")
    assert first("wait kafkasource/feed-worker") < first("Service/frontend")
    assert steps[-1] == "wait ksvc/frontend"


def test_existing_secrets_are_never_touched() -> None:
    kubectl = FakeKubectl(existing={template.name for template in secrets.ALL})
    rollout.Rollout(kubectl, log=lambda line: None).ensure_secrets()
    assert all(call[:4] == ("-n", "phasma", "get", "secret") for call in kubectl.calls)


def test_created_secrets_get_random_hex_values() -> None:
    first = rollout.random_secret(secrets.BACKEND)
    second = rollout.random_secret(secrets.BACKEND)
    value = first["stringData"]["session-hash-secret"]
    assert len(value) == 64 and int(value, 16) >= 0
    assert value != second["stringData"]["session-hash-secret"]
    assert secrets.TEMPLATE_ANNOTATION not in first["metadata"]["annotations"]


def test_a_failed_step_stops_with_kubectls_last_line() -> None:
    def failing(arguments: Sequence[str], stdin: str | None) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(list(arguments), 1, "", "warning\nerror: forbidden\n")

    with pytest.raises(rollout.DeployError, match="error: forbidden"):
        rollout.Rollout(failing, log=lambda line: None).deploy(manifests.build())


def test_preflight_needs_kubectl_and_a_context(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rollout.shutil, "which", lambda name: None)
    with pytest.raises(rollout.DeployError, match="kubectl not found"):
        rollout.preflight(FakeKubectl(set()))
    monkeypatch.setattr(rollout.shutil, "which", lambda name: f"/usr/bin/{name}")
    with pytest.raises(rollout.DeployError, match="no current context"):
        rollout.preflight(FakeKubectl(set(), context=False))
    rollout.preflight(FakeKubectl(set()))


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
def test_a_missing_database_certificate_is_self_signed() -> None:
    certificates: list[str] = []

    def kubectl(arguments: Sequence[str], stdin: str | None) -> subprocess.CompletedProcess[str]:
        if "tls" in arguments:
            certificate = next(a for a in arguments if a.startswith("--cert="))
            certificates.append(Path(certificate.removeprefix("--cert=")).read_text())
        status = 1 if "get" in arguments else 0
        return subprocess.CompletedProcess(list(arguments), status, "", "")

    rollout.Rollout(kubectl, log=lambda line: None).create_self_signed_tls(secrets.DATABASE_TLS)
    (certificate,) = certificates
    assert certificate.startswith("-----BEGIN CERTIFICATE-----")


def test_a_missing_database_ca_trusts_the_live_self_signed_certificate() -> None:
    certificate = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    created: list[str | None] = []

    def kubectl(arguments: Sequence[str], stdin: str | None) -> subprocess.CompletedProcess[str]:
        stdout = ""
        if "jsonpath={.data.tls\\.crt}" in arguments:
            assert arguments[:5] == ["-n", "phasma", "get", "secret", "database-tls"]
            stdout = base64.b64encode(certificate.encode()).decode()
        if arguments[0] == "create":
            created.append(stdin)
        return subprocess.CompletedProcess(list(arguments), 0, stdout, "")

    rollout.Rollout(kubectl, log=lambda line: None).create_database_ca()
    [manifest] = [yaml.safe_load(stdin or "") for stdin in created]
    assert manifest["metadata"]["name"] == "database-ca"
    assert manifest["stringData"] == {"ca.crt": certificate}
    assert secrets.TEMPLATE_ANNOTATION not in manifest["metadata"]["annotations"]


def test_a_database_ca_is_never_made_up_without_a_certificate() -> None:
    calls: list[Sequence[str]] = []

    def kubectl(arguments: Sequence[str], stdin: str | None) -> subprocess.CompletedProcess[str]:
        calls.append(arguments)
        return subprocess.CompletedProcess(list(arguments), 0, "", "")

    with pytest.raises(rollout.DeployError, match="create database-ca with the CA"):
        rollout.Rollout(kubectl, log=lambda line: None).create_database_ca()
    assert not [call for call in calls if call[0] == "create"]
