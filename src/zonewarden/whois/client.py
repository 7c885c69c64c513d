"""Ask a WHOIS server (RFC 3912) about a domain name, politely and with hard limits.

RFC 3912 is the whole protocol: connect to TCP port 43, send the query and CRLF, read the
answer until the server closes the connection.

Decoding: whois.nic.kz answers in UTF-8 (Kazakh and Russian text included), so the bytes are
decoded as UTF-8 with errors="replace". Guessing a fallback such as cp1251 or latin-1 on a bad
byte would garble the valid UTF-8 around it; a U+FFFD in one field is the lesser harm.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType

from zonewarden.whois.parser import WhoisRecord, parse_kz_whois, to_alabel

DEFAULT_PORT = 43
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MAX_BYTES = 256 * 1024
KAZNIC_SERVER = "whois.nic.kz:43"
# .kz and .қаз (xn--80ao21a) are both served by KazNIC's one server.
DEFAULT_SERVERS: Mapping[str, str] = MappingProxyType({"kz": KAZNIC_SERVER, "xn--80ao21a": KAZNIC_SERVER})

_READ_CHUNK = 64 * 1024


class WhoisError(Exception):
    """Signal that a WHOIS query failed; `server` names the server as host:port."""

    def __init__(self, message: str, *, server: str = "") -> None:
        """Keep the human message and the server it is about."""
        super().__init__(message)
        self.server = server


class WhoisInvalidName(WhoisError, ValueError):
    """Signal that the name asked about is not a valid domain name."""


class WhoisUnknownZone(WhoisError, LookupError):
    """Signal that no WHOIS server is configured for the name's zone."""


class WhoisTimeout(WhoisError):
    """Signal that the server did not connect or finish answering in time."""


class WhoisConnectionRefused(WhoisError):
    """Signal that nothing listens on the server's WHOIS port."""


class WhoisConnectionError(WhoisError):
    """Signal that the server could not be resolved or reached, or the connection broke."""


class WhoisAnswerTooLarge(WhoisError):
    """Signal that the answer went over the size cap."""


class WhoisEmptyAnswer(WhoisError):
    """Signal that the server closed the connection without a byte of answer."""


def format_endpoint(host: str, port: int) -> str:
    """Return host:port, with brackets around an IPv6 address."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_endpoint(text: str, default_port: int = DEFAULT_PORT) -> tuple[str, int]:
    """Return (host, port) from "host", "host:port", "[v6]" or "[v6]:port"; raise ValueError if malformed."""
    value = text.strip()
    port_text: str | None = None
    if value.startswith("["):
        host, bracket, rest = value[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"malformed WHOIS server {text!r}: expected [IPv6] or [IPv6]:port")
        port_text = rest[1:] if rest else None
    elif value.count(":") == 1:
        host, _, port_text = value.partition(":")
    else:
        host = value  # a name, or a bare IPv6 address with the default port
    if not host or any(char.isspace() for char in host):
        raise ValueError(f"malformed WHOIS server {text!r}: no host name")
    if port_text is None:
        return host, default_port
    if not port_text.isascii() or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"malformed WHOIS server {text!r}: port must be a number from 1 to 65535")
    return host, int(port_text)


def server_for(domain: str, servers: Mapping[str, str] = DEFAULT_SERVERS) -> tuple[str, int]:
    """Return the (host, port) of the WHOIS server for a domain's zone.

    `servers` maps a zone ("kz", "xn--80ao21a", or "қаз") to "host[:port]"; .kz and .қаз fall
    back to whois.nic.kz:43 when the mapping does not name them.
    """
    try:
        zone = to_alabel(domain).rsplit(".", 1)[-1]
    except ValueError as exc:
        raise WhoisInvalidName(f"cannot pick a WHOIS server: {exc}") from None
    table = dict(DEFAULT_SERVERS)
    for key, value in servers.items():
        try:
            table[to_alabel(key.strip().lstrip("."))] = value
        except ValueError as exc:
            raise ValueError(f"WHOIS server map has a bad zone {key!r}: {exc}") from None
    if zone not in table:
        known = ", ".join(f".{name}" for name in sorted(table))
        raise WhoisUnknownZone(f"no WHOIS server is configured for .{zone} (configured: {known})")
    return parse_endpoint(table[zone])


class RateLimiter:
    """Space queries to each server at least `min_interval_s` apart; safe to share between threads.

    The clock and the sleep are injectable so tests run on a fake clock instead of real time.
    """

    def __init__(
        self,
        min_interval_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Set the interval and the clock and sleep to use."""
        if not min_interval_s >= 0:  # also refuses NaN
            raise ValueError(f"min_interval_s must be zero or more, not {min_interval_s!r}")
        self.min_interval_s = float(min_interval_s)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_free: dict[str, float] = {}

    def reserve(self, key: str) -> float:
        """Book the next free slot for `key` and return the seconds until it (0 when free now)."""
        # Booking under the lock and sleeping outside it lets other servers' queries go on
        # while one thread waits, and gives concurrent callers distinct slots.
        with self._lock:
            now = self._clock()
            start = max(now, self._next_free.get(key, now))
            self._next_free[key] = start + self.min_interval_s
            return start - now

    def wait(self, key: str) -> float:
        """Block until `key` may be queried again and return the seconds waited."""
        delay = self.reserve(key)
        if delay > 0:
            self._sleep(delay)
        return delay


