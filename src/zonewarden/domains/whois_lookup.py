"""WHOIS with a cache: answers kept with their fetch time and raw text, and applied to a Domain.

`lookup` asks the zone's server (ZONEWARDEN_WHOIS_SERVERS, or the one given) at most once per
ZONEWARDEN_WHOIS_CACHE_SECONDS per name and server, with ZONEWARDEN_WHOIS_TIMEOUT and at least
ZONEWARDEN_WHOIS_INTERVAL seconds between two queries to one server from this process. Every
answer is a `WhoisAnswer` row: evidence of what the registry published, and when.

`apply_answer` brings the stored Domain up to date: registrar, contacts, name servers, statuses,
creation date. The .kz WHOIS shows no contact handles, so a contact's data is changed in place only
when no other name (and not the name's other role) shares it; otherwise the name gets its own
contact `whois:<name>:<role>`, starting from the registry's data (the registrant's e-mail and phone,
which WHOIS does not show) with what WHOIS shows on top. The registry's shared record stays as is.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Mapping
from typing import Any

import idna
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models import Q

from zonewarden import clock
from zonewarden.domains.models import Contact, Domain, Registrar, WhoisAnswer
from zonewarden.whois import RateLimiter, WhoisInvalidName, parse_kz_whois, query_whois, server_for, to_alabel
from zonewarden.whois.client import format_endpoint, parse_endpoint
from zonewarden.whois.parser import EPP_STATUSES

WHOIS_HANDLE_PREFIX = "whois:"
# What each WHOIS block shows, as Contact fields (the registrant block has no e-mail or phone).
SHOWN_FIELDS: Mapping[str, tuple[str, ...]] = {
    "registrant": ("name", "organization", "street", "city", "postal_code", "country"),
    "admin": ("name", "organization", "phone", "email"),
}
_ROLE_COLUMNS = {"registrant": "registrant", "admin": "admin_contact"}
_EPP_NAMES = frozenset(EPP_STATUSES.values())

_limiter_lock = threading.Lock()
_limiter: RateLimiter | None = None


def rate_limiter() -> RateLimiter:
    """Return this process's rate limiter, spacing queries to one server ZONEWARDEN_WHOIS_INTERVAL apart."""
    global _limiter
    interval = float(settings.ZONEWARDEN_WHOIS_INTERVAL)
    with _limiter_lock:
        if _limiter is None or _limiter.min_interval_s != interval:
            _limiter = RateLimiter(interval)
        return _limiter


def configured_servers() -> dict[str, str]:
    """Return ZONEWARDEN_WHOIS_SERVERS ("zone=host:port" entries) as zone → "host:port"."""
    table: dict[str, str] = {}
    for entry in settings.ZONEWARDEN_WHOIS_SERVERS:
        zone, equals, where = entry.partition("=")
        try:
            if not equals or not zone.strip():
                raise ValueError("expected zone=host:port")
            host, port = parse_endpoint(where)
            table[to_alabel(zone.strip().strip("."))] = format_endpoint(host, port)
        except ValueError as exc:
            raise ImproperlyConfigured(f"ZONEWARDEN_WHOIS_SERVERS entry {entry!r}: {exc}") from None
    return table


def is_whois_contact(contact: Contact) -> bool:
    """Say whether a contact was made from a WHOIS answer (not from the registry's data)."""
    return contact.handle.startswith(WHOIS_HANDLE_PREFIX)


def contract(parsed: dict[str, Any]) -> dict[str, Any]:
    """Return a parsed record as the `whois --json` contract: statuses are EPP names only."""
    result = dict(parsed)
    result["statuses"] = [status for status in parsed.get("statuses") or [] if status in _EPP_NAMES]
    return result


def lookup(
    name: str,
    *,
    server: str | None = None,
    max_age: dt.timedelta | float | None = None,
    at: dt.datetime | None = None,
    timeout: float | None = None,
) -> WhoisAnswer:
    """Return a stored answer about `name` fresh enough for `max_age`, else ask the server and store it.

    `name` may be a Unicode name; `server` ("host:port") replaces the zone's configured server.
    `max_age` (default ZONEWARDEN_WHOIS_CACHE_SECONDS) of zero always asks. A failed query raises
    a `WhoisError` (timeout, refused, …) and stores nothing.
    """
    try:
        alabel = to_alabel(name)
    except ValueError as exc:
        raise WhoisInvalidName(str(exc)) from None
    moment = at or clock.now()
    if max_age is None:
        age = dt.timedelta(seconds=settings.ZONEWARDEN_WHOIS_CACHE_SECONDS)
    elif isinstance(max_age, dt.timedelta):
        age = max_age
    else:
        age = dt.timedelta(seconds=max_age)
    if server:
        try:
            host, port = parse_endpoint(server)
        except ValueError as exc:
            raise WhoisInvalidName(str(exc)) from None
    else:
        host, port = server_for(alabel, configured_servers())
    where = format_endpoint(host, port)
    if age > dt.timedelta(0):
        cached = (
            WhoisAnswer.objects.filter(
                domain=alabel, server=where, fetched_at__gte=moment - age, fetched_at__lte=moment
            )
            .order_by("-fetched_at", "-pk")
            .first()
        )
        if cached is not None:
            return cached
    # The query is slow I/O: it runs outside any transaction of ours; only the row is written.
    raw = query_whois(
        alabel,
        host,
        port,
        timeout=float(timeout if timeout is not None else settings.ZONEWARDEN_WHOIS_TIMEOUT),
        rate_limiter=rate_limiter(),
    )
    record = parse_kz_whois(raw, alabel)
    return WhoisAnswer.objects.create(
        domain=alabel,
        server=where,
        fetched_at=moment,
        found=record.found,
        raw=raw,
        parsed=contract(record.to_json()),
    )


