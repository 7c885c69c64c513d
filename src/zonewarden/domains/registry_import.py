"""Load the registry's data: names, registrars, registrant and administrative contacts, name servers,
statuses and creation dates, from CSV or JSON. Idempotent: the same file twice changes nothing.

CSV (a header row names the columns; unknown columns are ignored; `,`, `;` or tab between fields):
  domain, registrar (code), registrar_name, registrar_email, registrant_handle, registrant_name,
  registrant_organization, registrant_email, registrant_phone, registrant_street, registrant_city,
  registrant_postal_code, registrant_country, admin_handle, admin_name, admin_organization,
  admin_email, admin_phone, nameservers, statuses, created
  - nameservers: servers separated by spaces or `;`, each `name` or `name/address,address`;
  - statuses: EPP names separated by spaces, `,` or `;`;
  - created: ISO 8601 (a time without zone is the configured time zone's).
JSON: an array of objects, or one object per line (JSON Lines), with the same keys; `registrant` and
`admin` may be nested objects ({"handle", "name", …}), `registrar` an object {"code", "name",
"email"}, `nameservers` a list of {"name", "addresses"} (or of the strings above), `statuses` a list.

A registrar's name and e-mail (where the registry's notices to the registrar go) are the last
non-empty ones the file gives its code: an empty one leaves the stored value, since a registrar
always has a name and its address may have been set in the admin. A malformed e-mail, or one
without a registrar code, rejects the row.

Only what a row gives is changed: a column the file does not have (a key an object does not
carry) leaves the stored value as it is, while an empty value clears it. A contact handle names
one contact across the file, so its fields may come from several rows: the later value wins,
and an empty one does not blank a value another row gives (an administrative-contact row has no
address columns and no say over the address of the same handle as registrant).

A row that cannot be used (a name outside the zones, a malformed value, bytes that are not UTF-8)
is rejected with its line and reason and the rest goes in; a file that is not CSV or JSON at all
is refused whole and nothing is stored. Everything is read and checked
in memory first; the database then sees a few statements per 2,000 names, never one per row.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import enum
import functools
import gc
import io
import ipaddress
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import idna
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connections, models, router, transaction
from django.utils import timezone

from zonewarden import clock
from zonewarden.bulkinsert import chunked, insert_rows, select_in
from zonewarden.domains.models import Contact, Domain, Registrar
from zonewarden.intake.normalize import in_zones, registered_domain
from zonewarden.whois.parser import EPP_STATUSES, to_alabel

FORMATS = ("csv", "json")
ROLES = ("registrant", "admin")
CONTACT_FIELDS = ("name", "organization", "email", "phone", "street", "city", "postal_code", "country")
# Reported rejected rows are capped so one broken file cannot make a huge report.
MAX_REJECTIONS = 1000
MAX_NAMESERVERS = 64
MAX_STATUSES = 32
# The head of a file that must be UTF-8 for the file to be read at all.
# The head of a file in which format and binary content are recognised.
HEAD_BYTES = 16384
PROGRESS_EVERY = 5000

_SEPARATORS = re.compile(r"[\s;]+")
_STATUS_SEPARATORS = re.compile(r"[\s;,]+")
_REGISTRAR_CODE = re.compile(r"[a-z0-9][a-z0-9._-]*")
_SURROGATE = re.compile(r"[\udc80-\udcff]")
# A name that is plain lower-case letters, digits and hyphens needs no IDNA processing.
_PLAIN_NAME = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_HYPHENS_3_4 = re.compile(r"(?:^|\.)..--")


class ImportRefused(Exception):
    """The file as a whole cannot be read as the registry's data; nothing was stored."""


class RowError(ValueError):
    """One row cannot be used; the message says why, for a person to read."""


class _Keep(enum.Enum):
    """The row does not give this value: the stored one stays."""

    KEEP = "keep"


KEEP = _Keep.KEEP


