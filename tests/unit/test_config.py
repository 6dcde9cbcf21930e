from decimal import Decimal

import pytest

from phasma.config import Settings


@pytest.mark.parametrize("raw", ["", "abc", "0", "-3", "1.5x"])
def test_bad_rate_limit_overrides_fall_back_to_defaults(raw: str) -> None:
    settings = Settings(_env_file=None, rate_limit_strict_burst=raw, rate_limit_strict_rate=raw)
    policy = settings.rate_limit_policy("strict")
    assert policy.burst == 5
    assert policy.rate == Decimal("0.2")


def test_valid_overrides_apply_per_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RATE_LIMIT_READ_BURST", "7")
    monkeypatch.setenv("RATE_LIMIT_READ_RATE", "0.5")
    settings = Settings(_env_file=None)
    assert settings.rate_limit_policy("read").burst == 7
    assert settings.rate_limit_policy("read").rate == Decimal("0.5")
    assert settings.rate_limit_policy("mutation").burst == 30


def test_defaults_match_operations_spec() -> None:
    settings = Settings(_env_file=None)
    assert settings.postgres_max_conns == 5
    assert settings.session_absolute_ttl_hours == 720
    assert settings.argon_max_concurrency == 4
    assert settings.rate_limit_fail_open is False
    assert settings.rate_limit_policy("typeahead").burst == 20
