"""The publishers: how a suspension or restoration reaches the DNS. Configured by name in
ZONEWARDEN_PUBLISHERS; several at once.

  rfc2136  — a dynamic UPDATE signed with TSIG to the authoritative server: a suspension deletes
             the name's NS set and the glue under the name; a restoration puts back the stored
             delegation with its glue. Up to BATCH names per UPDATE message. Both are idempotent.
  zonefile — the zone file of each zone, written from the database (held names left out)
  rpz      — an RPZ zone of the suspended names for resolvers

Every change is read back from the authoritative server (`readback`; a batch's names several at a
time, `readback_all`).
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import fcntl
import os
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dns.exception
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring
import dns.update
from django.conf import settings

from zonewarden import clock
from zonewarden.domains.models import Domain
from zonewarden.intake.normalize import in_zones

BATCH = 100
READBACK_AT_ONCE = 16  # read-back queries in flight at once (UDP, to the authoritative server)


class PublishError(Exception):
    """A publisher could not apply a change. `permanent` says whether retrying can help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def server() -> tuple[str, int]:
    host, _, port = settings.ZONEWARDEN_DNS_SERVER.rpartition(":")
    return host or "127.0.0.1", int(port or 53)


def zone_of(name: str) -> str:
    for zone in sorted(settings.ZONEWARDEN_ZONES, key=len, reverse=True):
        if in_zones(name, [zone]):
            return zone.strip(".").lower()
    raise PublishError(
        f"{name} is in none of the zones {', '.join(settings.ZONEWARDEN_ZONES)}", permanent=True
    )


def _keyring() -> tuple[dict[dns.name.Name, dns.tsig.Key] | None, dns.name.Name | None, str]:
    if not settings.ZONEWARDEN_DNS_TSIG_NAME:
        return None, None, ""
    name = dns.name.from_text(settings.ZONEWARDEN_DNS_TSIG_NAME)
    algorithm = settings.ZONEWARDEN_DNS_TSIG_ALGORITHM
    try:
        secret = base64.b64decode(settings.ZONEWARDEN_DNS_TSIG_SECRET, validate=True)
    except ValueError as exc:
        raise PublishError(f"ZONEWARDEN_DNS_TSIG_SECRET is not base64: {exc}", permanent=True) from None
    return {name: dns.tsig.Key(name, secret, algorithm)}, name, algorithm


def _glue(domain: Domain) -> list[tuple[str, list[str]]]:
    """(server name, addresses) of the name servers under the domain itself (in-bailiwick)."""
    suffix = "." + domain.name
    return [
        (str(ns.get("name", "")).lower().rstrip("."), [str(a) for a in ns.get("addresses") or []])
        for ns in domain.nameservers or []
        if str(ns.get("name", "")).lower().rstrip(".").endswith(suffix)
    ]


def rfc2136(changes: Sequence[tuple[Domain, str]]) -> None:
    """Send the changes (domain, "suspend"|"restore") as signed UPDATE messages, zone by zone."""
    keyring, keyname, algorithm = _keyring()
    host, port = server()
    by_zone: dict[str, list[tuple[Domain, str]]] = {}
    for domain, action in changes:
        by_zone.setdefault(zone_of(domain.name), []).append((domain, action))
    for zone, items in by_zone.items():
        for start in range(0, len(items), BATCH):
            update = dns.update.UpdateMessage(
                zone + ".",
                keyring=keyring,
                keyname=keyname,
                keyalgorithm=algorithm or dns.tsig.default_algorithm,
            )
            for domain, action in items[start : start + BATCH]:
                update.delete(domain.name + ".", "NS")
                for glue_name, _ in _glue(domain):
                    update.delete(glue_name + ".", "A")
                    update.delete(glue_name + ".", "AAAA")
                if action == "restore":
                    for ns in domain.nameservers or []:
                        update.add(
                            domain.name + ".",
                            settings.ZONEWARDEN_DNS_TTL,
                            "NS",
                            str(ns["name"]).rstrip(".") + ".",
                        )
                    for glue_name, addresses in _glue(domain):
                        for address in addresses:
                            update.add(
                                glue_name + ".",
                                settings.ZONEWARDEN_DNS_TTL,
                                "AAAA" if ":" in address else "A",
                                address,
                            )
            _send(update, host, port)


def _send(update: dns.update.UpdateMessage, host: str, port: int) -> None:
    try:
        response = dns.query.tcp(update, host, port=port, timeout=settings.ZONEWARDEN_DNS_TIMEOUT)
    except dns.tsig.PeerError as exc:
        raise PublishError(f"the server refused our TSIG key: {type(exc).__name__}", permanent=True) from None
    except (OSError, dns.exception.Timeout, EOFError) as exc:
        raise PublishError(f"no answer from {host}:{port}: {exc or type(exc).__name__}") from None
    code = response.rcode()
    if code == dns.rcode.NOERROR:
        return
    text = dns.rcode.to_text(code)
    raise PublishError(
        f"{host}:{port} answered {text}",
        permanent=code in (dns.rcode.NOTAUTH, dns.rcode.REFUSED, dns.rcode.NOTZONE),
    )


