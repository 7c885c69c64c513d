"""Parse answers of the .kz / .қаз WHOIS server (whois.nic.kz) into a `WhoisRecord`.

The server has two layouts, both handled by one line-by-line reader:

* current: blocks `Registrant`, `Administrative Contact`, `Name Server list`, then
  `Domain created`, `Last modified`, `Domain status`, `Registrar created`, `Current Registrar`;
* legacy: blocks `Organization Using Domain Name`, `Administrative Contact/Agent`,
  `Nameserver in listed order` (`Primary server` / `Secondary server`), and the server's
  own spelling `Registar created` / `Current Registar`.

Labels are padded with dots (`Domain Name............: x`), so a label is whatever stands
before the first colon, with the padding taken off.

Time zones: an answer that names its zone is taken at its word; both layouts write
`(GMT+0:00)`, i.e. UTC, and the ISO string keeps the offset the answer gave. Only a time
without any zone (very old answers, `2010-10-04 17:24:09.0`) is read as Almaty wall-clock
time: +06:00 before 2024-03-01, +05:00 from then on (Kazakhstan's switch to one zone).
Almaty's summer time before 2005 is deliberately ignored; no zone-less answer that old is known.

The answer is hostile input. `parse_kz_whois` never raises on a `str`: garbage gives a
record with `found` false, and field values are cleaned of control characters and capped.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

import idna

# Longest domain name text we hand to idna; anything longer cannot be a name (253 octets max),
# and the cap keeps a hostile answer from making idna chew on megabytes.
MAX_NAME_CHARS = 1024
# Cap on one field value and on list lengths: the raw answer keeps everything, the
# structured fields only need what a real answer can hold.
MAX_FIELD_CHARS = 1000
MAX_ITEMS = 64
# A label is short (`Secondary ip address...`); longer text before a colon is not a label.
MAX_LABEL_CHARS = 64

_ALMATY_UNTIL_2024 = dt.timezone(dt.timedelta(hours=6))
_ALMATY_SINCE_2024 = dt.timezone(dt.timedelta(hours=5))
_ALMATY_SWITCH_DAY = dt.date(2024, 3, 1)

_LABEL_RE = re.compile(r"[A-Za-z][A-Za-z0-9 /\-]*", re.ASCII)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufeff\ufffe\uffff]")
_URL_RE = re.compile(r"https?://\S*", re.IGNORECASE)
_STATUS_TOKEN_RE = re.compile(r"[^\s,;()\[\]<>\"']+")
_IDENTIFIER_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*", re.ASCII)
_CAMEL_RE = re.compile(r"[a-z]+(?:[A-Z][a-z0-9]*)+", re.ASCII)
_DATE_RE = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})(?:T|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(.*)",
    re.ASCII,
)
_ZONE_RE = re.compile(r"(?:GMT|UTC|Z)?\s*(?:([+-])(\d{1,2})(?::?(\d{2}))?)?", re.ASCII | re.IGNORECASE)

# EPP status names (RFC 5731 and the grace periods of RFC 3915), keyed by lower case so
# `CLIENTHOLD` from a sloppy server still comes out as `clientHold`.
EPP_STATUSES = {
    name.lower(): name
    for name in (
        "ok",
        "inactive",
        "clientDeleteProhibited",
        "clientHold",
        "clientRenewProhibited",
        "clientTransferProhibited",
        "clientUpdateProhibited",
        "serverDeleteProhibited",
        "serverHold",
        "serverRenewProhibited",
        "serverTransferProhibited",
        "serverUpdateProhibited",
        "pendingCreate",
        "pendingDelete",
        "pendingRenew",
        "pendingRestore",
        "pendingTransfer",
        "pendingUpdate",
        "addPeriod",
        "autoRenewPeriod",
        "renewPeriod",
        "transferPeriod",
        "redemptionPeriod",
    )
}

_SECTION_HEADERS = {
    "registrant": "registrant",
    "organization using domain name": "registrant",
    "administrative contact": "admin",
    "administrative contact/agent": "admin",
    "name server list": "ns",
    "nameserver in listed order": "ns",
    "name servers": "ns",
    "nameservers": "ns",
}

_REGISTRANT_LABELS = {
    "name": "name",
    "organization name": "organization",
    "organization": "organization",
    "street address": "street",
    "street": "street",
    "address": "street",
    "city": "city",
    "state": "state",
    "state/province": "state",
    "postal code": "postal_code",
    "zip code": "postal_code",
    "country": "country",
    "country code": "country",
}

_ADMIN_LABELS = {
    "name": "name",
    "organization name": "organization",
    "organization": "organization",
    "phone number": "phone",
    "phone": "phone",
    "fax number": "fax",
    "fax": "fax",
    "email address": "email",
    "email": "email",
    "e-mail": "email",
}

_NS_NAME_LABELS = {"name server", "nameserver", "primary server", "secondary server", "server"}
_NS_ADDRESS_LABELS = {"ip address", "ip addresses", "primary ip address", "secondary ip address"}

# `Registar` is how the legacy server spells it.
_TOP_LABELS = {
    "domain name": "domain",
    "domain": "domain",
    "domain created": "created",
    "created": "created",
    "last modified": "modified",
    "modified": "modified",
    "domain status": "status",
    "status": "status",
    "registrar created": "registrar_created",
    "registar created": "registrar_created",
    "current registrar": "registrar",
    "current registar": "registrar",
    "registrar": "registrar_fallback",
    "registar": "registrar_fallback",
}


@dataclass(frozen=True, slots=True)
class Registrant:
    """Hold the registrant (holder) block; the .kz WHOIS shows no e-mail for it."""

    name: str | None = None
    organization: str | None = None
    street: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None

    def to_json(self) -> dict[str, str | None]:
        """Return the block as a JSON-ready dict."""
        return {
            "name": self.name,
            "organization": self.organization,
            "street": self.street,
            "city": self.city,
            "state": self.state,
            "postal_code": self.postal_code,
            "country": self.country,
        }


@dataclass(frozen=True, slots=True)
class AdminContact:
    """Hold the administrative contact, whose e-mail is where notices go."""

    name: str | None = None
    organization: str | None = None
    phone: str | None = None
    fax: str | None = None
    email: str | None = None

    def to_json(self) -> dict[str, str | None]:
        """Return the block as a JSON-ready dict."""
        return {
            "name": self.name,
            "organization": self.organization,
            "phone": self.phone,
            "fax": self.fax,
            "email": self.email,
        }


@dataclass(frozen=True, slots=True)
class NameServer:
    """Hold one name server (A-label) and the IPv4/IPv6 addresses listed with it."""

    name: str
    addresses: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Return the server as a JSON-ready dict."""
        return {"name": self.name, "addresses": list(self.addresses)}


