"""`./taskw deploy`: apply the manifests in the rollout order of docs/operations.md §4.

Secrets (created from their templates only when missing) -> storage, cache, search,
broker (wait Ready) -> PostgreSQL (wait) -> pooler -> Jobs (wait complete) -> the Jobs
that need their results, i.e. search-reindex (wait complete) -> backend and event
functions (wait Ready) -> KafkaSinks, KafkaSources, PingSources -> frontend.
Everything goes through `kubectl apply`, so applying unchanged manifests is a no-op.
"""

from __future__ import annotations

import base64
import secrets as random
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from phasma.deploy import secrets
from phasma.deploy.kubernetes import CLUSTER_DOMAIN, NAMESPACE, Manifest
from phasma.deploy.manifests import ManifestFile, Stage, to_yaml

Runner = Callable[[Sequence[str], str | None], subprocess.CompletedProcess[str]]

# kind -> (kubectl resource name, how to wait for it)
_WAITS: dict[str, tuple[str, str]] = {
    "StatefulSet": ("statefulset", "rollout"),
    "Deployment": ("deployment", "rollout"),
    "Job": ("job", "condition=complete"),
    "Service.serving.knative.dev": ("ksvc", "condition=Ready"),
    "KafkaSink": ("kafkasink", "condition=Ready"),
    "KafkaSource": ("kafkasource", "condition=Ready"),
    "PingSource": ("pingsource", "condition=Ready"),
}
# Names the self-signed database certificate must be valid for.
_DATABASE_HOSTS = (f"postgres-0.postgres.{CLUSTER_DOMAIN}", f"pooler.{CLUSTER_DOMAIN}")


class DeployError(Exception):
    """A deploy step failed; the message is the one line to show."""


