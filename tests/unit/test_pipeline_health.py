"""Pipeline health rules (docs/operations.md §7) and their Prometheus metrics."""

from __future__ import annotations

import time

from prometheus_client import generate_latest

from phasma.events.pipelines import Pipeline, register, snapshots

STALE = 120.0
WINDOW = 30.0


def pipeline(name: str = "test") -> Pipeline:
    return Pipeline(name, service="tests", stale_seconds=STALE, error_window_seconds=WINDOW)


def test_a_single_failed_attempt_is_never_unhealthy() -> None:
    subject = pipeline()
    subject.failure("broker down")
    now = time.time()
    assert subject.error_streak == 1
    assert not subject.unhealthy(now)
    assert not subject.unhealthy(now + WINDOW - 1)


def test_errors_for_longer_than_the_window_are_unhealthy_until_progress() -> None:
    subject = pipeline()
    subject.failure("one")
    subject.failure("two")
    assert subject.unhealthy(time.time() + WINDOW + 1)
    subject.progress()
    assert (subject.error_streak, subject.first_error_at) == (0, None)
    assert subject.error_count == 2 and subject.last_error == "two"
    assert not subject.unhealthy(time.time() + WINDOW + 1)


def test_stale_only_while_work_is_pending() -> None:
    subject = pipeline()
    later = time.time() + STALE + 1
    assert not subject.stale(later)  # idle: nothing to do is not stale
    subject.set_backlog(True)
    assert subject.stale(later) and subject.unhealthy(later)
    subject.progress()
    assert not subject.stale(time.time() + STALE - 1)
    subject.set_backlog(False)
    with subject.attempt():
        assert subject.stale(time.time() + STALE + 1)  # a delivery stuck in flight
    assert not subject.stale(time.time() + STALE + 1)


def test_snapshots_and_metrics_show_every_registered_pipeline() -> None:
    subject = register(pipeline("unit-health"))
    subject.progress(processed=3, lag_seconds=0.25)
    subject.failure("DatabaseUnavailable: down")
    snapshot = next(s for s in snapshots() if s.name == "unit-health")
    fields = snapshot.model_dump(by_alias=True)
    assert set(fields) == {
        "name",
        "running",
        "stale",
        "unhealthy",
        "startedAt",
        "lastProgress",
        "firstErrorAt",
        "lastError",
        "errorCount",
        "errorStreak",
        "processed",
    }
    assert (fields["processed"], fields["errorStreak"], fields["errorCount"]) == (3, 1, 1)
    assert fields["lastError"] == "DatabaseUnavailable: down"
    assert fields["running"] and not fields["unhealthy"]
    text = generate_latest().decode()
    labels = '{app="phasma",pipeline="unit-health",service="tests"}'
    for prefix in ("phasma_pipeline", "app_pipeline"):
        assert f"{prefix}_processed_total{labels} 3.0" in text
        assert f"{prefix}_errors_total{labels} 1.0" in text
        assert f"{prefix}_error_streak{labels} 1.0" in text
        assert f"{prefix}_running{labels} 1.0" in text
        assert f"{prefix}_unhealthy{labels} 0.0" in text
        assert f"{prefix}_lag_seconds{labels} 0.25" in text
        for gauge in ("stale", "last_progress_age_seconds", "first_error_age_seconds"):
            assert f"{prefix}_{gauge}{labels}" in text
