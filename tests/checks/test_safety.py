"""The address decision: only public addresses, whatever disguise a private one wears."""

from __future__ import annotations

import pytest

from zonewarden.checks.safety import AllowList, Refused, check_address, refusal


@pytest.mark.parametrize(
    ("address", "word"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address under test, nothing binds to it
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("100.64.0.1", "shared or benchmarking"),
        ("198.18.0.1", "private"),
        ("192.0.2.1", "private"),  # documentation
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("fec0::1", "site-local"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
        ("2002:c0a8:0101::1", "private"),  # 6to4 of 192.168.1.1
        ("2001:db8::1", "private"),  # documentation
    ],
)
def test_non_public_addresses_are_refused_and_named(address: str, word: str) -> None:
    reason = refusal(address)
    assert reason is not None and word in reason


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "2.135.0.1", "2a00:1450:4001:81d::200e", "::ffff:93.184.216.34"]
)
def test_public_addresses_pass(address: str) -> None:
    assert refusal(address) is None


def test_garbage_is_not_an_address() -> None:
    assert refusal("not-an-ip") == "'not-an-ip' is not an IP address"


def test_the_allow_list_lets_named_hosts_and_networks_through_only() -> None:
    allow = AllowList.parse(["127.0.0.1/32", "Test.Local.", " "])
    check_address("anything", "127.0.0.1", allow)
    check_address("test.local", "10.0.0.5", allow)
    with pytest.raises(Refused, match="refused other: 127.0.0.2 is a loopback address"):
        check_address("other", "127.0.0.2", allow)
    with pytest.raises(Refused, match="private"):
        check_address("evil.kz", "192.168.0.10", allow)
