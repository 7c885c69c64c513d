"""Record that a contact's data is unreliable, and put the matching legal ground on the open cases.

Used by the registrant-data checks (a malformed address, a placeholder name, a phone that cannot
exist) and by bounce handling (a hard bounce): each finding goes on every open case of every name
where the contact is registrant or administrative contact, with its evidence.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Q

from zonewarden import clock
from zonewarden.cases import workflow
from zonewarden.cases.models import OPEN_STATES, Case, Policy
from zonewarden.domains.models import Contact


def record_unreliable(
    contact: Contact,
    *,
    reason: str,
    evidence: dict[str, Any],
    actor: workflow.Actor,
    at: dt.datetime | None = None,
    cases: list[Case] | None = None,
) -> list[Case]:
    """Mark `contact` unreliable and add the unreliable-registrant ground with `evidence`.

    The ground goes on `cases` when given, else on every open case of the names the contact is
    registrant or administrative contact of. Returns the cases it was added to (a case that has
    the ground already keeps it; the evidence is still recorded on its timeline).
    """
    moment = at or clock.now()
    ground = Policy.current().unreliable_registrant_ground_id or "unreliable-registrant"
    with transaction.atomic():
        if not contact.unreliable:
            Contact.objects.filter(pk=contact.pk).update(unreliable=True)
            contact.unreliable = True
        if cases is None:
            cases = list(
                Case.objects.filter(state__in=OPEN_STATES).filter(
                    Q(domain__registrant=contact) | Q(domain__admin_contact=contact)
                )
            )
        text = f"{reason} ({contact.handle})"
        for case in cases:
            workflow.record_event(
                case,
                action="registrant.unreliable",
                actor=actor,
                at=moment,
                state_before=case.state,
                detail={"contact": contact.handle, "reason": reason, "evidence": evidence},
            )
            workflow.add_ground(case, ground, actor=actor, evidence=text, at=moment)
    return cases