@dataclass(frozen=True, slots=True)
class WhoisRecord:
    """Hold what one WHOIS answer says about one domain name."""

    found: bool
    domain: str
    registrar: str | None = None
    registrar_created: str | None = None
    registrant: Registrant = field(default_factory=Registrant)
    admin: AdminContact = field(default_factory=AdminContact)
    nameservers: tuple[NameServer, ...] = ()
    statuses: tuple[str, ...] = ()
    created: dt.datetime | None = None
    modified: dt.datetime | None = None
    raw: str = ""

    def to_json(self) -> dict[str, Any]:
        """Return the record as a JSON-ready dict (the contract stored by the Django side)."""
        return {
            "found": self.found,
            "domain": self.domain,
            "registrar": self.registrar,
            "registrar_created": self.registrar_created,
            "registrant": self.registrant.to_json(),
            "admin": self.admin.to_json(),
            "nameservers": [server.to_json() for server in self.nameservers],
            "statuses": list(self.statuses),
            "created": self.created.isoformat() if self.created else None,
            "modified": self.modified.isoformat() if self.modified else None,
            "raw": self.raw,
        }


def _shorten(text: str, limit: int = 80) -> str:
    """Return text cut to `limit` characters, for error messages about hostile input."""
    return text if len(text) <= limit else text[:limit] + "…"


