"""Run the registrant-data checks on a case's contacts and record what they find on the case.

Each contact with findings is marked unreliable and the case gets the unreliable-registrant
ground, with the findings (code, field, value, message, evidence) on its timeline. Reviewing again
records only findings not on the case yet, so the worker runs it before every first notice.

A registrant made from a WHOIS answer has no e-mail or phone because the .kz WHOIS does not show
them; their absence there is unknown, not a finding.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction

from zonewarden import clock
from zonewarden.cases import workflow
from zonewarden.cases.models import Case
from zonewarden.domains.models import Contact, Domain
from zonewarden.domains.registrant_checks import (
    ContactData,
    DnsMailDomainChecker,
    Finding,
    MailDomainChecker,
    check_contact,
)
from zonewarden.domains.unreliable import record_unreliable
from zonewarden.domains.whois_lookup import SHOWN_FIELDS, is_whois_contact

EVENT = "registrant.unreliable"


@dataclasses.dataclass
class ContactReview:
    """The findings about one contact of a name, and those this review put on the case."""

    role: str  # "registrant", "admin" or "registrant+admin"
    contact: Contact
    findings: list[Finding]
    recorded: list[Finding] = dataclasses.field(default_factory=list)


def finding_evidence(finding: Finding) -> dict[str, Any]:
    """Return a finding as it is kept on the case: code, field, value, message, evidence."""
    return dataclasses.asdict(finding)


def _checker(dns: bool | MailDomainChecker | None) -> MailDomainChecker | None:
    if dns is None:
        dns = settings.ZONEWARDEN_CHECK_MAIL_DNS
    if dns is True:
        return DnsMailDomainChecker()
    return dns or None


def _data(contact: Contact) -> ContactData:
    return ContactData(
        name=contact.name,
        organization=contact.organization,
        email=contact.email,
        phone=contact.phone,
        street=contact.street,
        city=contact.city,
        country=contact.country,
    )


def _unknowable(contact: Contact, roles: list[str]) -> set[str]:
    """Return the fields a WHOIS-made contact cannot have for the roles it holds."""
    if not is_whois_contact(contact):
        return set()
    shown = {field for role in roles for field in SHOWN_FIELDS[role]}
    return {field for field in ("email", "phone") if field not in shown}


def check_contacts(domain: Domain, *, dns: bool | MailDomainChecker | None = None) -> list[ContactReview]:
    """Check a name's registrant and administrative contact (each once); record nothing.

    `dns` True looks mail domains up in DNS, a checker uses that checker, and None follows
    ZONEWARDEN_CHECK_MAIL_DNS.
    """
    checker = _checker(dns)
    roles: dict[int, tuple[Contact, list[str]]] = {}
    for role, contact in (("registrant", domain.registrant), ("admin", domain.admin_contact)):
        if contact is not None:
            roles.setdefault(contact.pk, (contact, []))[1].append(role)
    reviews = []
    for contact, held in roles.values():
        unknowable = _unknowable(contact, held)
        findings = [
            finding
            for finding in check_contact(_data(contact), dns=checker)
            if not (finding.code.endswith(".missing") and finding.field in unknowable)
        ]
        reviews.append(ContactReview(role="+".join(held), contact=contact, findings=findings))
    return reviews


def _recorded_keys(case: Case) -> set[tuple[str, str, str, str]]:
    """Return (contact, code, field, value) of the findings already on the case."""
    keys = set()
    for detail in case.events.filter(action=EVENT).values_list("detail", flat=True):
        evidence = (detail or {}).get("evidence") or {}
        for finding in evidence.get("findings") or []:
            keys.add(
                (
                    str(detail.get("contact")),
                    str(finding.get("code")),
                    str(finding.get("field")),
                    str(finding.get("value")),
                )
            )
    return keys


def review_contacts(
    case: Case,
    *,
    actor: workflow.Actor,
    at: dt.datetime | None = None,
    dns: bool | MailDomainChecker | None = None,
) -> list[ContactReview]:
    """Check the case's contacts and record the findings not on it yet; return every contact's review.

    The checks (and their DNS look-ups) run before the transaction; the case row is locked while
    the findings already recorded are read, so two reviews at once record each finding once.
    A case that is no longer open gets nothing recorded.
    """
    moment = at or clock.now()
    domain = Domain.objects.select_related("registrant", "admin_contact").get(pk=case.domain_id)
    reviews = check_contacts(domain, dns=dns)
    if not any(review.findings for review in reviews):
        return reviews
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if not locked.is_open:
            return reviews
        known = _recorded_keys(locked)
        for review in reviews:
            handle = review.contact.handle
            review.recorded = [
                finding
                for finding in review.findings
                if (handle, finding.code, finding.field, finding.value) not in known
            ]
            if not review.recorded:
                continue
            record_unreliable(
                review.contact,
                reason="; ".join(finding.message for finding in review.recorded)[:1000],
                evidence={
                    "role": review.role,
                    "findings": [finding_evidence(finding) for finding in review.recorded],
                },
                actor=actor,
                at=moment,
                cases=[locked],
            )
    return reviews


def review_registrant(
    case: Case,
    *,
    actor: workflow.Actor,
    at: dt.datetime | None = None,
    dns: bool | MailDomainChecker | None = None,
) -> list[Finding]:
    """Check the case's registrant and administrative contact, record new findings, return all findings."""
    reviews = review_contacts(case, actor=actor, at=at, dns=dns)
    return [finding for review in reviews for finding in review.findings]
