"""The checker's nameserver entries (ZONEWARDEN_CHECK_NAMESERVERS): `address` or `address:port`,
IPv6 in brackets (`[::1]`, `[::1]:5353`).

Kept apart from the resolver itself so that the settings can check the entries at start-up
without importing aiohttp or dnspython.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

DNS_PORT = 53


@dataclass(frozen=True)
class Nameserver:
    address: str
    port: int = DNS_PORT

    def __str__(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValueError(f"the port {text!r} is not a number from 1 to 65535")
    return int(text)


def parse_nameserver(entry: str) -> Nameserver:
    """Read one entry; raise ValueError saying what is wrong with it."""
    text = entry.strip()
    if not text:
        raise ValueError("empty entry")
    if text.startswith("["):
        inside, bracket, rest = text[1:].partition("]")
        if not bracket:
            raise ValueError("an IPv6 address opened with [ is not closed with ]")
        if rest and not rest.startswith(":"):
            raise ValueError(f"expected :port after the bracket, not {rest!r}")
        try:
            address = ipaddress.IPv6Address(inside)
        except ValueError:
            raise ValueError(f"{inside!r} is not an IPv6 address") from None
        return Nameserver(str(address), _port(rest[1:]) if rest else DNS_PORT)
    if text.count(":") > 1:
        raise ValueError("write an IPv6 address in brackets, e.g. [::1] or [::1]:5353")
    host, colon, port = text.partition(":")
    try:
        address4 = ipaddress.IPv4Address(host)
    except ValueError:
        # A name would need a resolver to find the resolver: only addresses are accepted.
        raise ValueError(f"{host!r} is not an IP address") from None
    return Nameserver(str(address4), _port(port) if colon else DNS_PORT)


def parse_nameservers(entries: Iterable[str]) -> list[Nameserver]:
    """Read every entry; raise ValueError naming the first bad one."""
    found = []
    for entry in entries:
        try:
            found.append(parse_nameserver(entry))
        except ValueError as exc:
            raise ValueError(f"{entry!r}: {exc}") from None
    return found