@dataclass
class ImportReport:
    """What became of a file's rows; the keys of `as_json` are a contract of `registry import --json`.

    `read = created + updated + unchanged + rejected`.
    """

    format: str = ""
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejected_rows: list[dict[str, Any]] = field(default_factory=list)
    registrars_created: int = 0
    contacts_created: int = 0
    contacts_updated: int = 0

    def reject(self, line: int, reason: str) -> None:
        """Count a rejected row and keep its line and reason (the first MAX_REJECTIONS)."""
        self.rejected += 1
        if len(self.rejected_rows) < MAX_REJECTIONS:
            self.rejected_rows.append({"line": line, "reason": reason})

    def counts(self) -> dict[str, int]:
        """Return the row counts."""
        return {
            "read": self.read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }

    def as_json(self) -> dict[str, Any]:
        """Return the report as `registry import --json` prints it."""
        return {
            **self.counts(),
            "rejected_rows": self.rejected_rows,
            "format": self.format,
            "registrars_created": self.registrars_created,
            "contacts_created": self.contacts_created,
            "contacts_updated": self.contacts_updated,
        }


@dataclass(slots=True)
class Entry:
    """One usable row: a name and what the row says about it (KEEP where it says nothing)."""

    line: int
    domain: str
    unicode_name: str
    registrar: str | None | _Keep = KEEP
    registrar_name: str = ""
    registrar_email: str = ""
    registrant: dict[str, str] | None | _Keep = KEEP
    admin: dict[str, str] | None | _Keep = KEEP
    nameservers: list[dict[str, Any]] | _Keep = KEEP
    statuses: list[str] | _Keep = KEEP
    created: dt.datetime | None | _Keep = KEEP


# --- Reading the file ----------------------------------------------------------------------------


