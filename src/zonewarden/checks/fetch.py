"""Fetch reported URLs with aiohttp, safely: vetted addresses only, capped in size, time and number.

Every host name goes through `resolver.GuardedResolver`, which resolves it (the static table
first, then the system's resolver or the configured nameservers when DNS is on), drops the
addresses `safety.refusal` forbids unless the host is allow-listed, and hands aiohttp only what is
left. The connector keeps no DNS cache, so each new connection — the first request's and every
redirect's (redirects are followed here, one by one, so each new URL is checked too) — goes to an
address vetted in its own look-up, never to one a second look-up could have changed. IP-literal
URLs are checked before any request.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp

from zonewarden.checks.nameservers import Nameserver
from zonewarden.checks.resolver import GuardedResolver, RefusedAddresses
from zonewarden.checks.safety import AllowList, Refused, refusal
from zonewarden.intake.normalize import BadURL, normalize_url

RedirectStatuses = frozenset({301, 302, 303, 307, 308})
KEPT_HEADERS = 40


@dataclass(frozen=True)
class FetchLimits:
    timeout: float = 15.0
    max_bytes: int = 2 << 20
    evidence_bytes: int = 8192
    max_redirects: int = 5
    concurrency: int = 100
    per_host: int = 4
    user_agent: str = "zonewarden"
    # Seconds a DNS look-up may take, and never more than half of `timeout`: the rest is for HTTP.
    dns_timeout: float = 5.0


@dataclass
class Fetched:
    """What one URL gave: where it ended, what came back, to which addresses, or why nothing did."""

    url: str
    final_url: str = ""
    redirects: list[dict[str, Any]] = field(default_factory=list)
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = ""
    body: bytes = b""
    body_size: int = 0
    truncated: bool = False
    sha256: str = ""
    # The address the answer came from first, then the name's other permitted and refused ones.
    addresses: list[str] = field(default_factory=list)
    refused: str = ""
    error: str = ""
    unreachable: bool = False
    elapsed: float = 0.0


def _literal(host: str) -> str | None:
    text = host.strip("[]")
    try:
        import ipaddress

        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _vet_url(url: str, allow: AllowList) -> str:
    """Refuse a URL that is not http(s), has no host, or names a forbidden address literally."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise Refused(f"refused {url[:200]}: only http and https URLs are fetched")
    host = parts.hostname or ""
    if not host:
        raise Refused(f"refused {url[:200]}: the URL has no host")
    try:
        # Browsers read 0177.1, 0x7f.1 or 2130706433 as 127.0.0.1: vet what the host means.
        canonical = normalize_url(url)
    except BadURL as exc:
        raise Refused(f"refused {url[:200]}: {exc.reason}") from None
    literal = canonical.host if canonical.is_ip else _literal(host)
    if literal is not None and not allow.allows(host, literal):
        reason = refusal(literal)
        if reason is not None:
            raise Refused(f"refused {host}: {reason}")
    return host


