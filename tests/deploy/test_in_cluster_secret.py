"""setup-search writes `search-keys` through the Kubernetes API, as its own ServiceAccount.

No package index ships a kube-apiserver, so these tests stand one in: an HTTPS server on
127.0.0.1 with a self-signed certificate (the "cluster CA" of the mounted service
account) that records each request and answers the way the API server does, with the
object on success and a `Status` on refusal.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import shutil
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from phasma.deploy.rollout import self_signed_certificate
from phasma.in_cluster import (
    KubernetesApiError,
    SecretWriter,
    ServiceAccount,
    read_service_account,
)
from phasma.search import setup

pytestmark = pytest.mark.skipif(
    shutil.which("openssl") is None, reason="openssl makes the stand-in API server's certificate"
)

TOKEN = "eyJhbGciOiJSUzI1NiJ9.service-account-token"
SECRET_PATH = "/api/v1/namespaces/phasma/secrets/search-keys"
KEYS = {"search": "s3arch-key", "search-indexer": "ind3xer-key"}


@dataclass
class Recorded:
    """One request as the API server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeApiServer:
    """Answers per method with (status, JSON body); records every request."""

    url: str
    answers: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)


def status(code: int, reason: str, message: str) -> tuple[int, dict[str, Any]]:
    """A refusal shaped like the API server's `Status` object."""
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": {"name": "search-keys", "kind": "secrets"},
        "code": code,
    }
    return code, body


SECRET_OBJECT = {
    "kind": "Secret",
    "apiVersion": "v1",
    "metadata": {"name": "search-keys", "namespace": "phasma"},
    "type": "Opaque",
}
FORBIDDEN_PATCH = status(
    403,
    "Forbidden",
    'secrets "search-keys" is forbidden: User "system:serviceaccount:phasma:job-setup-search" '
    'cannot patch resource "secrets" in API group "" in the namespace "phasma"',
)
NOT_FOUND = status(404, "NotFound", 'secrets "search-keys" not found')


def self_signed(directory: Path, name: str) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made with openssl."""
    certificate, key = directory / f"{name}.crt", directory / f"{name}.key"
    self_signed_certificate(certificate, key, "127.0.0.1", "IP:127.0.0.1", days=1)
    return certificate, key


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("certificates")
    server_certificate, server_key = self_signed(directory, "server")
    other_certificate, _ = self_signed(directory, "other")
    return {"server": server_certificate, "key": server_key, "other": other_certificate}


@pytest.fixture
def api_server(certificates: dict[str, Path]) -> Iterator[FakeApiServer]:
    fake = FakeApiServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def handle_request(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            fake.requests.append(
                Recorded(self.command, self.path, dict(self.headers), self.rfile.read(length))
            )
            code, body = fake.answers.get(self.command, (200, SECRET_OBJECT))
            encoded = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(encoded)))
            self.end_headers()
            self.wfile.write(encoded)

        do_GET = do_PATCH = handle_request

        def log_message(self, format: str, *arguments: Any) -> None:
            return  # the test output stays readable

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates["server"], certificates["key"])
    server.socket = context.wrap_socket(server.socket, server_side=True)
    fake.url = f"https://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def mounted_account(directory: Path, certificate_authority: Path) -> Path:
    """What the kubelet mounts: token, namespace and the cluster CA."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "token").write_text(TOKEN)
    (directory / "namespace").write_text("phasma")
    (directory / "ca.crt").write_bytes(certificate_authority.read_bytes())
    return directory


@pytest.fixture
def account(tmp_path: Path, certificates: dict[str, Path]) -> ServiceAccount:
    return read_service_account(
        mounted_account(tmp_path / "serviceaccount", certificates["server"])
    )


def test_the_secret_is_read_then_merge_patched_with_the_bearer_token(
    api_server: FakeApiServer, account: ServiceAccount
) -> None:
    writer = SecretWriter(account, "search-keys", api_server.url)
    writer.check_access()
    writer.write(
        {"search-api-key": "s3arch-key", "search-indexer-key": "ind3xer-key"},
        {"phasma.dev/keys-created-at": "2026-06-22T12:00:00Z"},
    )
    get, patch = api_server.requests
    assert (get.method, get.path, get.body) == ("GET", SECRET_PATH, b"")
    assert get.headers["Authorization"] == f"Bearer {TOKEN}"
    assert get.headers["Accept"] == "application/json"
    assert (patch.method, patch.path) == ("PATCH", SECRET_PATH)
    assert patch.headers["Authorization"] == f"Bearer {TOKEN}"
    assert patch.headers["Content-Type"] == "application/merge-patch+json"
    assert patch.headers["Accept"] == "application/json"
    assert json.loads(patch.body) == {
        "metadata": {"annotations": {"phasma.dev/keys-created-at": "2026-06-22T12:00:00Z"}},
        "data": {
            "search-api-key": base64.b64encode(b"s3arch-key").decode(),
            "search-indexer-key": base64.b64encode(b"ind3xer-key").decode(),
        },
    }