def detect(data: bytes) -> str:
    """Return "json" when the file starts with `[` or `{`, else "csv"."""
    head = data[:HEAD_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return "json" if head in (b"[", b"{") else "csv"


def _text(data: bytes) -> str:
    """Return the file as text; refuse a binary file."""
    if b"\x00" in data[:HEAD_BYTES]:
        raise ImportRefused("the file is not CSV or JSON text: it contains NUL bytes (a binary file?)")
    # Bytes that are not UTF-8 are kept as lone surrogates and reject only their own row.
    return data.decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")


def _records(text: str, fmt: str) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """Yield (line, record) for each row, or (line, RowError) for a row that cannot be read."""
    if fmt == "csv":
        yield from _csv_records(text)
        return
    stripped = text.lstrip()
    if stripped.startswith("["):
        yield from _json_array(text)
    elif stripped.startswith("{"):
        yield from _json_lines(text)
    elif not stripped:
        return
    else:
        raise ImportRefused(f"the file is not JSON: it starts with {stripped[:20]!r}, not [ or {{")


def _delimiter(header_line: str) -> str:
    """Return the most frequent of `,`, `;` and tab in the header line (`,` when none)."""
    counts = {sep: header_line.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _csv_records(text: str) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """Read a CSV file with a header row."""
    first = next((line for line in text.split("\n") if line.strip()), "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first))
    header: list[str] | None = None
    while header is None:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportRefused(f"the file is not CSV: {exc}") from None
        if any(cell.strip() for cell in row):
            header = [cell.strip().lower() for cell in row]
    if "domain" not in header:
        shown = ", ".join(header)[:200]
        raise ImportRefused(
            f"the file is not the registry's CSV: its header row has no 'domain' column (it has: {shown})"
        )
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, RowError(f"the row is not valid CSV: {exc}")
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield start, RowError(f"the row has {len(row)} fields where the header has {len(header)}")
            continue
        yield start, dict(zip(header, row, strict=True))


class _LineCounter:
    """Turn offsets into line numbers, for offsets that only grow."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.offset = 0
        self.line = 1

    def at(self, offset: int) -> int:
        self.line += self.text.count("\n", self.offset, offset)
        self.offset = offset
        return self.line


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _json_array(text: str) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """Read a JSON array element by element, so that each keeps its line number."""
    decoder = json.JSONDecoder()
    lines = _LineCounter(text)
    position = _skip_space(text, text.index("[") + 1)
    if text.startswith("]", position):
        return
    read_any = False
    while True:
        line = lines.at(position)
        try:
            item, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            if not read_any:
                raise ImportRefused(f"the file is not JSON: {exc.msg} at line {exc.lineno}") from None
            yield (
                line,
                RowError(
                    f"JSON syntax error ({exc.msg} at line {exc.lineno}); the rest of the file cannot be read"
                ),
            )
            return
        read_any = True
        yield line, item if isinstance(item, dict) else RowError(f"a {_kind(item)}, not a JSON object")
        position = _skip_space(text, end)
        if text.startswith(",", position):
            position = _skip_space(text, position + 1)
            continue
        if text.startswith("]", position) and not text[position + 1 :].strip():
            return
        yield (
            lines.at(position),
            RowError(
                "JSON syntax error (expected ',' or the closing ']'); the rest of the file cannot be read"
            ),
        )
        return


def _json_lines(text: str) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """Read JSON Lines; a single object spread over several lines is read too."""
    read_any = False
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            if not read_any:
                yield from _one_json_object(text, exc)
                return
            yield number, RowError(f"the line is not JSON: {exc.msg}")
            continue
        read_any = True
        yield number, item if isinstance(item, dict) else RowError(f"a {_kind(item)}, not a JSON object")


def _one_json_object(text: str, first_error: json.JSONDecodeError) -> Iterator[tuple[int, dict[str, Any]]]:
    """Read a file whose first line is no JSON value of its own: one object, or nothing usable."""
    try:
        item = json.loads(text)
    except json.JSONDecodeError:
        raise ImportRefused(f"the file is not JSON: {first_error.msg} on its first line") from None
    if not isinstance(item, dict):
        raise ImportRefused(f"the file is not JSON objects: it holds a {_kind(item)}")
    yield _LineCounter(text).at(text.index("{")), item


def _kind(value: Any) -> str:
    return {list: "list", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")


# --- Checking one row ----------------------------------------------------------------------------


def _concrete(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    found = model._meta.get_field(name)
    assert isinstance(found, models.Field)
    return found


def _max_length(model: type[models.Model], name: str) -> int:
    length = _concrete(model, name).max_length
    assert length is not None
    return length


CONTACT_LIMITS = {name: _max_length(Contact, name) for name in ("handle", *CONTACT_FIELDS)}
REGISTRAR_NAME_LIMIT = _max_length(Registrar, "name")
REGISTRAR_CODE_LIMIT = _max_length(Registrar, "code")
REGISTRAR_EMAIL_LIMIT = _max_length(Registrar, "email")


def _string(value: Any, label: str) -> str:
    """Return a field's value as stripped text; null is empty, numbers are written out."""
    if type(value) is str:
        text = value.strip()
        if text.isascii():
            return text
    elif value is None:
        return ""
    elif isinstance(value, (bool, list, dict)):
        raise RowError(f"{label} must be text, not a {_kind(value)}")
    else:
        text = str(value).strip()
    if _SURROGATE.search(text):
        raise RowError(f"{label} is not UTF-8 text")
    return text


def _limited(value: Any, label: str, limit: int) -> str:
    text = _string(value, label)
    if len(text) > limit:
        raise RowError(f"{label} is longer than {limit} characters")
    return text


@functools.lru_cache(maxsize=1 << 16)
def _alabel(name: str) -> str:
    """Return the A-label of a name (UTS 46), quickly for the plain ASCII names most rows hold."""
    text = name.lower().removesuffix(".")
    if len(text) <= 253 and _PLAIN_NAME.fullmatch(text) and not _HYPHENS_3_4.search(text):
        return text
    return to_alabel(name)


def _domain(value: Any, zones: tuple[str, ...]) -> tuple[str, str]:
    """Return (A-label, Unicode name) of a registered name in the zones."""
    raw = _string(value, "domain")
    if not raw:
        raise RowError("the domain is empty")
    try:
        alabel = _alabel(raw)
    except ValueError as exc:
        raise RowError(str(exc)) from None
    if not in_zones(alabel, zones):
        raise RowError(f"{alabel} is outside the zones {', '.join(zones)}")
    if any(alabel == zone.strip(".").lower() for zone in zones) or "." not in alabel:
        raise RowError(f"{alabel} is a zone, not a registered name")
    parent = registered_domain(alabel)
    if parent is not None and parent != alabel:
        raise RowError(f"{alabel} is not a registered name: it lies under {parent}")
    if "xn--" not in alabel:
        return alabel, alabel
    try:
        return alabel, idna.decode(alabel)
    except (idna.IDNAError, UnicodeError):
        return alabel, alabel


_FLAT_KEYS = {role: [(name, f"{role}_{name}") for name in ("handle", *CONTACT_FIELDS)] for role in ROLES}


def _contact(record: dict[str, Any], role: str) -> dict[str, str] | None | _Keep:
    """Return the role's contact (handle and the fields the row gives), None to clear it, or KEEP."""
    nested = record.get(role)
    values: dict[str, Any]
    if isinstance(nested, dict):
        values = nested
    elif role in record and (nested is None or isinstance(nested, str)):
        values = {"handle": nested}  # "registrant": "H1" names the contact by its handle
    elif role in record:
        raise RowError(f"{role} must be an object, not a {_kind(nested)}")
    else:
        values = {name: record[key] for name, key in _FLAT_KEYS[role] if key in record}
    if not values and role not in record:
        return KEEP
    contact: dict[str, str] = {}
    for name in ("handle", *CONTACT_FIELDS):
        if name in values:
            contact[name] = _string(values[name], f"{role}_{name}")
    if "country" in contact:
        country = contact["country"].upper()
        if country and not (len(country) == 2 and country.isascii() and country.isalpha()):
            raise RowError(f"{role}_country {country[:80]!r} is not a two-letter country code")
        contact["country"] = country
    for name, value in contact.items():
        if len(value) > CONTACT_LIMITS[name]:
            raise RowError(f"{role}_{name} is longer than {CONTACT_LIMITS[name]} characters")
    handle = contact.pop("handle", "")
    if not handle:
        if any(contact.values()):
            given = ", ".join(f"{role}_{name}" for name, value in contact.items() if value)
            raise RowError(f"{given} given but {role}_handle is empty")
        return None  # the registry holds no such contact for the name
    contact["handle"] = handle
    return contact


@functools.lru_cache(maxsize=1024)
def _is_email(text: str) -> bool:
    try:
        validate_email(text)
    except ValidationError:
        return False
    return True


def _registrar(record: dict[str, Any]) -> tuple[str | None | _Keep, str, str]:
    """Return (registrar code, None to clear it, or KEEP; its name and e-mail when given)."""
    value = record.get("registrar", KEEP)
    name: Any = record.get("registrar_name", "")
    email: Any = record.get("registrar_email", "")
    if isinstance(value, dict):
        name = value.get("name", name)
        email = value.get("email", email)
        value = value.get("code", "")
    email = _limited(email, "registrar_email", REGISTRAR_EMAIL_LIMIT)
    if email and not _is_email(email):
        raise RowError(f"registrar_email {email[:80]!r} is not an e-mail address")
    if value is KEEP:
        if email:
            raise RowError("registrar_email given but the row has no registrar")
        return KEEP, "", ""
    code = _limited(value, "registrar", REGISTRAR_CODE_LIMIT).lower()
    if code and not _REGISTRAR_CODE.fullmatch(code):
        raise RowError(f"registrar code {code!r} may hold only letters, digits, '.', '_' and '-'")
    if email and not code:
        raise RowError("registrar_email given but registrar is empty")
    return code or None, _limited(name, "registrar_name", REGISTRAR_NAME_LIMIT), email


@functools.lru_cache(maxsize=1 << 16)
def _address(text: str) -> str | None:
    """Return an IPv4 or IPv6 address in its canonical form, or None when it is none."""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _nameserver(item: Any) -> dict[str, Any]:
    """Return {"name", "addresses"} from `name/addr,addr` text or a {"name", "addresses"} object."""
    if isinstance(item, dict):
        name_text = _string(item.get("name"), "name server")
        addresses = item.get("addresses") or []
        if isinstance(addresses, str):
            addresses = addresses.split(",")
        if not isinstance(addresses, list):
            raise RowError(f"the addresses of name server {name_text!r} must be a list")
    else:
        name_text, _, address_text = _string(item, "name server").partition("/")
        addresses = address_text.split(",") if address_text else []
    try:
        name = _alabel(name_text)
    except ValueError as exc:
        raise RowError(f"name server: {exc}") from None
    if "." not in name:
        raise RowError(f"name server {name!r} is not a host name")
    normalized: list[str] = []
    for address in addresses:
        text = _string(address, "name server address")
        if not text:
            continue
        canonical = _address(text)
        if canonical is None:
            raise RowError(f"name server {name}: {text[:80]!r} is not an IP address")
        if canonical not in normalized:
            normalized.append(canonical)
    return {"name": name, "addresses": normalized}


def _nameservers(value: Any) -> list[dict[str, Any]]:
    items = value if isinstance(value, list) else _SEPARATORS.split(_string(value, "nameservers"))
    servers: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in items:
        if isinstance(item, str) and not item.strip():
            continue
        server = _nameserver(item)
        if server["name"] not in seen:
            seen.add(server["name"])
            servers.append(server)
    if len(servers) > MAX_NAMESERVERS:
        raise RowError(f"more than {MAX_NAMESERVERS} name servers")
    return servers


def _statuses(value: Any) -> list[str]:
    if isinstance(value, list):
        tokens = [_string(item, "status") for item in value]
    else:
        tokens = _STATUS_SEPARATORS.split(_string(value, "statuses"))
    statuses: list[str] = []
    for token in tokens:
        if not token:
            continue
        status = EPP_STATUSES.get(token.lower())
        if status is None:
            raise RowError(f"{token[:80]!r} is not an EPP status (e.g. ok, clientHold, serverHold)")
        if status not in statuses:
            statuses.append(status)
    if len(statuses) > MAX_STATUSES:
        raise RowError(f"more than {MAX_STATUSES} statuses")
    return statuses


def _created(value: Any) -> dt.datetime | None:
    text = _string(value, "created")
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise RowError(f"created: {text[:80]!r} is not an ISO 8601 date and time") from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)  # the configured time zone's wall-clock time
    return moment


def _entry(line: int, record: dict[str, Any], zones: tuple[str, ...]) -> Entry:
    """Check one row and return what it says."""
    domain, unicode_name = _domain(record.get("domain"), zones)
    registrar, registrar_name, registrar_email = _registrar(record)
    entry = Entry(
        line=line,
        domain=domain,
        unicode_name=unicode_name,
        registrar=registrar,
        registrar_name=registrar_name,
        registrar_email=registrar_email,
        registrant=_contact(record, "registrant"),
        admin=_contact(record, "admin"),
    )
    if "nameservers" in record:
        entry.nameservers = _nameservers(record["nameservers"])
    if "statuses" in record:
        entry.statuses = _statuses(record["statuses"])
    if "created" in record:
        entry.created = _created(record["created"])
    return entry


# --- Storing -------------------------------------------------------------------------------------


def import_registry(
    data: bytes, *, fmt: str | None = None, progress: Callable[[int], None] | None = None
) -> ImportReport:
    """Read the registry's data, reject bad rows with their line and reason, store the rest at once.

    `fmt` is "csv" or "json" (recognised from the first character when omitted). `progress` is
    called with the number of rows read since its last call. Raises ImportRefused, storing
    nothing, when the file is not CSV or JSON at all.
    """
    if fmt is not None and fmt not in FORMATS:
        raise ImportRefused(f"unknown format {fmt!r}; use csv or json")
    fmt = fmt or detect(data)
    text = _text(data)
    with _collector_paused():
        return _import(text, fmt, progress)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Hold off the cycle collector while a file's rows are read and stored.

    The rows are acyclic and freed by reference counting; with a few hundred thousand of them
    alive, the collector's full passes would cost as much as the work itself.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _import(text: str, fmt: str, progress: Callable[[int], None] | None) -> ImportReport:
    """Read, check and store the rows of a file's text."""
    report = ImportReport(format=fmt)
    zones = tuple(settings.ZONEWARDEN_ZONES)
    entries: dict[str, Entry] = {}
    pending = 0
    for line, record in _records(text, fmt):
        report.read += 1
        pending += 1
        if progress is not None and pending >= PROGRESS_EVERY:
            progress(pending)
            pending = 0
        if isinstance(record, RowError):
            report.reject(line, str(record))
            continue
        try:
            entry = _entry(line, record, zones)
        except RowError as exc:
            report.reject(line, str(exc))
            continue
        earlier = entries.get(entry.domain)
        if earlier is not None:
            report.reject(line, f"{entry.domain} is on line {earlier.line} already")
            continue
        entries[entry.domain] = entry
    if progress is not None and pending:
        progress(pending)
    with transaction.atomic():
        _Store(report).run(list(entries.values()))
    return report


DOMAIN_COLUMNS = (
    "unicode_name",
    "registrar_id",
    "registrant_id",
    "admin_contact_id",
    "nameservers",
    "statuses",
    "created",
    "registered",
)


class _Store:
    """Upsert registrars, then contacts, then names, in bulk; count what each row changed."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        self.registrar_ids: dict[str, int] = {}
        self.changed_registrars: set[str] = set()
        self.contact_ids: dict[str, int] = {}
        self.changed_contacts: set[str] = set()

    def run(self, entries: list[Entry]) -> None:
        self._registrars(entries)
        self._contacts(entries)
        self._domains(entries)

    def _registrars(self, entries: list[Entry]) -> None:
        # The last non-empty name and e-mail the file gives a code; an empty one changes nothing.
        names: dict[str, str] = {}
        emails: dict[str, str] = {}
        for entry in entries:
            if isinstance(entry.registrar, str):
                if entry.registrar_name or entry.registrar not in names:
                    names[entry.registrar] = entry.registrar_name
                if entry.registrar_email:
                    emails[entry.registrar] = entry.registrar_email
        codes = sorted(names)
        known: dict[str, tuple[int, str, str]] = {}
        for chunk in chunked(codes):
            for pk, code, name, email in Registrar.objects.filter(code__in=chunk).values_list(
                "pk", "code", "name", "email"
            ):
                known[code] = (pk, name, email)
        changed = []
        for code, (pk, stored_name, stored_email) in known.items():
            name = names[code] or stored_name
            email = emails.get(code) or stored_email
            if (name, email) != (stored_name, stored_email):
                changed.append(Registrar(pk=pk, name=name, email=email))
                self.changed_registrars.add(code)
        if changed:
            Registrar.objects.bulk_update(changed, ["name", "email"])
        new = [
            Registrar(code=code, name=names[code] or code, email=emails.get(code, ""))
            for code in codes
            if code not in known
        ]
        Registrar.objects.bulk_create(new)
        self.report.registrars_created = len(new)
        self.registrar_ids = {code: values[0] for code, values in known.items()}
        self.registrar_ids.update(dict(select_in(Registrar, ("code", "id"), "code", [r.code for r in new])))

    def _contacts(self, entries: list[Entry]) -> None:
        # One handle is one contact: the fields rows give are merged in file order.
        given: dict[str, dict[str, str]] = {}
        for entry in entries:
            for contact in (entry.registrant, entry.admin):
                if isinstance(contact, dict):
                    fields = given.setdefault(contact["handle"], {})
                    for name, value in contact.items():
                        # An empty value clears a field unless another row gives the handle a value.
                        if name != "handle" and (value or name not in fields):
                            fields[name] = value
        handles = sorted(given)
        stored: dict[str, tuple[Any, ...]] = {}
        for chunk in chunked(handles):
            for row in Contact.objects.filter(handle__in=chunk).values_list("handle", "pk", *CONTACT_FIELDS):
                stored[row[0]] = row[1:]
        updates: list[list[Any]] = []
        for handle, pk_and_values in stored.items():
            current = dict(zip(CONTACT_FIELDS, pk_and_values[1:], strict=True))
            merged = {**current, **given[handle]}
            if merged != current:
                self.changed_contacts.add(handle)
                updates.append([*(merged[name] for name in CONTACT_FIELDS), pk_and_values[0]])
        _update_rows(Contact, CONTACT_FIELDS, updates)
        new = [handle for handle in handles if handle not in stored]
        insert_rows(
            Contact,
            ("handle", *CONTACT_FIELDS),
            ((handle, *(given[handle].get(name, "") for name in CONTACT_FIELDS)) for handle in new),
        )
        self.report.contacts_created = len(new)
        self.report.contacts_updated = len(updates)
        self.contact_ids = {handle: values[0] for handle, values in stored.items()}
        self.contact_ids.update(dict(select_in(Contact, ("handle", "id"), "handle", new)))

    def _values(self, entry: Entry, current: tuple[Any, ...]) -> tuple[Any, ...]:
        """Return the name's columns (DOMAIN_COLUMNS) after this row: the stored ones with what it gives."""
        _, registrar_id, registrant_id, admin_id, nameservers, statuses, created, _ = current
        if entry.registrar is not KEEP:
            registrar_id = self.registrar_ids[entry.registrar] if entry.registrar else None
        if entry.registrant is not KEEP:
            registrant_id = self.contact_ids[entry.registrant["handle"]] if entry.registrant else None
        if entry.admin is not KEEP:
            admin_id = self.contact_ids[entry.admin["handle"]] if entry.admin else None
        if entry.nameservers is not KEEP:
            nameservers = entry.nameservers
        if entry.statuses is not KEEP:
            statuses = entry.statuses
        if entry.created is not KEEP:
            created = entry.created
        return (
            entry.unicode_name,
            registrar_id,
            registrant_id,
            admin_id,
            nameservers,
            statuses,
            created,
            True,
        )

    def _touched_elsewhere(self, entry: Entry) -> bool:
        """Say whether the registrar or a contact the row names was changed by this file."""
        if isinstance(entry.registrar, str) and entry.registrar in self.changed_registrars:
            return True
        return any(
            isinstance(contact, dict) and contact["handle"] in self.changed_contacts
            for contact in (entry.registrant, entry.admin)
        )

    def _domains(self, entries: list[Entry]) -> None:
        stored: dict[str, tuple[Any, ...]] = {}
        for chunk in chunked([entry.domain for entry in entries]):
            for row in Domain.objects.filter(name__in=chunk).values_list("name", *DOMAIN_COLUMNS):
                stored[row[0]] = row[1:]
        fresh: tuple[Any, ...] = ("", None, None, None, [], [], None, True)
        new: list[tuple[Any, ...]] = []
        updates: list[list[Any]] = []
        now = clock.now()
        for entry in entries:
            current = stored.get(entry.domain)
            values = self._values(entry, current or fresh)
            if current is None:
                new.append((entry.domain, *values))
                self.report.created += 1
            elif values != current:
                updates.append([*values, now, entry.domain])
                self.report.updated += 1
            elif self._touched_elsewhere(entry):
                self.report.updated += 1
            else:
                self.report.unchanged += 1
        _update_rows(Domain, (*DOMAIN_COLUMNS, "updated_at"), updates)
        insert_rows(Domain, ("name", *DOMAIN_COLUMNS), new)


def _update_rows(model: type[models.Model], columns: Sequence[str], rows: list[list[Any]]) -> None:
    """UPDATE rows by primary key: each row holds the values of `columns`, then the key.

    One prepared statement run with executemany: QuerySet.bulk_update's CASE expressions grow with
    the batch and cost more than the database's work on large files.
    """
    if not rows:
        return
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    fields = [_concrete(model, column.removesuffix("_id")) for column in columns]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    key = _concrete(model, meta.pk.name).column if meta.pk else "id"
    # Only the model's own table and column names go into the statement; values are bound.
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(key)} = %s"  # noqa: S608
    # Text, numbers, booleans and keys go to the driver as they are; only date-times and JSON need
    # the backend's adaptation.
    adapting = [
        (index, field)
        for index, field in enumerate(fields)
        if isinstance(field, (models.DateTimeField, models.JSONField))
    ]
    with connection.cursor() as cursor:
        for batch in chunked(rows, 5000):
            params = []
            for row in batch:
                values = list(row)
                for index, field in adapting:
                    values[index] = field.get_db_prep_save(values[index], connection)
                params.append(values)
            cursor.executemany(sql, params)
