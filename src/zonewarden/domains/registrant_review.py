"""Run the registrant-data checks on a case's contacts and record what they find on the case.

Each contact with findings is marked unreliable and the case gets the unreliable-registrant
ground, with the findings (code, field, value, message, evidence) on its timeline. Reviewing again
records only findings not recorded before, so the worker may run it before every first notice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.conf import settings
from django.db import transaction

from zonewarden.cases import workflow
from zonewarden.cases.models import Case
from zonewarden.domains.models import Contact
from zonewarden.domains.registrant_checks import ContactData, DnsMailDomainChecker, Finding, check_contact
from zonewarden.domains.unreliable import record_unreliable


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


def _recorded(case: Case) -> set[tuple[str, str, str]]:
    seen = set()
    for detail in case.events.filter(action="registrant.unreliable").values_list("detail", flat=True):
        for finding in (detail or {}).get("evidence", {}).get("findings", []):
            seen.add((str(detail.get("contact")), str(finding.get("code")), str(finding.get("value"))))
    return seen


def review_registrant(
    case: Case, *, actor: workflow.Actor, at: dt.datetime | None = None, dns: bool | None = None
) -> list[Finding]:
    """Check the case's registrant and administrative contact; record new findings; return all."""
    use_dns = settings.ZONEWARDEN_CHECK_MAIL_DNS if dns is None else dns
    checker = DnsMailDomainChecker() if use_dns else None
    domain = case.domain
    contacts = {c.pk: c for c in (domain.registrant, domain.admin_contact) if c is not None}
    found: list[Finding] = []
    with transaction.atomic():
        recorded = _recorded(case)
        for contact in contacts.values():
            findings = check_contact(_data(contact), dns=checker)
            found.extend(findings)
            new = [f for f in findings if (contact.handle, f.code, f.value) not in recorded]
            if not new or not case.is_open:
                continue
            record_unreliable(
                contact,
                reason="; ".join(f.message for f in new)[:1000],
                evidence={"findings": [dataclasses.asdict(f) for f in new]},
                actor=actor,
                at=at,
                cases=[case],
            )
    return found