def run_kubectl(
    arguments: Sequence[str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run kubectl and capture its output (never raises for a non-zero exit)."""
    return subprocess.run(
        ["kubectl", *arguments], input=stdin, capture_output=True, text=True, check=False
    )


def preflight(runner: Runner = run_kubectl) -> None:
    """Fail with one clear line unless kubectl exists and points at a cluster."""
    if shutil.which("kubectl") is None:
        raise DeployError("kubectl not found on PATH: install it and select the cluster's context")
    if runner(["config", "current-context"], None).returncode != 0:
        raise DeployError(
            "kubectl has no current context: select the cluster with "
            "`kubectl config use-context NAME`"
        )


class Rollout:
    """Applies generated files stage by stage through a kubectl runner."""

    def __init__(
        self,
        runner: Runner = run_kubectl,
        timeout: str = "180s",
        log: Callable[[str], object] = print,
    ) -> None:
        self.runner = runner
        self.timeout = timeout
        self.log = log

    def kubectl(self, *arguments: str, stdin: str | None = None) -> str:
        """Run kubectl, raising DeployError with its last error line on failure."""
        result = self.runner(list(arguments), stdin)
        if result.returncode != 0:
            lines = (result.stderr or result.stdout or "").strip().splitlines()
            reason = lines[-1] if lines else f"exit status {result.returncode}"
            raise DeployError(f"kubectl {' '.join(arguments[:3])}: {reason}")
        return result.stdout

    def deploy(self, files: Sequence[ManifestFile]) -> None:
        """Apply every file in stage order, waiting for each stage to be ready."""
        for stage in Stage:
            stage_files = [file for file in files if file.stage is stage]
            if stage is Stage.SECRETS:
                self.ensure_secrets()
                continue
            for file in stage_files:
                if file.path == "kustomization.yaml":
                    continue
                self.log(f"apply {file.path}")
                self.kubectl("apply", "-f", "-", stdin=file.render())
            for file in stage_files:
                for document in file.documents:
                    self.wait(document)

    def wait(self, document: Manifest) -> None:
        """Wait until `document` is rolled out, complete or Ready, as its kind requires."""
        kind = document["kind"]
        if kind == "Service" and document["apiVersion"].startswith("serving.knative.dev"):
            kind = "Service.serving.knative.dev"
        if kind not in _WAITS:
            return
        resource, how = _WAITS[kind]
        target = f"{resource}/{document['metadata']['name']}"
        self.log(f"wait  {target}")
        if how == "rollout":
            self.kubectl("-n", NAMESPACE, "rollout", "status", target, f"--timeout={self.timeout}")
        else:
            self.kubectl(
                "-n", NAMESPACE, "wait", f"--for={how}", target, f"--timeout={self.timeout}"
            )

    def ensure_secrets(self) -> None:
        """Create each missing Secret from its template; never touch an existing one."""
        for template in secrets.ALL:
            exists = self.runner(["-n", NAMESPACE, "get", "secret", template.name], None)
            if exists.returncode == 0:
                continue
            self.log(f"create secret {template.name}")
            if template.random_values:
                self.kubectl("create", "-f", "-", stdin=to_yaml(random_secret(template)))
            elif template.operator_filled:
                manifest = secrets.template(template)
                del manifest["metadata"]["annotations"][secrets.TEMPLATE_ANNOTATION]
                self.kubectl("create", "-f", "-", stdin=to_yaml(manifest))
                self.log(f"secret {template.name} is empty: fill it in (docs/operations.md)")
            elif template is secrets.DATABASE_CA:
                self.create_database_ca()
            else:
                self.create_self_signed_tls(template)

    def create_database_ca(self) -> None:
        """`database-ca` from the live `database-tls` certificate.

        Right for the self-signed certificate deploy makes (it is its own CA). An
        installation whose certificate a CA issued creates `database-ca` with that CA
        before deploying (docs/operations.md), and this never runs.
        """
        encoded = self.kubectl(
            "-n",
            NAMESPACE,
            "get",
            "secret",
            secrets.DATABASE_TLS.name,
            "-o",
            "jsonpath={.data.tls\\.crt}",
        )
        certificate = base64.b64decode(encoded.strip()).decode()
        if "-----BEGIN CERTIFICATE-----" not in certificate:
            raise DeployError(
                f"Secret {secrets.DATABASE_TLS.name} holds no certificate to trust: "
                f"create {secrets.DATABASE_CA.name} with the CA that signed it "
                f"(kubectl -n {NAMESPACE} create secret generic {secrets.DATABASE_CA.name} "
                "--from-file=ca.crt=CA.crt)"
            )
        manifest = secrets.template(secrets.DATABASE_CA)
        del manifest["metadata"]["annotations"][secrets.TEMPLATE_ANNOTATION]
        manifest["stringData"] = {"ca.crt": certificate}
        self.kubectl("create", "-f", "-", stdin=to_yaml(manifest))

    def create_self_signed_tls(self, template: secrets.SecretTemplate) -> None:
        """A self-signed certificate for the database, as in development (docs/domain.md §1.3)."""
        if shutil.which("openssl") is None:
            raise DeployError(
                f"Secret {template.name} is missing and openssl is not available to make one: "
                f"kubectl -n {NAMESPACE} create secret tls {template.name} --cert=CRT --key=KEY"
            )
        with tempfile.TemporaryDirectory() as directory:
            key, certificate = Path(directory, "tls.key"), Path(directory, "tls.crt")
            names = ",".join(f"DNS:{host}" for host in _DATABASE_HOSTS)
            try:
                self_signed_certificate(certificate, key, _DATABASE_HOSTS[0], names, days=825)
            except DeployError as error:
                raise DeployError(f"openssl could not make {template.name}: {error}") from None
            self.kubectl(
                "-n",
                NAMESPACE,
                "create",
                "secret",
                "tls",
                template.name,
                f"--cert={certificate}",
                f"--key={key}",
            )


def random_secret(template: secrets.SecretTemplate) -> Manifest:
    """`template` filled with random 32-byte hex values (docs/operations.md §3.4)."""
    manifest = secrets.template(template)
    del manifest["metadata"]["annotations"][secrets.TEMPLATE_ANNOTATION]
    manifest["stringData"] = {key: random.token_hex(32) for key in template.keys}
    return manifest


def self_signed_certificate(
    certificate: Path, key: Path, common_name: str, alternative_names: str, *, days: int
) -> None:
    """Write a self-signed RSA certificate and its key with openssl (DeployError on failure).

    `alternative_names` is openssl's subjectAltName list, e.g. `DNS:postgres,IP:127.0.0.1`.
    """
    result = subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            str(days),
            "-subj",
            f"/CN={common_name}",
            "-addext",
            f"subjectAltName={alternative_names}",
            "-keyout",
            str(key),
            "-out",
            str(certificate),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise DeployError(result.stderr.strip())