def test_a_refusal_names_the_request_status_reason_and_message(
    api_server: FakeApiServer, account: ServiceAccount
) -> None:
    api_server.answers["PATCH"] = FORBIDDEN_PATCH
    writer = SecretWriter(account, "search-keys", api_server.url)
    with pytest.raises(KubernetesApiError) as refused:
        writer.write({"search-api-key": "k"}, {})
    assert str(refused.value) == (
        f"Kubernetes API refused PATCH {SECRET_PATH}: 403 Forbidden: "
        'secrets "search-keys" is forbidden: User "system:serviceaccount:phasma:job-setup-search" '
        'cannot patch resource "secrets" in API group "" in the namespace "phasma"'
    )


def test_a_missing_secret_is_reported_by_the_access_check(
    api_server: FakeApiServer, account: ServiceAccount
) -> None:
    api_server.answers["GET"] = NOT_FOUND
    with pytest.raises(KubernetesApiError) as missing:
        SecretWriter(account, "search-keys", api_server.url).check_access()
    assert str(missing.value) == (
        f'Kubernetes API refused GET {SECRET_PATH}: 404 NotFound: secrets "search-keys" not found'
    )


def test_an_api_server_outside_the_mounted_ca_is_refused(
    api_server: FakeApiServer, tmp_path: Path, certificates: dict[str, Path]
) -> None:
    stranger = read_service_account(mounted_account(tmp_path / "other", certificates["other"]))
    with pytest.raises(KubernetesApiError) as untrusted:
        SecretWriter(stranger, "search-keys", api_server.url).check_access()
    message = str(untrusted.value)
    assert message.startswith(f"cannot reach the Kubernetes API at {api_server.url}: ")
    assert "CERTIFICATE_VERIFY_FAILED" in message
    assert api_server.requests == []  # the token never left the client


def test_a_pod_without_a_token_fails_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(KubernetesApiError) as missing:
        read_service_account(tmp_path)
    assert str(missing.value) == (
        f"no service-account token, namespace, ca.crt in {tmp_path}: the pod must mount its "
        "token (automountServiceAccountToken: true)"
    )


@pytest.fixture
def in_pod(
    monkeypatch: pytest.MonkeyPatch, api_server: FakeApiServer, account: ServiceAccount
) -> list[str]:
    """Run `setup.main` as in the Job: fake Meilisearch, the stand-in API server."""
    provisioned: list[str] = []

    def provision(client: object, now: object) -> dict[str, str]:
        provisioned.append("keys created")
        return dict(KEYS)

    monkeypatch.setattr(setup, "connect", lambda url, key: object())
    monkeypatch.setattr(setup, "provision", provision)
    monkeypatch.setattr(setup, "read_service_account", lambda: account)
    monkeypatch.setattr(
        setup, "SecretWriter", functools.partial(SecretWriter, api_server=api_server.url)
    )
    return provisioned


ENVIRONMENT = {"MEILI_URL": "http://meilisearch:7700", "MEILI_MASTER_KEY": "master"}


def test_output_kubernetes_writes_the_keys_and_prints_none(
    in_pod: list[str], api_server: FakeApiServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert setup.main(["--output", "kubernetes"], ENVIRONMENT) == 0
    output = capsys.readouterr()
    assert output.out == (
        "search setup: wrote search-api-key, search-indexer-key to Secret phasma/search-keys\n"
    )
    assert output.err == ""
    assert not any(key in output.out for key in KEYS.values())
    assert in_pod == ["keys created"]
    get, patch = api_server.requests
    assert (get.method, patch.method) == ("GET", "PATCH")
    body = json.loads(patch.body)
    assert {key: base64.b64decode(value).decode() for key, value in body["data"].items()} == {
        "search-api-key": "s3arch-key",
        "search-indexer-key": "ind3xer-key",
    }
    created = body["metadata"]["annotations"]["phasma.dev/keys-created-at"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", created)


def test_no_key_is_created_when_the_secret_cannot_be_written(
    in_pod: list[str], api_server: FakeApiServer, capsys: pytest.CaptureFixture[str]
) -> None:
    api_server.answers["GET"] = status(
        403, "Forbidden", 'secrets "search-keys" is forbidden: User "x" cannot get resource'
    )
    assert setup.main(["--output", "kubernetes"], ENVIRONMENT) == 1
    assert capsys.readouterr().err == (
        f"search setup failed: Kubernetes API refused GET {SECRET_PATH}: 403 Forbidden: "
        'secrets "search-keys" is forbidden: User "x" cannot get resource\n'
    )
    assert in_pod == []  # no orphaned keys in Meilisearch


def test_output_kubernetes_without_a_token_fails_before_creating_keys(
    in_pod: list[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    empty = tmp_path / "no-token"
    empty.mkdir()
    monkeypatch.setattr(setup, "read_service_account", lambda: read_service_account(empty))
    assert setup.main(["--output", "kubernetes"], ENVIRONMENT) == 1
    error = capsys.readouterr().err
    assert error == (
        f"search setup failed: no service-account token, namespace, ca.crt in {empty}: "
        "the pod must mount its token (automountServiceAccountToken: true)\n"
    )
    assert in_pod == []