def to_alabel(name: str) -> str:
    """Return the lower-case A-label form of a domain name; raise ValueError if it is not one."""
    text = name.strip()
    # One trailing dot is the DNS root and means the same name.
    if text.endswith("."):
        text = text[:-1]
    if not text:
        raise ValueError("the domain name is empty")
    if len(text) > MAX_NAME_CHARS:
        raise ValueError(f"the domain name is too long ({len(text)} characters)")
    try:
        encoded = idna.encode(text, uts46=True)
    except (idna.IDNAError, UnicodeError) as exc:
        raise ValueError(f"{_shorten(name)!r} is not a valid domain name: {exc}") from None
    alabel = encoded.decode("ascii").lower()
    if len(alabel) > 253:
        raise ValueError(f"{_shorten(name)!r} is not a valid domain name: longer than 253 characters")
    return alabel


def _try_alabel(name: str) -> str | None:
    """Return the A-label of name, or None when it is not a valid domain name."""
    try:
        return to_alabel(name)
    except ValueError:
        return None


def _clean(value: str) -> str | None:
    """Return a field value without control characters and padding, capped; None when blank."""
    text = _CONTROL_RE.sub("", value).strip()
    if not text:
        return None
    return text[:MAX_FIELD_CHARS]


def _split_label(line: str) -> tuple[str, str] | None:
    """Return (normalised label, value) for a `Label.....: value` line, else None."""
    head, colon, value = line.partition(":")
    if not colon or len(head) > MAX_LABEL_CHARS:
        return None
    label = head.strip().rstrip(" .\t")
    if not _LABEL_RE.fullmatch(label):
        return None
    return " ".join(label.lower().split()), value


def almaty_offset(local: dt.datetime) -> dt.timezone:
    """Return Almaty's UTC offset for a wall-clock time (+06:00 before 2024-03-01, +05:00 since)."""
    return _ALMATY_SINCE_2024 if local.date() >= _ALMATY_SWITCH_DAY else _ALMATY_UNTIL_2024


def parse_whois_time(value: str) -> dt.datetime | None:
    """Return the aware time of a WHOIS date value, or None when it is blank or unreadable."""
    text = value.strip()
    if not text or len(text) > 80:
        return None
    match = _DATE_RE.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute = (int(match.group(i)) for i in range(1, 6))
    second = int(match.group(6) or 0)
    micro = int((match.group(7) or "0")[:6].ljust(6, "0"))
    zone_text = match.group(8).strip()
    if zone_text.startswith("(") and zone_text.endswith(")"):
        zone_text = zone_text[1:-1].strip()
    try:
        wall = dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=dt.UTC)
    except ValueError:
        return None
    if not zone_text:
        # No zone given: Almaty wall-clock time (see the module docstring).
        return wall.replace(tzinfo=almaty_offset(wall))
    zone = _ZONE_RE.fullmatch(zone_text)
    if zone is None:
        # A zone we do not know (e.g. "MSK") is not guessed at.
        return None
    sign, hours, minutes = zone.groups()
    if sign is None:
        return wall  # plain GMT / UTC / Z
    offset = dt.timedelta(hours=int(hours), minutes=int(minutes or 0))
    if offset > dt.timedelta(hours=14) or int(minutes or 0) >= 60:
        return None
    return wall.replace(tzinfo=dt.timezone(-offset if sign == "-" else offset))


def _canonical_status(token: str) -> str | None:
    """Return the EPP spelling of a known status token, else None."""
    return EPP_STATUSES.get(token.rstrip(".:").lower())


