"""Which addresses the checker may connect to: never private, loopback, link-local, multicast,
reserved or unspecified ones (IPv4 and IPv6, IPv4-mapped and the like unwrapped), because a feed
or a redirect must not turn zonewarden into a probe of the networks it runs in.

The decision is one function, `refusal(address)`, used after every DNS answer and for every
IP-literal URL, on the first request and on each redirect. Hosts and networks on the explicit
allow-list (ZONEWARDEN_CHECK_ALLOW: names, addresses or CIDR blocks) are let through; the tests
allow their own loopback server that way.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Blocks that are globally routable by the registry's flags but still not public web servers.
_EXTRA_V4 = [ipaddress.ip_network(block) for block in ("100.64.0.0/10", "192.0.0.0/24", "198.18.0.0/15")]
_EXTRA_V6 = [ipaddress.ip_network(block) for block in ("64:ff9b:1::/48", "2001::/23", "2002::/16")]


class Refused(Exception):
    """A URL the checker will not fetch; `reason` says why, for a person to read."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _unwrap(address: Address) -> Address:
    """The IPv4 address inside an IPv4-mapped, NAT64 (well-known prefix) or 6to4 IPv6 address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in ipaddress.ip_network("64:ff9b::/96"):
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if address.sixtofour is not None:
            return address.sixtofour
        if address.teredo is not None:
            return address.teredo[1]
    return address


def refusal(address: str | Address) -> str | None:
    """Why the checker must not connect to `address`, or None when it may (a public address)."""
    try:
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    except ValueError:
        return f"{address!r} is not an IP address"
    inner = _unwrap(ip)
    shown = str(ip) if inner == ip else f"{ip} (that is {inner})"
    checks = (
        ("unspecified", inner.is_unspecified),
        ("loopback", inner.is_loopback),
        ("link-local", inner.is_link_local),
        ("multicast", inner.is_multicast),
        ("reserved", inner.is_reserved),
        ("private", inner.is_private),
        ("site-local", isinstance(inner, ipaddress.IPv6Address) and inner.is_site_local),
        (
            "shared or benchmarking",
            any(inner in block for block in (_EXTRA_V4 if inner.version == 4 else _EXTRA_V6)),
        ),
        ("not globally routable", not inner.is_global),
    )
    for name, hit in checks:
        if hit:
            return f"{shown} is a {name} address"
    return None


@dataclass(frozen=True)
class AllowList:
    """Names and networks the checker may reach although their addresses are not public."""

    names: frozenset[str] = frozenset()
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(default_factory=tuple)

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        names, networks = set(), []
        for entry in entries:
            text = entry.strip().lower().rstrip(".")
            if not text:
                continue
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                names.add(text)
        return cls(frozenset(names), tuple(networks))

    def allows(self, host: str, address: str | None = None) -> bool:
        if host.lower().rstrip(".") in self.names:
            return True
        if address is None:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)


def check_address(host: str, address: str, allow: AllowList) -> None:
    """Raise Refused unless `host` may be reached at `address`."""
    if allow.allows(host, address):
        return
    reason = refusal(address)
    if reason is not None:
        raise Refused(f"refused {host}: {reason}")
