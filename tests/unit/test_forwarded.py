"""Who the client is: the one client-address rule of the API and the frontend (docs/api.md §A.1)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from phasma.http.forwarded import client_address, forwarded_client, is_secure

PEER = "10.1.1.1"


def request(*forwarded: str, proto: tuple[str, ...] = (), scheme: str = "http") -> Request:
    headers = [("X-Forwarded-For", value) for value in forwarded]
    headers += [("X-Forwarded-Proto", value) for value in proto]
    builder = EnvironBuilder(
        headers=headers, environ_base={"REMOTE_ADDR": PEER}, base_url=f"{scheme}://phasma.test/"
    )
    return Request(builder.get_environ())


@pytest.mark.parametrize(
    ("header", "hops", "expected"),
    [
        ("1.1.1.1, 2.2.2.2", 1, "2.2.2.2"),
        ("1.1.1.1, 2.2.2.2", 2, "1.1.1.1"),
        ("1.1.1.1,2.2.2.2,3.3.3.3", 2, "2.2.2.2"),
        ("2.2.2.2", 2, PEER),  # too few entries: nothing the client wrote is trusted
        ("1.1.1.1, 2.2.2.2", 0, PEER),  # no proxy: the header is the client's own words
        ("not-an-ip", 1, PEER),
        ("1.1.1.1:443", 1, PEER),  # ports are not part of an entry here
        ("1.1.1.1,", 1, PEER),  # an empty right-most entry is no address
        ("  2001:DB8::1 ", 1, "2001:db8::1"),  # normalised
        ("", 1, PEER),
    ],
)
def test_the_client_is_the_entry_that_many_hops_from_the_right(
    header: str, hops: int, expected: str
) -> None:
    assert forwarded_client(header, PEER, hops) == expected


def test_a_client_cannot_choose_its_address_by_sending_the_header_itself() -> None:
    # The gateway replaced the header: one hop. Rotating a claimed address changes nothing.
    for claimed in ("198.51.100.1", "198.51.100.2, 203.0.113.7"):
        assert client_address(request(f"{claimed}, 192.0.2.50"), 1) == "192.0.2.50"
    # Behind appending proxies the attacker's own entries stay on the left.
    assert client_address(request("6.6.6.6, 192.0.2.50, 10.0.0.9, 10.0.0.8"), 3) == "192.0.2.50"


def test_several_header_lines_are_one_list() -> None:
    assert client_address(request("6.6.6.6", "192.0.2.50"), 1) == "192.0.2.50"
    assert client_address(request("6.6.6.6", "192.0.2.50"), 2) == "6.6.6.6"


def test_the_forwarded_scheme_counts_only_behind_a_trusted_proxy() -> None:
    assert not is_secure(request(proto=("https",)), 0)  # a direct client cannot claim TLS
    assert is_secure(request(proto=("https",)), 1)
    assert not is_secure(request(proto=("https, http",)), 1)  # the edge's entry is right-most
    assert not is_secure(request(proto=("https", "http")), 1)
    assert not is_secure(request(), 1)
    assert is_secure(request(scheme="https"), 0)
    assert is_secure(request(scheme="https"), 1)  # no header: the connection decides


@given(header=st.text(), hops=st.integers(min_value=-3, max_value=40))
def test_any_header_and_hop_count_give_an_address_or_the_peer(header: str, hops: int) -> None:
    answer = forwarded_client(header, PEER, hops)
    assert answer == PEER or str(ipaddress.ip_address(answer)) == answer


ENTRY = st.one_of(
    st.ip_addresses().map(str),
    st.text(
        alphabet=st.characters(codec="latin-1", exclude_characters=",", exclude_categories=("Cc",)),
        max_size=12,
    ),
)


@given(entries=st.lists(ENTRY, max_size=8), hops=st.integers(min_value=0, max_value=10))
def test_address_lists_give_exactly_the_trusted_entry(entries: list[str], hops: int) -> None:
    header = ", ".join(entries)
    answer = client_address(request(header) if header else request(), hops)
    if hops == 0 or len(entries) < hops or not header:
        assert answer == PEER
        return
    try:
        expected = str(ipaddress.ip_address(entries[-hops].strip()))
    except ValueError:
        expected = PEER
    assert answer == expected