def _statuses_in(text: str) -> list[str]:
    """Return the status names on one status line, without URLs or explanations.

    The first entry may be any identifier (KazNIC might have statuses of its own); after a
    comma or semicolon only known EPP names count, because explanations can contain commas.
    """
    found: list[str] = []
    text = _URL_RE.sub(" ", text)
    for position, chunk in enumerate(re.split(r"[,;]", text)):
        for index, token in enumerate(_STATUS_TOKEN_RE.findall(chunk)):
            known = _canonical_status(token)
            if known is not None:
                found.append(known)
            elif position == 0 and index == 0 and _IDENTIFIER_RE.fullmatch(token):
                found.append(token)
            else:
                break  # the explanation (`- Normal state.`) starts here
    return found


def _starts_status(line: str) -> bool:
    """Return whether an indented line after `Domain status` holds a status, not explanation text."""
    text = _URL_RE.sub(" ", line).strip()
    tokens = _STATUS_TOKEN_RE.findall(text)
    if not tokens:
        return False
    first = tokens[0]
    if _canonical_status(first) is not None:
        return True
    if not text.startswith(first) or _CAMEL_RE.fullmatch(first) is None:
        return False
    rest = text[len(first) :].lstrip()
    # An unknown name must look like one (camelCase), alone or followed by a dash or another entry.
    return rest == "" or rest[0] in "-,;\u2013\u2014"


def _addresses_in(text: str) -> list[str]:
    """Return the valid IPv4/IPv6 addresses in a comma- or space-separated list, normalised."""
    found: list[str] = []
    for token in re.split(r"[\s,;]+", text):
        candidate = token.strip("[]()")
        if not candidate or len(candidate) > 64:
            continue
        try:
            address = str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
        if address not in found:
            found.append(address)
            if len(found) >= MAX_ITEMS:
                break
    return found


def _host_name(text: str) -> str | None:
    """Return the A-label of a name server's name, or None when it is not a host name."""
    name = text.strip().rstrip(".")
    alabel = _try_alabel(name) if name else None
    if alabel is None or "." not in alabel:
        return None
    return alabel


