"""Signed media URLs (docs/security.md "Private media"): the token's life and checks."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from phasma.config import Limits
from phasma.media_urls import (
    expiry,
    make_token,
    signing_key,
    signing_key_var,
    token_expiry,
    token_for,
)

FILENAME = "0123456789abcdef0123456789abcdef"
KEY = signing_key("a session hash secret")
NOW = 1_800_000_123.0
TTL = Limits.MEDIA_URL_TTL_SECONDS
STEP = Limits.MEDIA_URL_EXPIRY_STEP_SECONDS


def test_a_token_lives_at_least_the_ttl_and_at_most_one_step_more() -> None:
    expires = expiry(NOW)
    assert expires % STEP == 0
    assert NOW + TTL <= expires < NOW + TTL + STEP
    # Every page of one step gets the same URL.
    start = expires - TTL - STEP + 1
    assert {expiry(start + offset) for offset in range(0, STEP, 7)} == {expires}


def test_a_fresh_token_is_valid_until_it_expires() -> None:
    token = make_token(KEY, FILENAME, NOW)
    expires = expiry(NOW)
    assert token_expiry(KEY, FILENAME, token, NOW) == expires
    assert token_expiry(KEY, FILENAME, token, expires - 1) == expires
    assert token_expiry(KEY, FILENAME, token, expires) is None


@pytest.mark.parametrize(
    "change",
    [
        lambda token: token[:-1] + ("0" if token[-1] != "0" else "1"),  # signature
        lambda token: f"{int(token.split('-')[0]) + STEP}-{token.split('-')[1]}",  # expiry
        lambda token: token.upper(),
        lambda token: token.replace("-", "."),
        lambda token: token + "0",
        lambda token: "",
    ],
)
def test_any_change_to_a_token_makes_it_invalid(change: Callable[[str], str]) -> None:
    token = make_token(KEY, FILENAME, NOW)
    assert token_expiry(KEY, FILENAME, change(token), NOW) is None


def test_a_token_is_for_one_image_and_one_key() -> None:
    token = make_token(KEY, FILENAME, NOW)
    assert token_expiry(KEY, "f" * 32, token, NOW) is None
    assert token_expiry(signing_key("another secret"), FILENAME, token, NOW) is None


def test_the_key_is_not_the_secret_itself_nor_another_purposes() -> None:
    # Derived under its own label, like the device cookie's and the mail tokens' keys.
    assert KEY != b"a session hash secret" and len(KEY) == 32
    assert signing_key("a session hash secret") == KEY


def test_no_token_is_made_outside_a_request() -> None:
    assert token_for(FILENAME) is None
    reset = signing_key_var.set(KEY)
    try:
        token = token_for(FILENAME)
    finally:
        signing_key_var.reset(reset)
    assert token is not None and token_expiry(KEY, FILENAME, token, time.time()) is not None
