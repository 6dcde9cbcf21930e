"""`sslmode=verify-full` over a real TLS handshake in front of the real PostgreSQL.

The deployment's DSNs verify the server (docs/domain.md §1.3); this proves the connect
code does what the mode promises: the right CA and host name connect, a wrong host
name or an untrusted CA is refused, and `require` would have accepted either.

The embedded PostgreSQL is built without TLS ("SSL is not supported by this
build"), so a small terminator answers PostgreSQL's SSLRequest, completes the TLS
handshake with a self-signed certificate, and relays the plaintext protocol to the
session's server: the handshake the client verifies is real, and so is the server.
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import pytest

from phasma.db.connect import connect
from phasma.deploy.rollout import self_signed_certificate

SSL_REQUEST = struct.pack("!ii", 8, 80877103)


class _Dependencies(Protocol):
    database_url: str


def _relay(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, target):
            end.close()


def _receive_exactly(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size and (chunk := connection.recv(size - len(data))):
        data += chunk
    return data


class TlsTerminator:
    """Answers SSLRequest with "S", speaks TLS to the client and plaintext upstream."""

    def __init__(self, upstream: tuple[str, int], context: ssl.SSLContext) -> None:
        self.upstream = upstream
        self.context = context
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _address = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        if _receive_exactly(client, len(SSL_REQUEST)) != SSL_REQUEST:
            client.close()
            return
        client.sendall(b"S")
        try:
            secured = self.context.wrap_socket(client, server_side=True)
        except (ssl.SSLError, OSError):
            client.close()  # the client refused our certificate: what the tests expect
            return
        server = socket.create_connection(self.upstream)
        threading.Thread(target=_relay, args=(secured, server), daemon=True).start()
        _relay(server, secured)

    def close(self) -> None:
        self.listener.close()


@dataclass(frozen=True)
class TlsServer:
    port: int
    database: str
    ca: Path  # the server's self-signed certificate: its own CA
    other_ca: Path  # a CA that signed nothing the server presents

    def url(self, host: str, mode: str, ca: Path) -> str:
        return (
            f"postgresql://postgres@{host}:{self.port}/{self.database}"
            f"?sslmode={mode}&sslrootcert={ca}"
        )


@pytest.fixture(scope="module")
def tls_server(
    dependencies: _Dependencies, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TlsServer]:
    directory = tmp_path_factory.mktemp("tls")
    certificate, key = directory / "server.crt", directory / "server.key"
    # Valid for "localhost" only, so 127.0.0.1 is a wrong host name for it.
    self_signed_certificate(certificate, key, "localhost", "DNS:localhost", days=1)
    other = directory / "other.crt"
    self_signed_certificate(other, directory / "other.key", "localhost", "DNS:localhost", days=1)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    parts = urlsplit(dependencies.database_url)
    terminator = TlsTerminator((parts.hostname or "127.0.0.1", parts.port or 5432), context)
    try:
        yield TlsServer(terminator.port, parts.path.lstrip("/"), certificate, other)
    finally:
        terminator.close()


def _round_trip(url: str) -> int:
    with connect(url) as connection:
        [[value]] = connection.run("SELECT 1")
        return int(value)


def test_verify_full_connects_to_the_server_its_ca_names(tls_server: TlsServer) -> None:
    assert _round_trip(tls_server.url("localhost", "verify-full", tls_server.ca)) == 1


def test_verify_full_refuses_a_certificate_for_another_host_name(tls_server: TlsServer) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        connect(tls_server.url("127.0.0.1", "verify-full", tls_server.ca))
    # verify-ca trusts the chain alone, so the same server is accepted there.
    assert _round_trip(tls_server.url("127.0.0.1", "verify-ca", tls_server.ca)) == 1


def test_verify_full_refuses_a_server_its_ca_did_not_sign(tls_server: TlsServer) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match="self-signed certificate"):
        connect(tls_server.url("localhost", "verify-full", tls_server.other_ca))


def test_require_would_have_accepted_the_impostor(tls_server: TlsServer) -> None:
    # The old default: encrypted, but to whoever answers (no chain, no name checked).
    assert _round_trip(tls_server.url("127.0.0.1", "require", tls_server.other_ca)) == 1