class _Reader:
    """Collect the fields of one answer, line by line."""

    def __init__(self) -> None:
        self.nothing_found = False
        self.section = ""
        self.top: dict[str, str] = {}
        self.registrant: dict[str, str] = {}
        self.admin: dict[str, str] = {}
        self.servers: list[tuple[str, list[str]]] = []
        self.statuses: list[str] = []
        self.in_status = False

    def feed(self, line: str) -> None:
        """Take in one line of the answer."""
        stripped = line.strip()
        if self.in_status:
            if stripped and line[:1].isspace() and not self._is_top_field(stripped):
                if _starts_status(stripped):
                    self._add_statuses(stripped)
                return  # otherwise the previous status's explanation goes on
            self.in_status = False
        if not stripped or stripped[0] in "%#":
            return
        if stripped.lstrip("* ").lower().startswith("nothing found"):
            self.nothing_found = True
            return
        split = _split_label(stripped)
        if split is None:
            header = " ".join(stripped.lower().split())
            self.section = _SECTION_HEADERS.get(header, "other")
            return
        label, value = split
        if not value.strip() and label in _SECTION_HEADERS:
            self.section = _SECTION_HEADERS[label]
            return
        self._field(label, value)

    @staticmethod
    def _is_top_field(line: str) -> bool:
        """Return whether a line is a top-level field such as `Registar created:`, indented or not."""
        split = _split_label(line)
        return split is not None and split[0] in _TOP_LABELS

    def _add_statuses(self, text: str) -> None:
        """Add the statuses of one status line, keeping the first occurrence of each."""
        for status in _statuses_in(text):
            if status not in self.statuses and len(self.statuses) < MAX_ITEMS:
                self.statuses.append(status)

    def _field(self, label: str, value: str) -> None:
        """Store one labelled value where it belongs."""
        top = _TOP_LABELS.get(label)
        if top == "status":
            self._add_statuses(value)
            self.in_status = True
            return
        if top is not None:
            cleaned = _clean(value)
            if cleaned is not None:
                self.top.setdefault(top, cleaned)
            return
        if self.section == "ns":
            self._name_server_field(label, value)
        elif self.section == "registrant" and label in _REGISTRANT_LABELS:
            self._contact_field(self.registrant, _REGISTRANT_LABELS[label], value)
        elif self.section == "admin" and label in _ADMIN_LABELS:
            self._contact_field(self.admin, _ADMIN_LABELS[label], value)

    @staticmethod
    def _contact_field(block: dict[str, str], key: str, value: str) -> None:
        """Store a contact field unless the block already has it (the first one wins)."""
        cleaned = _clean(value)
        if cleaned is not None:
            block.setdefault(key, cleaned)

    def _name_server_field(self, label: str, value: str) -> None:
        """Start a name server, or add addresses to the one just started."""
        if label in _NS_NAME_LABELS:
            # Some servers write `ns1.example.kz 192.0.2.1` on one line.
            name_text, *rest = value.split(None, 1) or [""]
            name = _host_name(_CONTROL_RE.sub("", name_text)) if len(self.servers) < MAX_ITEMS else None
            if name is None:
                self.servers.append(("", []))  # keeps its address line from joining the previous one
                return
            self.servers.append((name, _addresses_in(rest[0] if rest else "")))
        elif label in _NS_ADDRESS_LABELS and self.servers:
            addresses = self.servers[-1][1]
            for address in _addresses_in(value):
                if address not in addresses and len(addresses) < MAX_ITEMS:
                    addresses.append(address)

    def record(self, raw: str, query_alabel: str | None, query_text: str) -> WhoisRecord:
        """Return the record for what was read."""
        answer_domain = _try_alabel(self.top.get("domain", ""))
        found = (
            not self.nothing_found
            and answer_domain is not None
            and (query_alabel is None or answer_domain == query_alabel)
        )
        if not found or answer_domain is None:
            # An answer about another name (or none) must not lend its contacts to this one.
            return WhoisRecord(found=False, domain=query_alabel or query_text, raw=raw)
        servers: list[NameServer] = []
        seen: set[str] = set()
        for name, addresses in self.servers:
            if name and name not in seen:
                seen.add(name)
                servers.append(NameServer(name=name, addresses=tuple(addresses)))
        return WhoisRecord(
            found=True,
            domain=answer_domain,
            registrar=self.top.get("registrar") or self.top.get("registrar_fallback"),
            registrar_created=self.top.get("registrar_created"),
            registrant=Registrant(**self.registrant),
            admin=AdminContact(**self.admin),
            nameservers=tuple(servers),
            statuses=tuple(self.statuses),
            created=parse_whois_time(self.top.get("created", "")),
            modified=parse_whois_time(self.top.get("modified", "")),
            raw=raw,
        )


def _query_text(query: str) -> str:
    """Return the query as the record's domain when it is not a valid name: cleaned and capped."""
    return (_clean(query) or "").lower()[:253]


def _parse(raw: str, query: str) -> WhoisRecord:
    """Parse without the safety net; the fuzz tests call this to see real bugs."""
    reader = _Reader()
    for line in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        reader.feed(line)
    return reader.record(raw, _try_alabel(query), _query_text(query))


def parse_kz_whois(raw: str, query: str) -> WhoisRecord:
    """Return the record in a whois.nic.kz answer to `query`; never raise on any text.

    `found` is true only when the answer shows a domain name equal to the query's A-label
    (or any valid name when the query is not one); otherwise all fields are empty.
    """
    try:
        return _parse(raw, query)
    except Exception:
        # A bug met on hostile input must not stop a batch; the raw answer is kept for a person.
        return WhoisRecord(found=False, domain=_try_alabel(query) or "", raw=raw)
