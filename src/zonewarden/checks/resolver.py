"""Where the checker's host names resolve, and which of their addresses it may connect to.

`GuardedResolver` looks a name up in the static table (ZONEWARDEN_CHECK_HOSTS) first, then, when
DNS is on, through the system's resolver (getaddrinfo, so /etc/hosts counts) or, when
ZONEWARDEN_CHECK_NAMESERVERS names servers, by asking exactly those with dnspython. It drops every
address `safety` forbids unless the host is allow-listed and hands aiohttp only what is left.
aiohttp connects to one of exactly those addresses and keeps no DNS cache of its own (fetch.py
turns it off), so a connection goes to an address vetted in the same look-up: a name cannot be
rebound between the check and the connection.

aiohttp 3.14's resolvers need a running event loop when they are made, so every resolver object
here is made on first use, inside the loop that fetches.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Mapping, Sequence

import aiohttp
import dns.asyncresolver
import dns.exception
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver
from aiohttp.abc import AbstractResolver, ResolveResult

from zonewarden.checks.nameservers import Nameserver
from zonewarden.checks.safety import AllowList, Refused, check_address

_TYPES = {socket.AF_INET: ("A",), socket.AF_INET6: ("AAAA",)}


class RefusedAddresses(OSError):
    """Every address a name resolved to is one the checker may not reach; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(None, reason)
        self.reason = reason


def result(host: str, address: str, port: int) -> ResolveResult:
    """One numeric answer in aiohttp's form (connecting to it needs no further look-up)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return {
        "hostname": host,
        "host": address,
        "port": port,
        "family": family,
        "proto": 0,
        "flags": socket.AI_NUMERICHOST,
    }


class NameserverResolver(AbstractResolver):
    """Ask exactly the configured nameservers for A and/or AAAA, as the requested family says."""

    def __init__(self, nameservers: Sequence[Nameserver], timeout: float) -> None:
        self.timeout = timeout
        self._resolver = dns.asyncresolver.Resolver(configure=False)
        self._resolver.nameservers = [
            dns.nameserver.Do53Nameserver(ns.address, ns.port) for ns in nameservers
        ]
        self._resolver.lifetime = timeout
        self._resolver.timeout = min(self._resolver.timeout, timeout)
        self._resolver.cache = None  # every look-up asks: what is vetted is what was just answered

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            name = dns.name.from_text(host.rstrip(".") + ".")
        except (dns.exception.DNSException, ValueError) as exc:
            raise OSError(None, f"not a DNS name ({exc})") from None
        types = _TYPES.get(family, ("A", "AAAA"))
        outcomes = await asyncio.gather(*(self._ask(name, rdtype) for rdtype in types))
        addresses = [address for found, _ in outcomes for address in found]
        if addresses:
            return [result(host, address, port) for address in dict.fromkeys(addresses)]
        reasons = [reason for _, reason in outcomes if reason]
        raise OSError(None, reasons[0] if reasons else "no A or AAAA record")

    async def _ask(self, name: dns.name.Name, rdtype: str) -> tuple[list[str], str]:
        """The addresses of one record type, or none and why (an empty reason: no such records)."""
        try:
            answer = await self._resolver.resolve(name, rdtype, search=False, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return [], "no such name (NXDOMAIN)"
        except dns.resolver.NoNameservers:
            return [], "no nameserver gave an answer (SERVFAIL or REFUSED)"
        except dns.exception.Timeout:
            return [], f"no answer from the nameservers within {self.timeout:g} s"
        except Exception as exc:  # noqa: BLE001 - a hostile or broken answer must not break the check
            return [], f"the look-up failed ({type(exc).__name__}: {str(exc)[:200]})"
        wanted = dns.rdatatype.from_text(rdtype)
        if answer.rrset is None or answer.rrset.rdtype != wanted:
            return [], ""
        return [item.address for item in answer.rrset], ""

    async def close(self) -> None:
        """Nothing to close: dnspython opens a socket per query."""


class GuardedResolver(AbstractResolver):
    """Resolve through the static table, then DNS if on; keep only the addresses the checker may reach."""

    def __init__(
        self,
        allow: AllowList,
        hosts: Mapping[str, Sequence[str]],
        *,
        use_dns: bool = True,
        nameservers: Sequence[Nameserver] = (),
        dns_timeout: float = 5.0,
    ) -> None:
        self.allow = allow
        self.hosts = {name.lower().rstrip("."): list(addresses) for name, addresses in hosts.items()}
        self.use_dns = use_dns
        self.nameservers = list(nameservers)
        self.dns_timeout = dns_timeout
        self.seen: dict[str, list[str]] = {}
        self.vetted: dict[str, list[str]] = {}
        self._dns: AbstractResolver | None = None

    def _lookup(self) -> AbstractResolver:
        """The DNS resolver, made on first use inside the running loop (aiohttp 3.14 needs one)."""
        if self._dns is None:
            self._dns = (
                NameserverResolver(self.nameservers, self.dns_timeout)
                if self.nameservers
                else aiohttp.ThreadedResolver()
            )
        return self._dns

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        name = host.lower().rstrip(".")
        if name in self.hosts:
            answers = [result(host, address, port) for address in self.hosts[name]]
        elif self.use_dns:
            answers = await self._lookup().resolve(host, port, family)
        else:
            raise OSError(None, "DNS look-ups are off (ZONEWARDEN_CHECK_DNS)")
        seen = self.seen.setdefault(name, [])
        seen.extend(address for address in dict.fromkeys(a["host"] for a in answers) if address not in seen)
        permitted = []
        reasons = []
        for answer in answers:
            try:
                check_address(name, answer["host"], self.allow)
            except Refused as exc:
                reasons.append(exc.reason)
                continue
            permitted.append(answer)
        if not permitted:
            if not reasons:
                raise OSError(None, "no address")
            raise RefusedAddresses("; ".join(dict.fromkeys(reasons)))
        vetted = self.vetted.setdefault(name, [])
        vetted.extend(a["host"] for a in permitted if a["host"] not in vetted)
        return permitted

    async def close(self) -> None:
        if self._dns is not None:
            await self._dns.close()
