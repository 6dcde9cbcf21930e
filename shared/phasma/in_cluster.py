"""Write one Secret through the Kubernetes API from inside a pod, as its ServiceAccount.

Only the setup-search Job does this (it stores the Meilisearch keys it creates in
`search-keys`), and it needs two requests, so the standard library does it rather than
the `kubernetes` package: read the mounted token, CA and namespace, then GET (to learn
early that the Secret exists and may be written) and merge-PATCH the Secret's `data`.

`http.client` is used rather than urllib because it never consults `HTTPS_PROXY`:
the bearer token must go to the API server and nowhere else.
"""

from __future__ import annotations

import base64
import http.client
import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SERVICE_ACCOUNT_DIRECTORY = Path("/var/run/secrets/kubernetes.io/serviceaccount")
API_SERVER = "https://kubernetes.default.svc"
TIMEOUT_SECONDS = 10
MERGE_PATCH = "application/merge-patch+json"


class KubernetesApiError(Exception):
    """The API could not be reached or refused a request; the message is one line."""


@dataclass(frozen=True)
class ServiceAccount:
    """The credentials Kubernetes mounts into a pod that asks for its token."""

    token: str
    namespace: str
    certificate_authority: Path


def read_service_account(directory: Path | None = None) -> ServiceAccount:
    """The mounted token, namespace and CA, or a KubernetesApiError naming what is missing."""
    directory = directory or SERVICE_ACCOUNT_DIRECTORY
    files = {name: directory / name for name in ("token", "namespace", "ca.crt")}
    missing = [name for name, path in files.items() if not path.is_file()]
    if missing:
        raise KubernetesApiError(
            f"no service-account {', '.join(missing)} in {directory}: the pod must mount its "
            "token (automountServiceAccountToken: true)"
        )
    return ServiceAccount(
        token=files["token"].read_text().strip(),
        namespace=files["namespace"].read_text().strip(),
        certificate_authority=files["ca.crt"],
    )


class SecretWriter:
    """GET and merge-PATCH one Secret of the pod's namespace."""

    def __init__(self, account: ServiceAccount, name: str, api_server: str = API_SERVER) -> None:
        self.account = account
        self.name = name
        self.api_server = api_server
        self.path = f"/api/v1/namespaces/{account.namespace}/secrets/{name}"

    def check_access(self) -> None:
        """Fail before anything is created elsewhere unless the Secret exists and is readable."""
        self._request("GET", None)

    def write(self, values: Mapping[str, str], annotations: Mapping[str, str]) -> None:
        """Replace the keys `values` (others stay) and set `annotations` on the Secret."""
        body = {
            "metadata": {"annotations": dict(annotations)},
            "data": {
                key: base64.b64encode(value.encode()).decode() for key, value in values.items()
            },
        }
        self._request("PATCH", body)

    def _request(self, method: str, body: Mapping[str, Any] | None) -> dict[str, Any]:
        address = urlsplit(self.api_server)
        context = ssl.create_default_context(cafile=str(self.account.certificate_authority))
        connection = http.client.HTTPSConnection(
            address.hostname or "", address.port or 443, context=context, timeout=TIMEOUT_SECONDS
        )
        headers = {"Authorization": f"Bearer {self.account.token}", "Accept": "application/json"}
        payload = None
        if body is not None:
            headers["Content-Type"] = MERGE_PATCH
            payload = json.dumps(body).encode()
        try:
            connection.request(method, self.path, body=payload, headers=headers)
            response = connection.getresponse()
            status, phrase, text = response.status, response.reason, response.read().decode()
        except (OSError, http.client.HTTPException) as error:
            raise KubernetesApiError(
                f"cannot reach the Kubernetes API at {self.api_server}: {error}"
            ) from None
        finally:
            connection.close()
        answer = _json_object(text)
        if status != 200:
            reason = answer.get("reason") or phrase
            message = " ".join(str(answer.get("message") or text).split())
            raise KubernetesApiError(
                f"Kubernetes API refused {method} {self.path}: {status} {reason}: {message}"
            )
        return answer


def _json_object(text: str) -> dict[str, Any]:
    """The API's JSON answer, or {} when a proxy or load balancer answered instead."""
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
