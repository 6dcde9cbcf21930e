"""Which functions get a blob store, check it for readiness, and pay for boto3 (runtime.py)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest

from phasma.config import Settings
from phasma.deploy.environment import needs_of
from phasma.http.probes import readiness_checks
from phasma.registry import FUNCTIONS, Readiness, get_function
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
        # docs/api.md §17; the database tells a private account's images (docs/security.md).
        ("media", {"postgres", "cache", "blob_store"}),
    ],
)
def test_readiness_checks_follow_api_md_17(name: str, expected: set[str]) -> None:
    runtime = Runtime(get_function(name), SETTINGS)
    assert set(readiness_checks(runtime)) == expected


def test_the_indexer_checks_meilisearch_only_where_it_is_configured() -> None:
    """docs/operations.md §6: the registry declares the check; PostgreSQL search needs none."""
    indexer = get_function("search-indexer")
    assert set(readiness_checks(Runtime(indexer, SETTINGS))) == {"postgres", "cache"}
    meili = SETTINGS.model_copy(update={"meili_url": "http://127.0.0.1:1"})
    assert set(readiness_checks(Runtime(indexer, meili))) == {"postgres", "cache", "search"}
    # The search function answers 503 per request instead: Meilisearch never gates it.
    assert set(readiness_checks(Runtime(get_function("search"), meili))) == {"postgres", "cache"}


def test_a_readiness_check_comes_from_the_registry_not_the_function_name() -> None:
    declared = replace(
        get_function("sessions"),
        readiness=(Readiness("search", "phasma.search.indexer:engine_readiness"),),
    )
    meili = SETTINGS.model_copy(update={"meili_url": "http://127.0.0.1:1"})
    assert set(readiness_checks(Runtime(declared, meili))) == {"postgres", "cache", "search"}


def test_a_component_is_built_once_per_runtime() -> None:
    runtime = Runtime(get_function("sessions"), SETTINGS)
    built: list[Runtime] = []

    def build(owner: Runtime) -> object:
        built.append(owner)
        return object()

    first = runtime.component("thing", build)
    assert runtime.component("thing", build) is first
    assert built == [runtime]


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