def readback(domain: Domain) -> dict[str, object]:
    """Ask the authoritative server for the name's NS set; return what it said."""
    host, port = server()
    query = dns.message.make_query(domain.name + ".", "NS")
    try:
        response = dns.query.udp(query, host, port=port, timeout=settings.ZONEWARDEN_DNS_TIMEOUT)
    except (OSError, dns.exception.Timeout) as exc:
        raise PublishError(f"read-back from {host}:{port} failed: {exc or type(exc).__name__}") from None
    owner = dns.name.from_text(domain.name + ".")
    servers = sorted(
        str(item.target).rstrip(".").lower()
        for section in (response.answer, response.authority)
        for rrset in section
        if rrset.rdtype == dns.rdatatype.NS and rrset.name == owner
        for item in rrset
    )
    return {
        "rcode": dns.rcode.to_text(response.rcode()),
        "nameservers": servers,
        "at": clock.now().isoformat(),
    }


def readback_all(domains: Sequence[Domain]) -> list[dict[str, object] | PublishError]:
    """`readback` of each domain, `READBACK_AT_ONCE` queries in flight at a time; an error in its place."""

    def one(domain: Domain) -> dict[str, object] | PublishError:
        try:
            return readback(domain)
        except PublishError as exc:
            return exc

    if len(domains) <= 1:
        return [one(domain) for domain in domains]
    with ThreadPoolExecutor(max_workers=min(READBACK_AT_ONCE, len(domains))) as pool:
        # Each query in a copy of our context: the clock's `--at` moment lives in a ContextVar.
        return list(pool.map(lambda domain: contextvars.copy_context().run(one, domain), domains))


def _write(path: Path, text: str) -> None:
    """Replace `path` atomically; a temporary file of its own per writer, so two never collide."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def _files_locked(folder: Path) -> Iterator[None]:
    """One writer of the zone files at a time, across workers and processes: each reads the names'
    state and writes it under the lock, so the last file written holds every change committed
    before it was read (an earlier reader can no longer overwrite a later one)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".zonewarden.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _serial() -> int:
    # The wall clock, not the replay clock: secondaries take a zone only when its serial has grown.
    return int(time.time())


def zone_text(zone: str, domains: Iterable[Domain]) -> str:
    """The zone file: SOA and NS of the zone, then every registered, not-held name's delegation."""
    lines = [
        f"$ORIGIN {zone}.",
        f"$TTL {settings.ZONEWARDEN_DNS_TTL}",
        f"@ SOA {settings.ZONEWARDEN_ZONE_PRIMARY} {settings.ZONEWARDEN_ZONE_CONTACT} {_serial()} 3600 600 1209600 300",
        f"@ NS {settings.ZONEWARDEN_ZONE_PRIMARY}",
    ]
    for domain in domains:
        if (
            "serverHold" in (domain.statuses or [])
            or not domain.registered
            or zone_of_safe(domain.name) != zone
        ):
            continue
        for ns in domain.nameservers or []:
            lines.append(f"{domain.name}. NS {str(ns['name']).rstrip('.')}.")
        for glue_name, addresses in _glue(domain):
            lines += [f"{glue_name}. {'AAAA' if ':' in a else 'A'} {a}" for a in addresses]
    return "\n".join(lines) + "\n"


def zone_of_safe(name: str) -> str | None:
    try:
        return zone_of(name)
    except PublishError:
        return None


def rpz_text(names: Iterable[str]) -> str:
    origin = settings.ZONEWARDEN_RPZ_ORIGIN.rstrip(".")
    lines = [
        f"$ORIGIN {origin}.",
        "$TTL 300",
        f"@ SOA localhost. hostmaster.localhost. {_serial()} 3600 600 86400 300",
        "@ NS localhost.",
    ]
    for name in sorted(set(names)):
        lines += [f"{name} CNAME .", f"*.{name} CNAME ."]
    return "\n".join(lines) + "\n"


def held_names() -> list[str]:
    return sorted(
        d.name for d in Domain.objects.only("name", "statuses") if "serverHold" in (d.statuses or [])
    )


def zonefile(changes: Sequence[tuple[Domain, str]]) -> None:
    folder = Path(settings.ZONEWARDEN_ZONEFILE_DIR)
    zones = {zone_of(domain.name) for domain, _ in changes}
    with _files_locked(folder):
        for zone in sorted(zones):
            _write(folder / f"{zone}.zone", zone_text(zone, Domain.objects.order_by("name")))


def rpz(changes: Sequence[tuple[Domain, str]]) -> None:
    folder = Path(settings.ZONEWARDEN_ZONEFILE_DIR)
    with _files_locked(folder):
        _write(folder / "rpz.zone", rpz_text(held_names()))


PUBLISHERS = {"rfc2136": rfc2136, "zonefile": zonefile, "rpz": rpz}
