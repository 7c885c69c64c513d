"""WHOIS with a cache: ask the zone's server (ZONEWARDEN_WHOIS_SERVERS) at most once per
ZONEWARDEN_WHOIS_CACHE_SECONDS per name, keep every answer with its fetch time and raw text as
evidence, and bring a Domain's registrar, contacts, name servers and statuses up to date from it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from zonewarden.domains.models import Contact, Domain, Registrar, WhoisAnswer
from zonewarden.whois import RateLimiter, parse_kz_whois, query_whois, server_for, to_alabel
from zonewarden.whois.client import format_endpoint, parse_endpoint

_LIMITER: RateLimiter | None = None


def _limiter() -> RateLimiter:
    """One rate limiter per process: queries to a server at least ZONEWARDEN_WHOIS_INTERVAL apart."""
    global _LIMITER
    if _LIMITER is None or _LIMITER.min_interval_s != settings.ZONEWARDEN_WHOIS_INTERVAL:
        _LIMITER = RateLimiter(settings.ZONEWARDEN_WHOIS_INTERVAL)
    return _LIMITER


def servers() -> dict[str, str]:
    """ZONEWARDEN_WHOIS_SERVERS ("zone=host:port" entries) as a mapping."""
    table = {}
    for entry in settings.ZONEWARDEN_WHOIS_SERVERS:
        zone, _, where = entry.partition("=")
        if zone.strip() and where.strip():
            table[zone.strip().lower().strip(".")] = where.strip()
    return table


def lookup(
    name: str,
    *,
    server: str | None = None,
    max_age: dt.timedelta | None = None,
    at: dt.datetime | None = None,
) -> WhoisAnswer:
    """A fresh-enough stored answer about `name`, or a new one from the server (stored)."""
    alabel = to_alabel(name)
    moment = at or timezone.now()
    age = max_age if max_age is not None else dt.timedelta(seconds=settings.ZONEWARDEN_WHOIS_CACHE_SECONDS)
    host, port = parse_endpoint(server) if server else server_for(alabel, servers())
    where = format_endpoint(host, port)
    if age.total_seconds() > 0:
        cached = WhoisAnswer.objects.filter(domain=alabel, server=where, fetched_at__gte=moment - age).first()
        if cached is not None:
            return cached
    raw = query_whois(alabel, host, port, settings.ZONEWARDEN_WHOIS_TIMEOUT, rate_limiter=_limiter())
    record = parse_kz_whois(raw, alabel)
    return WhoisAnswer.objects.create(
        domain=alabel, server=where, fetched_at=moment, found=record.found, raw=raw, parsed=record.to_json()
    )


def _contact(handle: str, values: dict[str, Any]) -> Contact:
    fields = {
        key: (values.get(key) or "")[:200]
        for key in ("name", "organization", "street", "city", "postal_code")
    }
    fields["email"] = (values.get("email") or "")[:254]
    fields["phone"] = (values.get("phone") or "")[:64]
    fields["country"] = (values.get("country") or "")[:2]
    contact, _ = Contact.objects.update_or_create(handle=handle, defaults=fields)
    return contact


def apply_answer(answer: WhoisAnswer) -> Domain | None:
    """Bring the Domain up to date from a found answer (the admin contact's e-mail is the notice address)."""
    data = answer.parsed
    if not answer.found:
        Domain.objects.filter(pk=answer.domain).update(registered=False)
        return None
    with transaction.atomic():
        domain, _ = Domain.objects.get_or_create(name=answer.domain)
        if data.get("registrar"):
            code = str(data["registrar"]).strip().lower().replace(" ", "-")[:64]
            domain.registrar, _ = Registrar.objects.get_or_create(
                code=code, defaults={"name": str(data["registrar"])[:200]}
            )
        domain.registrant = _contact(f"whois:{answer.domain}:registrant", data.get("registrant") or {})
        domain.admin_contact = _contact(f"whois:{answer.domain}:admin", data.get("admin") or {})
        domain.nameservers = list(data.get("nameservers") or [])
        domain.statuses = list(data.get("statuses") or [])
        created = parse_datetime(data["created"]) if data.get("created") else None
        domain.created = created
        domain.registered = True
        domain.save()
    return domain
