"""Start and stop the demo's network: its web server and name server on one loopback address.

The address is a dedicated one of 127.0.0.0/8 (127.77.0.1), so the sites can listen on port 80
and the name server on port 53 without disturbing anything on 127.0.0.1, and the checker's
allow-list for the demo names that one address only. Ports below 1024 need root (or
CAP_NET_BIND_SERVICE): without it, or when the port is taken, each server takes a free port
instead, says so, and the demo's URLs carry that port.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from zonewarden.demo.nameserver import NameServer
from zonewarden.demo.sites import SiteBook, SiteServer

DEFAULT_ADDRESS = "127.77.0.1"
HTTP_PORT, DNS_PORT = 80, 53
STATE_FILE = "demo-sites.json"


class DemoNetworkError(Exception):
    """The demo's servers cannot start; the message says where and why."""


def state_path() -> Path:
    """Where the demo's sites are saved between `zonewarden demo` and `zonewarden serve --demo`."""
    return Path(settings.VAR_DIR) / STATE_FILE


def check_address(address: str) -> str:
    """Refuse an address outside 127.0.0.0/8 and ::1: the demo's servers stay on loopback."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise DemoNetworkError(f"{address!r} is not an IP address") from None
    if not ip.is_loopback:
        raise DemoNetworkError(f"{address} is not a loopback address: the demo's servers stay on loopback")
    return str(ip)


@dataclass
class DemoNetwork:
    """The running web server and name server of the demo, and the settings that point the checker at them."""

    book: SiteBook
    sites: SiteServer
    dns: NameServer

    def checker_settings(self) -> dict[str, Any]:
        """The checker's settings for the demo: look names up in its DNS, and reach its sites' address."""
        return checker_settings(self.book)

    def stop(self) -> None:
        self.sites.stop()
        self.dns.stop()


def checker_settings(book: SiteBook) -> dict[str, Any]:
    allowed = list(settings.ZONEWARDEN_CHECK_ALLOW)
    return {
        "ZONEWARDEN_CHECK_DNS": True,
        "ZONEWARDEN_CHECK_NAMESERVERS": [_endpoint(book.address, book.dns_port)],
        "ZONEWARDEN_CHECK_ALLOW": [*allowed, book.address] if book.address not in allowed else allowed,
    }


def checker_environment(book: SiteBook, environ: dict[str, str]) -> dict[str, str]:
    """The environment `serve --demo` gives the worker and the web server (the same settings)."""
    found = checker_settings(book)
    return {
        **environ,
        "ZONEWARDEN_CHECK_DNS": "true",
        "ZONEWARDEN_CHECK_NAMESERVERS": ",".join(found["ZONEWARDEN_CHECK_NAMESERVERS"]),
        "ZONEWARDEN_CHECK_ALLOW": ",".join(found["ZONEWARDEN_CHECK_ALLOW"]),
    }


def _endpoint(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _bind(
    make: Callable[[int], Any],
    address: str,
    port: int,
    what: str,
    *,
    fallback: bool,
    say: Callable[[str], None],
) -> Any:
    try:
        return make(port)
    except OSError as exc:
        denied = exc.errno in (errno.EACCES, errno.EPERM)
        taken = exc.errno == errno.EADDRINUSE
        if not fallback or not port or not (denied or taken):
            raise DemoNetworkError(
                f"the demo's {what} cannot listen on {address}:{port}: {exc.strerror or exc}"
            ) from None
        why = "only root may listen below port 1024" if denied else "the port is taken"
        server = make(0)
        say(
            f"the demo's {what} cannot listen on {address}:{port} ({why}): it listens on port {server.port} instead"
        )
        return server


def start(
    book: SiteBook,
    *,
    address: str = DEFAULT_ADDRESS,
    http_port: int = HTTP_PORT,
    dns_port: int = DNS_PORT,
    fallback: bool = True,
    say: Callable[[str], None] = print,
) -> DemoNetwork:
    """Start both servers (port 0: any free port) and write where they listen into the book."""
    address = check_address(address)
    sites = _bind(
        lambda port: SiteServer(book, address, port),
        address,
        http_port,
        "web server",
        fallback=fallback,
        say=say,
    )
    try:
        dns = _bind(
            lambda port: NameServer(book, address, port),
            address,
            dns_port,
            "name server",
            fallback=fallback,
            say=say,
        )
    except BaseException:
        sites.server_close()
        raise
    book.address, book.http_port, book.dns_port = address, sites.port, dns.port
    sites.start()
    dns.start()
    return DemoNetwork(book, sites, dns)


def wait_until_listening(book: SiteBook, *, timeout: float, alive: Callable[[], bool]) -> bool:
    """Wait until the saved sites' web and name server accept connections (False: they did not)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        try:
            for port in (book.http_port, book.dns_port):
                socket.create_connection((book.address, port), timeout=1).close()
        except OSError:
            time.sleep(0.1)
            continue
        return True
    return False


@contextmanager
def running(book: SiteBook, **options: Any) -> Iterator[DemoNetwork]:
    """The demo's servers for the duration of the block."""
    network = start(book, **options)
    try:
        yield network
    finally:
        network.stop()
