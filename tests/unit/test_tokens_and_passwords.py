import re
import threading

import pytest
from argon2 import PasswordHasher, Type

from phasma.auth.passwords import PasswordHashing
from phasma.auth.tokens import is_well_formed, new_token, token_key
from phasma.http.errors import ServiceUnavailable
from phasma.http.pipeline import choose_request_id


def test_tokens_are_28_base64url_characters_and_only_their_hmac_is_a_key() -> None:
    token = new_token()
    assert re.fullmatch(r"[A-Za-z0-9_-]{28}", token)
    assert is_well_formed(token)
    key = token_key(token, "secret")
    assert len(key) == 64 and token not in key
    assert key == token_key(token, "secret") != token_key(token, "other secret")


@pytest.mark.parametrize(
    "candidate",
    [None, "", "a" * 27, "a" * 29, "a" * 27 + "+", "a" * 27 + "/", "a" * 27 + "=", "ä" * 28],
)
def test_malformed_tokens_are_no_session(candidate: str | None) -> None:
    assert not is_well_formed(candidate)


def test_request_id_is_kept_when_short_else_generated() -> None:
    assert choose_request_id("abc") == "abc"
    assert choose_request_id("x" * 64) == "x" * 64
    generated = choose_request_id("x" * 65)
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert re.fullmatch(r"[0-9a-f]{32}", choose_request_id(None))
    assert re.fullmatch(r"[0-9a-f]{32}", choose_request_id(""))


def test_hash_uses_the_spec_parameters_and_verifies() -> None:
    hashing = PasswordHashing(max_concurrency=2, wait_timeout_seconds=5)
    stored = hashing.hash("correct horse")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert hashing.verify(stored, "correct horse")
    assert not hashing.verify(stored, "wrong horse")
    assert not hashing.verify(None, "anything")  # the decoy never succeeds
    assert not hashing.verify("not a hash", "correct horse")
    assert not hashing.needs_rehash(stored)


def test_weaker_hashes_need_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID)
    assert PasswordHashing.needs_rehash(weak.hash("pw"))


def test_hashing_waits_are_bounded() -> None:
    hashing = PasswordHashing(max_concurrency=1, wait_timeout_seconds=0.05)
    started, release = threading.Event(), threading.Event()

    def occupy() -> None:
        started.set()
        release.wait()

    busy = threading.Thread(target=hashing._limit.run, args=(occupy,))
    busy.start()  # another request holds the only hashing thread
    assert started.wait(5)
    try:
        with pytest.raises(ServiceUnavailable):
            hashing.hash("pw")
    finally:
        release.set()
        busy.join()
    assert hashing.verify(hashing.hash("pw"), "pw")  # only the wait is bounded, not the work
    hashing.close()
