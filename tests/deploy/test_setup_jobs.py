"""The setup Jobs' command line: idempotent helpers fed from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from phasma.deploy import setup


def record(calls: list[tuple[str, Any]], name: str) -> Any:
    return lambda *arguments: calls.append((name, arguments))


def test_topics_are_created_with_their_partitions_and_retention(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[str, Any]] = []
    monkeypatch.setattr(setup, "create_topics", record(calls, "create"))
    monkeypatch.setattr(setup, "set_retention", record(calls, "retention"))
    assert setup.main(["topics"], {"KAFKA_BROKERS": "broker:9092"}) == 0
    (_, (brokers, topics)), (_, (_, retention)) = calls
    assert brokers == "broker:9092"
    assert dict(topics) == {"entity-changes": 6, "activity": 6, "dead-letter": 1}
    assert retention["dead-letter"] == 2 * retention["activity"] == 14 * 24 * 3600 * 1000


def test_bucket_uses_the_s3_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, Any]] = []
    monkeypatch.setattr(setup, "create_bucket", record(calls, "bucket"))
    environ = {"S3_ENDPOINT": "http://storage:8333", "S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "s"}
    assert setup.main(["bucket"], environ) == 0
    assert calls == [("bucket", ("http://storage:8333", "phasma", "a", "s", "us-east-1"))]


def test_database_logins_are_granted_their_roles(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, Any]] = []
    monkeypatch.setattr(setup, "ensure_login_user", record(calls, "login"))
    environ: Mapping[str, str] = {
        "MIGRATION_DATABASE_URL": "postgresql://postgres:x@db/phasma",
        "APP_DB_PASSWORD": "app",
        "INDEXER_DB_PASSWORD": "indexer",
    }
    assert setup.main(["database-logins"], environ) == 0
    assert [arguments[1:] for _, arguments in calls] == [
        ("phasma_user", "app", "phasma_app"),
        ("phasma_indexer_user", "indexer", "phasma_indexer"),
    ]


def test_a_missing_variable_fails_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert setup.main(["bucket"], {}) == 1
    assert capsys.readouterr().err == "setup bucket failed: S3_ENDPOINT is not set\n"