def apply_answer(answer: WhoisAnswer) -> Domain | None:
    """Bring the stored Domain up to date from a WHOIS answer and return it.

    A found answer sets the registrar, the registrant and administrative contacts (whose e-mail is
    where notices go), the name servers, the statuses and the creation date, and marks the name
    registered (creating the Domain if it is new). "Nothing found" marks a known name not
    registered and returns None.
    """
    if not answer.found:
        Domain.objects.filter(pk=answer.domain).update(registered=False, updated_at=clock.now())
        return None
    data = answer.parsed
    with transaction.atomic():
        domain = Domain.objects.select_for_update().filter(pk=answer.domain).first()
        if domain is None:
            Domain.objects.get_or_create(name=answer.domain)
            domain = Domain.objects.select_for_update().get(pk=answer.domain)
        if data.get("registrar"):
            domain.registrar = _registrar(str(data["registrar"]))
        for role in ("registrant", "admin"):
            block = data.get(role)
            if isinstance(block, dict):
                setattr(domain, _ROLE_COLUMNS[role], _contact(domain, role, block))
        domain.nameservers = [
            {"name": server["name"], "addresses": list(server.get("addresses") or [])}
            for server in data.get("nameservers") or []
        ]
        domain.statuses = [status for status in data.get("statuses") or [] if status in _EPP_NAMES]
        if data.get("created"):
            domain.created = dt.datetime.fromisoformat(data["created"])
        domain.registered = True
        if not domain.unicode_name:
            domain.unicode_name = _unicode(domain.name)
        domain.save()
    return domain


def _unicode(alabel: str) -> str:
    if "xn--" not in alabel:
        return alabel
    try:
        return str(idna.decode(alabel))
    except (idna.IDNAError, UnicodeError):
        return alabel


def _registrar(shown: str) -> Registrar:
    """Return the registrar a WHOIS answer names ("PS.KZ"): by code or name, else a new one."""
    name = shown.strip()[:200]
    code = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64] or "unknown"
    found = (
        Registrar.objects.filter(Q(code__iexact=name) | Q(name__iexact=name) | Q(code=code))
        .order_by("pk")
        .first()
    )
    if found is not None:
        return found
    registrar, _ = Registrar.objects.get_or_create(code=code, defaults={"name": name})
    return registrar


def _shown_values(role: str, block: dict[str, Any]) -> dict[str, str]:
    """Return the Contact fields a WHOIS block shows (blank ones included), cleaned and capped."""
    values: dict[str, str] = {}
    for field in SHOWN_FIELDS[role]:
        if field not in block:
            continue
        text = str(block.get(field) or "").strip()
        if field == "country":
            text = text.upper()
            if text and not (len(text) == 2 and text.isascii() and text.isalpha()):
                continue  # a country written out is kept in the raw answer, not in a two-letter field
        values[field] = text[: _max_length(field)]
    return values


def _max_length(field: str) -> int:
    found = Contact._meta.get_field(field)
    return (found.max_length if isinstance(found, models.Field) else None) or 200


def _contact(domain: Domain, role: str, block: dict[str, Any]) -> Contact | None:
    """Return the contact for `role` after the answer: as it was, updated in place, or the name's own."""
    shown = _shown_values(role, block)
    current: Contact | None = getattr(domain, _ROLE_COLUMNS[role])
    if not any(shown.values()):
        return current  # the answer shows nothing about this contact
    if current is not None and all(getattr(current, field) == value for field, value in shown.items()):
        return current
    own_handle = f"{WHOIS_HANDLE_PREFIX}{domain.name}:{role}"[:64]
    if current is not None and (current.handle == own_handle or not _shared(current, domain, role)):
        for field, value in shown.items():
            setattr(current, field, value)
        current.save(update_fields=list(shown))
        return current
    base = (
        {
            field: getattr(current, field)
            for field in (
                "name",
                "organization",
                "email",
                "phone",
                "street",
                "city",
                "postal_code",
                "country",
            )
        }
        if current is not None
        else {}
    )
    contact, _ = Contact.objects.update_or_create(handle=own_handle, defaults={**base, **shown})
    return contact


def _shared(contact: Contact, domain: Domain, role: str) -> bool:
    """Say whether another name, or this name's other role, uses the contact."""
    other_role = "admin" if role == "registrant" else "registrant"
    if getattr(domain, f"{_ROLE_COLUMNS[other_role]}_id") == contact.pk:
        return True
    return (
        Domain.objects.filter(Q(registrant=contact) | Q(admin_contact=contact)).exclude(pk=domain.pk).exists()
    )