class Fetcher:
    """One session's worth of fetching; use `fetch_all` (or `async with` and `fetch`)."""

    def __init__(
        self,
        limits: FetchLimits,
        allow: AllowList,
        hosts: Mapping[str, Sequence[str]] | None = None,
        use_dns: bool = True,
        nameservers: Sequence[Nameserver] = (),
    ) -> None:
        self.limits = limits
        self.allow = allow
        self.resolver = GuardedResolver(
            allow,
            hosts or {},
            use_dns=use_dns,
            nameservers=nameservers,
            dns_timeout=min(limits.dns_timeout, limits.timeout / 2),
        )
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Fetcher:
        connector = aiohttp.TCPConnector(
            resolver=self.resolver,
            limit=self.limits.concurrency,
            limit_per_host=self.limits.per_host,
            # aiohttp's cache would hand a later connection an answer from before: every connection
            # looks its host up through the guard and goes to what that look-up vetted.
            use_dns_cache=False,
            ssl=False,  # a check looks at what is served, also behind a broken or self-made certificate
        )
        self.session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self.limits.timeout),
            headers={"User-Agent": self.limits.user_agent, "Accept": "*/*"},
            auto_decompress=True,
            trust_env=False,
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.session is not None:
            await self.session.close()

    async def fetch(self, url: str) -> Fetched:
        assert self.session is not None
        result = Fetched(url=url)
        started = time.monotonic()
        current = url
        try:
            for hop in range(self.limits.max_redirects + 1):
                host = _vet_url(current, self.allow)
                async with self.session.get(current, allow_redirects=False) as response:
                    location = response.headers.get("Location")
                    if response.status in RedirectStatuses and location:
                        result.redirects.append({"url": current, "status": response.status})
                        if hop == self.limits.max_redirects:
                            raise aiohttp.TooManyRedirects(response.request_info, ())
                        current = urljoin(current, location)
                        continue
                    peer = _peer(response)
                    await self._read(response, result)
                    name = host.lower().rstrip(".")
                    first = peer or _literal(host)
                    found = [*([first] if first else []), *self.resolver.vetted.get(name, [])]
                    result.addresses = list(dict.fromkeys([*found, *self.resolver.seen.get(name, [])]))
                    break
            result.final_url = current
        except Refused as exc:
            result.refused, result.final_url = exc.reason, current
        except aiohttp.TooManyRedirects:
            result.error, result.final_url = f"more than {self.limits.max_redirects} redirects", current
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            host = (urlsplit(current).hostname or "").lower().rstrip(".")
            refused = _refused(exc)
            if refused is not None:
                result.refused = refused
            else:
                result.unreachable = True
                result.error = _describe(exc, self.limits.timeout)
            result.final_url = current
            result.addresses = list(self.resolver.seen.get(host, []))
        except ValueError as exc:  # a URL aiohttp cannot even parse
            result.error, result.final_url = f"the URL cannot be fetched: {exc}", current
        result.elapsed = time.monotonic() - started
        return result

    async def _read(self, response: aiohttp.ClientResponse, result: Fetched) -> None:
        result.status = response.status
        result.headers = {key: value[:500] for key, value in list(response.headers.items())[:KEPT_HEADERS]}
        result.content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        chunks, size = [], 0
        digest = hashlib.sha256()
        while True:
            chunk = await response.content.read(65536)
            if not chunk:
                break
            room = self.limits.max_bytes - size
            if len(chunk) > room:
                chunk, result.truncated = chunk[:room], True
            chunks.append(chunk)
            digest.update(chunk)
            size += len(chunk)
            if result.truncated:
                break
        result.body = b"".join(chunks)
        result.body_size = size
        result.sha256 = digest.hexdigest()


def _peer(response: aiohttp.ClientResponse) -> str:
    """The address the response came from (read before the body, while the connection is held)."""
    connection = response.connection
    transport = connection.transport if connection is not None else None
    peer = transport.get_extra_info("peername") if transport is not None else None
    return str(peer[0]) if isinstance(peer, tuple) and peer else ""


def _refused(exc: BaseException) -> str | None:
    """The guard's reason when a connection failed because every address was refused."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, RefusedAddresses):
            return cause.reason
        cause = cause.__cause__
    return None


def _describe(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"{exc.host} does not resolve: {exc.os_error.strerror or exc.os_error}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect: {exc.os_error.strerror or exc.os_error}"
    text = str(exc) or type(exc).__name__
    return text[:300]


async def _fetch_all(urls: Iterable[str], fetcher: Fetcher) -> list[Fetched]:
    # A semaphore keeps only `concurrency` fetches alive: thousands of coroutines queued inside
    # aiohttp's connector instead cost it more than the requests themselves.
    gate = asyncio.Semaphore(fetcher.limits.concurrency)

    async def one(url: str) -> Fetched:
        async with gate:
            return await fetcher.fetch(url)

    async with fetcher:
        return list(await asyncio.gather(*(one(url) for url in urls)))


def fetch_all(
    urls: Iterable[str],
    *,
    limits: FetchLimits,
    allow: AllowList,
    hosts: Mapping[str, Sequence[str]] | None = None,
    use_dns: bool = True,
    nameservers: Sequence[Nameserver] = (),
) -> list[Fetched]:
    """Fetch every URL (concurrently, within the limits) and return the results in order."""
    return asyncio.run(_fetch_all(list(urls), Fetcher(limits, allow, hosts, use_dns, nameservers)))
