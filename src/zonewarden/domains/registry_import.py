"""Load the registry's data (CSV or JSON): names, registrars, registrant and administrative contacts,
name servers, statuses, creation dates. Idempotent: the same file twice changes nothing.

CSV columns (a header row names them; unknown columns are ignored):
  domain, registrar, registrar_name, registrant_handle, registrant_name, registrant_organization,
  registrant_email, registrant_phone, registrant_street, registrant_city, registrant_postal_code,
  registrant_country, admin_handle, admin_name, admin_organization, admin_email, admin_phone,
  nameservers ("ns1.x.kz/192.0.2.1,2001:db8::1 ns2.y.kz"; space or ";" between servers),
  statuses (space or ";" between EPP names), created (ISO 8601)
JSON: an array of objects, or one object per line, with the same keys; `registrant`/`admin` may be
nested objects ({"handle", "name", …}) and `nameservers` a list of {"name", "addresses"}.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.dateparse import parse_datetime

from zonewarden.bulkinsert import chunked
from zonewarden.domains.models import Contact, Domain, Registrar
from zonewarden.intake.normalize import in_zones
from zonewarden.whois.parser import to_alabel

CONTACT_FIELDS = ("name", "organization", "email", "phone", "street", "city", "postal_code", "country")
MAX_REJECTIONS = 1000


class ImportRefused(Exception):
    """The file as a whole cannot be read; nothing was stored."""


@dataclass
class ImportReport:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejected_rows: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.rejected_rows) < MAX_REJECTIONS:
            self.rejected_rows.append({"line": line, "reason": reason})

    def as_json(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "rejected_rows": self.rejected_rows,
        }


@dataclass
class Entry:
    line: int
    domain: str
    unicode_name: str
    registrar: str
    registrar_name: str
    registrant: dict[str, str] | None
    admin: dict[str, str] | None
    nameservers: list[dict[str, Any]]
    statuses: list[str]
    created: Any


def detect(data: bytes) -> str:
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return "json" if head in (b"[", b"{") else "csv"


def _records(data: bytes, fmt: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line, record) pairs, or (line, reason) for a record that cannot be read."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRefused(f"the file is not UTF-8 text (byte {exc.start + 1})") from None
    if fmt == "json":
        stripped = text.strip()
        if stripped.startswith("["):
            try:
                items = json.loads(stripped)
            except json.JSONDecodeError as exc:
                raise ImportRefused(
                    f"the JSON array cannot be read: {exc.msg} at line {exc.lineno}"
                ) from None
            for number, item in enumerate(items, start=1):
                yield number, item if isinstance(item, dict) else f"item {number} is not an object"
            return
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, f"not JSON: {exc.msg}"
                continue
            yield number, item if isinstance(item, dict) else "not a JSON object"
        return
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except (StopIteration, csv.Error):
        raise ImportRefused("the CSV file has no header row") from None
    if "domain" not in header:
        raise ImportRefused(f"the CSV header names no domain column (found: {', '.join(header)[:200]})")
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, f"not valid CSV: {exc}"
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield reader.line_num, f"the row has {len(row)} fields where the header has {len(header)}"
            continue
        yield reader.line_num, dict(zip(header, row, strict=True))


def _text(value: Any, limit: int) -> str:
    return ("" if value is None else str(value)).strip()[:limit]


def _contact(record: dict[str, Any], prefix: str) -> dict[str, str] | None:
    nested = record.get(prefix)
    values = (
        nested
        if isinstance(nested, dict)
        else {key.removeprefix(f"{prefix}_"): v for key, v in record.items() if key.startswith(f"{prefix}_")}
    )
    handle = _text(values.get("handle"), 64)
    if not handle:
        return None
    contact = {"handle": handle}
    for name in CONTACT_FIELDS:
        contact[name] = _text(values.get(name), 2 if name == "country" else 254 if name == "email" else 200)
    return contact


def _nameservers(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, list):
        servers = []
        for item in value[:20]:
            if isinstance(item, dict) and item.get("name"):
                servers.append(
                    {
                        "name": to_alabel(str(item["name"])),
                        "addresses": [str(a) for a in item.get("addresses") or []][:10],
                    }
                )
            elif isinstance(item, str) and item.strip():
                servers.append({"name": to_alabel(item), "addresses": []})
        return servers
    servers = []
    for token in _text(value, 4000).replace(";", " ").split():
        name, _, addresses = token.partition("/")
        servers.append({"name": to_alabel(name), "addresses": [a for a in addresses.split(",") if a][:10]})
    return servers[:20]


def _entry(line: int, record: dict[str, Any]) -> Entry:
    raw_name = _text(record.get("domain"), 300)
    if not raw_name:
        raise ValueError("the domain is empty")
    try:
        alabel = to_alabel(raw_name)
    except ValueError as exc:
        raise ValueError(f"domain {raw_name[:80]!r}: {exc}") from None
    if not in_zones(alabel, settings.ZONEWARDEN_ZONES):
        raise ValueError(f"{alabel} is outside the zones {', '.join(settings.ZONEWARDEN_ZONES)}")
    created_text = _text(record.get("created"), 64)
    created = parse_datetime(created_text) if created_text else None
    if created_text and created is None:
        raise ValueError(f"created: {created_text!r} is not an ISO 8601 date and time")
    statuses = record.get("statuses")
    status_list = (
        [str(s) for s in statuses]
        if isinstance(statuses, list)
        else _text(statuses, 2000).replace(";", " ").split()
    )
    try:
        nameservers = _nameservers(record.get("nameservers"))
    except ValueError as exc:
        raise ValueError(f"nameservers: {exc}") from None
    import idna

    try:
        unicode_name = idna.decode(alabel)
    except idna.IDNAError:
        unicode_name = alabel
    return Entry(
        line=line,
        domain=alabel,
        unicode_name=unicode_name,
        registrar=_text(record.get("registrar"), 64).lower(),
        registrar_name=_text(record.get("registrar_name"), 200),
        registrant=_contact(record, "registrant"),
        admin=_contact(record, "admin"),
        nameservers=nameservers,
        statuses=status_list[:20],
        created=created,
    )


def import_registry(data: bytes, *, fmt: str | None = None) -> ImportReport:
    """Read the file, reject bad rows with their line and reason, and upsert the rest in one transaction."""
    fmt = fmt or detect(data)
    report = ImportReport()
    entries: dict[str, Entry] = {}
    for line, record in _records(data, fmt):
        report.read += 1
        if isinstance(record, str):
            report.reject(line, record)
            continue
        try:
            entry = _entry(line, record)
        except ValueError as exc:
            report.reject(line, str(exc))
            continue
        entries[entry.domain] = entry  # a later row about the same name wins
    with transaction.atomic():
        _store(list(entries.values()), report)
    return report


def _store(entries: list[Entry], report: ImportReport) -> None:
    registrars = {r.code: r for r in Registrar.objects.all()}
    for entry in entries:
        if entry.registrar and entry.registrar not in registrars:
            registrars[entry.registrar] = Registrar.objects.create(
                code=entry.registrar, name=entry.registrar_name or entry.registrar
            )
    handles = {c["handle"] for e in entries for c in (e.registrant, e.admin) if c}
    contacts: dict[str, Contact] = {}
    for chunk in chunked(sorted(handles)):
        contacts.update({c.handle: c for c in Contact.objects.filter(handle__in=chunk)})
    new_contacts: list[Contact] = []
    changed_contacts: list[Contact] = []
    for entry in entries:
        for given in (entry.registrant, entry.admin):
            if not given:
                continue
            person = contacts.get(given["handle"])
            if person is None:
                person = Contact(**given)
                contacts[person.handle] = person
                new_contacts.append(person)
            elif any(getattr(person, name) != given[name] for name in CONTACT_FIELDS):
                for name in CONTACT_FIELDS:
                    setattr(person, name, given[name])
                if person not in changed_contacts and person.pk is not None:
                    changed_contacts.append(person)
    Contact.objects.bulk_create(new_contacts, batch_size=500)
    if new_contacts and any(c.pk is None for c in new_contacts):
        for chunk in chunked([c.handle for c in new_contacts]):
            contacts.update({c.handle: c for c in Contact.objects.filter(handle__in=chunk)})
    if changed_contacts:
        Contact.objects.bulk_update(changed_contacts, list(CONTACT_FIELDS), batch_size=500)
    domains: dict[str, Domain] = {}
    for chunk in chunked([e.domain for e in entries]):
        domains.update({d.name: d for d in Domain.objects.filter(name__in=chunk)})
    fields = [
        "unicode_name",
        "registrar_id",
        "registrant_id",
        "admin_contact_id",
        "nameservers",
        "statuses",
        "created",
        "registered",
    ]
    new_domains: list[Domain] = []
    changed_domains: list[Domain] = []
    for entry in entries:
        values: dict[str, Any] = {
            "unicode_name": entry.unicode_name,
            "registrar_id": registrars[entry.registrar].pk if entry.registrar else None,
            "registrant_id": contacts[entry.registrant["handle"]].pk if entry.registrant else None,
            "admin_contact_id": contacts[entry.admin["handle"]].pk if entry.admin else None,
            "nameservers": entry.nameservers,
            "statuses": entry.statuses,
            "created": entry.created,
            "registered": True,
        }
        known = domains.get(entry.domain)
        if known is None:
            new_domains.append(Domain(name=entry.domain, **values))
            report.created += 1
        elif any(getattr(known, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(known, name, value)
            changed_domains.append(known)
            report.updated += 1
        else:
            report.unchanged += 1
    Domain.objects.bulk_create(new_domains, batch_size=500)
    if changed_domains:
        Domain.objects.bulk_update(changed_domains, [f.removesuffix("_id") for f in fields], batch_size=500)