def query_whois(
    name: str,
    server: str,
    port: int = DEFAULT_PORT,
    timeout: float = DEFAULT_TIMEOUT_S,
    max_bytes: int = DEFAULT_MAX_BYTES,
    *,
    rate_limiter: RateLimiter | None = None,
) -> str:
    """Return the server's answer about `name` (sent as its A-label), decoded as UTF-8.

    `timeout` bounds the whole exchange (connect, send, read), so a server that trickles bytes
    cannot hold the caller; resolving the server's name is not covered by it.
    """
    where = format_endpoint(server, port)
    if not timeout > 0:
        raise ValueError(f"timeout must be more than zero, not {timeout!r}")
    if max_bytes <= 0:
        raise ValueError(f"max_bytes must be more than zero, not {max_bytes!r}")
    try:
        # The A-label check also keeps CR, LF and spaces out of the query line.
        query = to_alabel(name)
    except ValueError as exc:
        raise WhoisInvalidName(f"not asking {where}: {exc}", server=where) from None
    if rate_limiter is not None:
        rate_limiter.wait(where)
    deadline = time.monotonic() + timeout
    try:
        sock = socket.create_connection((server, port), timeout=timeout)
    except TimeoutError:
        raise WhoisTimeout(
            f"WHOIS server {where} did not accept a connection within {timeout:g} s", server=where
        ) from None
    except ConnectionRefusedError:
        raise WhoisConnectionRefused(
            f"WHOIS server {where} refused the connection (nothing listens on port {port})", server=where
        ) from None
    except socket.gaierror as exc:
        raise WhoisConnectionError(
            f"cannot find the address of WHOIS server {server!r}: {exc.strerror}", server=where
        ) from None
    except OSError as exc:
        raise WhoisConnectionError(
            f"cannot connect to WHOIS server {where}: {exc.strerror or exc}", server=where
        ) from None
    with sock:
        data = _exchange(sock, query, deadline, max_bytes, where, timeout)
    if not data:
        raise WhoisEmptyAnswer(f"WHOIS server {where} closed the connection without answering", server=where)
    return data.decode("utf-8", errors="replace")


def _exchange(
    sock: socket.socket, query: str, deadline: float, max_bytes: int, where: str, timeout: float
) -> bytes:
    """Send the query line and return every byte of the answer, within the deadline and the cap."""
    chunks: list[bytes] = []
    size = 0
    try:
        sock.settimeout(max(deadline - time.monotonic(), 0.001))
        sock.sendall(query.encode("ascii") + b"\r\n")
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            sock.settimeout(remaining)
            # Ask for one byte over the cap at most, enough to know the cap was passed.
            chunk = sock.recv(min(_READ_CHUNK, max_bytes + 1 - size))
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                raise WhoisAnswerTooLarge(
                    f"WHOIS server {where} sent more than {max_bytes} bytes; the answer was dropped",
                    server=where,
                )
    except TimeoutError:
        raise WhoisTimeout(
            f"WHOIS server {where} did not finish answering within {timeout:g} s ({size} bytes received)",
            server=where,
        ) from None
    except OSError as exc:
        raise WhoisConnectionError(
            f"the connection to WHOIS server {where} broke: {exc.strerror or exc}", server=where
        ) from None


def lookup(
    name: str,
    servers: Mapping[str, str] = DEFAULT_SERVERS,
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    max_bytes: int = DEFAULT_MAX_BYTES,
    rate_limiter: RateLimiter | None = None,
) -> WhoisRecord:
    """Ask the zone's WHOIS server about `name` and return the parsed record."""
    host, port = server_for(name, servers)
    raw = query_whois(name, host, port, timeout, max_bytes, rate_limiter=rate_limiter)
    return parse_kz_whois(raw, name)
