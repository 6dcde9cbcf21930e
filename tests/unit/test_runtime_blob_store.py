"""Which functions get a blob store, check it for readiness, and pay for boto3 (runtime.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from phasma.config import Settings
from phasma.deploy.environment import needs_of
from phasma.http.probes import readiness_checks
from phasma.registry import FUNCTIONS, get_function
from phasma.runtime import Runtime

SETTINGS = Settings(
    _env_file=None,
    database_url="postgresql://phasma_user@127.0.0.1:1/phasma",
    cache_url="redis://127.0.0.1:1/0",
    session_hash_secret="secret",
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("users", {"postgres", "cache"}),  # it only deletes blobs, best effort
        ("sessions", {"postgres", "cache"}),
        ("uploads", {"postgres", "cache", "blob_store"}),
        ("media", {"cache", "blob_store"}),  # docs/api.md §17: media needs no database
    ],
)
def test_readiness_checks_follow_api_md_17(name: str, expected: set[str]) -> None:
    runtime = Runtime(get_function(name), SETTINGS)
    assert set(readiness_checks(runtime)) == expected


def test_only_declared_blob_users_get_a_store() -> None:
    with pytest.raises(RuntimeError, match="does not use the blob store"):
        _ = Runtime(get_function("sessions"), SETTINGS).blob_store
    uploads = Runtime(get_function("uploads"), SETTINGS)
    assert uploads.blob_store is uploads.blob_store  # one per process


@pytest.mark.parametrize("name", ["sessions", "users"])
def test_starting_a_function_does_not_import_boto3(name: str) -> None:
    """boto3 costs ~0.1 s at import: `users` pays it on its first avatar change, not at start."""
    script = f"""
import sys
from phasma.config import Settings
from phasma.http.pipeline import HttpFunction
from phasma.registry import get_function
from phasma.runtime import Runtime
settings = Settings(
    _env_file=None, session_hash_secret="secret", database_url="postgresql://u@127.0.0.1:1/d"
)
function = get_function("{name}")
HttpFunction(function, Runtime(function, settings))
print("boto3" in sys.modules)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"


def test_every_blob_user_is_given_the_object_store_in_the_cluster() -> None:
    for function in FUNCTIONS:
        assert needs_of(function).object_store == function.uses_blob_store, function.name
        assert function.uses_blob_store or not function.blob_store_readiness, function.name
