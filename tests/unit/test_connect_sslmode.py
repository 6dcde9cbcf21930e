"""`sslmode` of a DATABASE_URL maps onto pg8000's TLS context as libpq defines it."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from phasma.db.connect import _ssl_context, connect
from phasma.deploy.rollout import self_signed_certificate


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("ca")
    certificate = directory / "ca.crt"
    self_signed_certificate(certificate, directory / "ca.key", "test-ca", "DNS:db", days=1)
    return certificate


def test_verify_full_checks_the_chain_and_the_host_name(ca_file: Path) -> None:
    context = _ssl_context("verify-full", str(ca_file))
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    # Only the given CA is trusted, not the machine's bundle.
    assert [entry["subject"] for entry in context.get_ca_certs()] == [
        ((("commonName", "test-ca"),),)
    ]


def test_verify_ca_checks_the_chain_only(ca_file: Path) -> None:
    context = _ssl_context("verify-ca", str(ca_file))
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is False


def test_require_encrypts_without_verifying_and_disable_is_plaintext() -> None:
    context = _ssl_context("require", None)
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_NONE
    assert _ssl_context("disable", None) is False


@pytest.mark.parametrize("mode", ["prefer", "allow", "verify_full"])
def test_modes_that_could_fall_back_to_plaintext_or_are_misspelt_are_refused(mode: str) -> None:
    with pytest.raises(ValueError, match="unsupported sslmode"):
        connect(f"postgresql://u@127.0.0.1:1/db?sslmode={mode}")


def test_a_missing_root_certificate_fails_before_connecting(tmp_path: Path) -> None:
    missing = tmp_path / "absent.crt"
    with pytest.raises(FileNotFoundError):
        connect(f"postgresql://u@127.0.0.1:1/db?sslmode=verify-full&sslrootcert={missing}")


def test_a_file_that_is_no_certificate_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.crt"
    bogus.write_text("not a certificate\n")
    with pytest.raises(ssl.SSLError):
        connect(f"postgresql://u@127.0.0.1:1/db?sslmode=verify-full&sslrootcert={bogus}")
