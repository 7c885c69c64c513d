"""Escalation and restoration requests, the registry's queue and decisions, registrars' reports.

The CERT bundles cases into one numbered letter (PDF and DOCX, stored with their SHA-256); each
name becomes an item of the registry's queue with a deadline of one business day from receipt.
Before acting, the registry's operator gets a fresh check of the name; then suspends it, withdraws
it (fixed meanwhile) or rejects it (not registered, wrong data), with a reason. A suspension puts
serverHold on the name, queues its removal from the DNS, tells its registrar and starts the
registrar's 10 working days. A restoration lifts the hold, puts the delegation back, tells owner
and registrar, and closes the case.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from zonewarden import clock
from zonewarden.cases import workflow
from zonewarden.cases.models import Case, Policy, State
from zonewarden.checks.models import Check, Purpose
from zonewarden.checks.service import check_incidents
from zonewarden.intake.models import Incident
from zonewarden.registry import letters
from zonewarden.registry.models import RegistrarReport, RegistryRequest, RequestItem
from zonewarden.workdays.calendar import WorkingCalendar

REPORT_MAX_CHARS = 5000


class RequestError(workflow.WorkflowError):
    """A request or decision that cannot be made; the message says why."""


def due_for_escalation() -> list[Case]:
    """Cases whose last notice went unanswered and whose incident a fresh check found still there."""
    return list(
        Case.objects.filter(state=State.NOTIFYING, escalation_due_at__isnull=False)
        .select_related("domain")
        .order_by("escalation_due_at", "pk")
    )


def due_for_restoration() -> list[Case]:
    """Suspended cases whose incidents re-checks found gone (an analyst confirms them)."""
    return list(
        Case.objects.filter(state=State.SUSPENDED, fix_verified_at__isnull=False)
        .select_related("domain")
        .order_by("fix_verified_at", "pk")
    )


def _next_number(kind: str, year: int) -> tuple[int, str]:
    last = (
        RegistryRequest.objects.filter(kind=kind, year=year).aggregate(Max("sequence"))["sequence__max"] or 0
    )
    sequence = last + 1
    letter = "E" if kind == RegistryRequest.Kind.ESCALATION else "R"
    return sequence, f"{settings.ZONEWARDEN_CERT_NAME}/{letter}-{year}-{sequence:04d}"


def build_request(
    kind: str, cases: Sequence[Case], *, actor: workflow.Actor, at: dt.datetime | None = None
) -> RegistryRequest:
    """Put `cases` into one numbered letter to the registry and move each case on.

    Escalation takes notifying cases due for escalation (checked: still there); restoration takes
    suspended cases whose fix was verified. Refuses the whole request, naming the case, if one
    does not qualify.
    """
    moment = at or clock.now()
    label = workflow.actor_label(actor)
    if not cases:
        raise RequestError(_("A request needs at least one case."))
    calendar = WorkingCalendar.load()
    deadline = calendar.deadline_after(moment, Policy.current().registry_deadline_business_days)
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return _build(kind, cases, label, moment, deadline)
        except IntegrityError:
            continue  # another request took the number meanwhile
    raise RequestError(_("Could not number the request; try again."))


def _build(
    kind: str, cases: Sequence[Case], actor: str, moment: dt.datetime, deadline: dt.datetime
) -> RegistryRequest:
    locked = list(Case.objects.select_for_update().filter(pk__in=[case.pk for case in cases]).order_by("pk"))
    if len(locked) != len({case.pk for case in cases}):
        raise RequestError(_("A case of the request does not exist."))
    for case in locked:
        if kind == RegistryRequest.Kind.ESCALATION and (
            case.state != State.NOTIFYING or case.escalation_due_at is None
        ):
            facts = {"pk": case.pk, "name": case.domain_id, "state": case.get_state_display()}
            raise RequestError(
                _("Case %(pk)s (%(name)s) is not due for escalation: it is %(state)s.") % facts
                if case.state != State.NOTIFYING
                else _(
                    "Case %(pk)s (%(name)s) is not due for escalation: no check after its last notice "
                    "found the incident still there."
                )
                % facts
            )
        if kind == RegistryRequest.Kind.RESTORATION and case.state != State.SUSPENDED:
            raise RequestError(
                _("Case %(pk)s (%(name)s) is %(state)s, not suspended.")
                % {"pk": case.pk, "name": case.domain_id, "state": case.get_state_display()}
            )
    year = timezone.localtime(moment).year
    sequence, number = _next_number(kind, year)
    for case in locked:
        if kind == RegistryRequest.Kind.ESCALATION:
            workflow.escalate(case, actor=actor, at=moment)
        else:
            workflow.request_restoration(case, actor=actor, at=moment)
    data = letters.context(kind, number, moment, letters.rows_for(locked))
    pdf, docx = letters.render_pdf(data), letters.render_docx(data)
    request = RegistryRequest.objects.create(
        kind=kind,
        number=number,
        year=year,
        sequence=sequence,
        created_at=moment,
        created_by=actor,
        pdf=pdf,
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        docx=docx,
        docx_sha256=hashlib.sha256(docx).hexdigest(),
    )
    RequestItem.objects.bulk_create(
        RequestItem(
            request=request, case=case, domain_id=case.domain_id, received_at=moment, deadline=deadline
        )
        for case in locked
    )
    for case in locked:
        workflow.record_event(
            case,
            action=f"registry.request_{kind}",
            actor=actor,
            at=moment,
            state_before=case.state,
            detail={"request": number, "pdf_sha256": request.pdf_sha256, "deadline": deadline.isoformat()},
        )
    return request


def queue(now: dt.datetime | None = None, *, open_only: bool = True) -> list[RequestItem]:
    """The registry operator's queue, oldest deadline first."""
    items = RequestItem.objects.select_related("request", "case", "domain").order_by("deadline", "pk")
    if open_only:
        items = items.filter(outcome="")
    return list(items)


def fresh_check(item: RequestItem, *, at: dt.datetime | None = None) -> list[Check]:
    """Check the item's incidents now, before the registry acts on it."""
    incidents = list(item.case.incidents.exclude(status=Incident.Status.REJECTED).order_by("pk"))
    purpose = (
        Purpose.REGISTRY if item.request.kind == RegistryRequest.Kind.ESCALATION else Purpose.RESTORATION
    )
    return check_incidents(incidents, purpose=purpose, at=at)


def decide(
    item: RequestItem, outcome: str, *, actor: workflow.Actor, reason: str = "", at: dt.datetime | None = None
) -> RequestItem:
    """Record the registry's decision on one item, once; the case moves with it."""
    moment = at or clock.now()
    label = workflow.actor_label(actor)
    kind = item.request.kind
    allowed = (
        {RequestItem.Outcome.SUSPENDED, RequestItem.Outcome.WITHDRAWN, RequestItem.Outcome.REJECTED}
        if kind == RegistryRequest.Kind.ESCALATION
        else {RequestItem.Outcome.RESTORED, RequestItem.Outcome.REJECTED}
    )
    if outcome not in allowed:
        raise RequestError(
            _("An item of a %(kind)s can be %(allowed)s, not %(outcome)s.")
            % {
                "kind": item.request.get_kind_display(),
                "allowed": ", ".join(sorted(allowed)),
                "outcome": outcome,
            }
        )
    if outcome in (RequestItem.Outcome.WITHDRAWN, RequestItem.Outcome.REJECTED) and not reason.strip():
        raise RequestError(_("“%(outcome)s” needs a reason.") % {"outcome": outcome})
    with transaction.atomic():
        locked = RequestItem.objects.select_for_update().select_related("request").get(pk=item.pk)
        if locked.outcome:
            raise RequestError(
                _("%(name)s in %(number)s was %(outcome)s already.")
                % {
                    "name": locked.domain_id,
                    "number": locked.request.number,
                    "outcome": locked.get_outcome_display(),
                }
            )
        case = Case.objects.select_related("domain__registrar").get(pk=locked.case_id)
        if outcome == RequestItem.Outcome.SUSPENDED:
            workflow.record_suspension(case, actor=label, at=moment)
            _publish(case, "suspend", moment)
            _tell_registrar(case, "suspended", moment, label)
        elif outcome == RequestItem.Outcome.RESTORED:
            # The owner and registrar are told, and the case closed, once the delegation is back
            # in the DNS and read back (see finish_restoration).
            workflow.record_restoration(case, actor=label, at=moment)
            _publish(case, "restore", moment)
        elif kind == RegistryRequest.Kind.ESCALATION:
            workflow.withdraw(case, actor=label, reason=f"{outcome}: {reason}", at=moment)
        else:  # a restoration the registry refused: the name stays suspended
            workflow.record_event(
                case,
                action="registry.restoration_refused",
                actor=label,
                at=moment,
                state_before=case.state,
                detail={"reason": reason},
            )
        locked.outcome, locked.reason, locked.decided_by, locked.decided_at = outcome, reason, label, moment
        locked.save(update_fields=["outcome", "reason", "decided_by", "decided_at"])
    return locked


def _publish(case: Case, action: str, at: dt.datetime) -> None:
    from zonewarden.publish.service import request_publication

    request_publication(case.domain, action, case=case, at=at)


def finish_restoration(case: Case, *, at: dt.datetime, actor: str) -> None:
    """The delegation is back in the DNS: tell registrar and owner, and close the case (once)."""
    if case.state != State.RESTORED:
        return
    case = Case.objects.select_related("domain__registrar").get(pk=case.pk)
    _tell_registrar(case, "restored", at, actor)
    _tell_owner_restored(case, at, actor)
    workflow.close(case, actor=actor, at=at)


def _tell_registrar(case: Case, what: str, at: dt.datetime, actor: str) -> None:
    from zonewarden.notices.outbox import queue_registrar_notice

    queue_registrar_notice(case, what=what, at=at, actor=actor)


def _tell_owner_restored(case: Case, at: dt.datetime, actor: str) -> None:
    from zonewarden.notices.outbox import queue_owner_restored

    queue_owner_restored(case, at=at, actor=actor)


def file_registrar_report(
    case: Case, *, text: str, actor: workflow.Actor, at: dt.datetime | None = None
) -> RegistrarReport:
    """A registrar reports what it did about a suspended name; the registrar's clock stops."""
    moment = at or clock.now()
    label = workflow.actor_label(actor)
    if not text.strip():
        raise RequestError(_("A report needs its text."))
    if len(text) > REPORT_MAX_CHARS:
        raise RequestError(_("A report may have at most %(limit)s characters.") % {"limit": REPORT_MAX_CHARS})
    with transaction.atomic():
        locked = Case.objects.select_for_update().select_related("domain").get(pk=case.pk)
        if locked.suspended_at is None or locked.domain.registrar_id is None:
            raise RequestError(
                _("Case %(pk)s (%(name)s) has no suspension for a registrar to report on.")
                % {"pk": locked.pk, "name": locked.domain_id}
            )
        late = locked.registrar_deadline is not None and moment > locked.registrar_deadline
        report = RegistrarReport.objects.create(
            case=locked,
            registrar_id=locked.domain.registrar_id,
            text=text,
            filed_by=label,
            filed_at=moment,
            late=late,
        )
        if locked.state == State.SUSPENDED and locked.next_due_at == locked.registrar_deadline:
            locked.next_due_at = None
            locked.save(update_fields=["next_due_at", "updated_at"])
        workflow.record_event(
            locked,
            action="registrar.reported",
            actor=label,
            at=moment,
            state_before=locked.state,
            detail={"report": report.pk, "late": late},
        )
    return report


def late_registrars(now: dt.datetime | None = None) -> list[Case]:
    """Suspended cases whose registrar has not reported by its deadline."""
    moment = now or clock.now()
    return list(
        Case.objects.filter(
            state=State.SUSPENDED, registrar_deadline__lt=moment, registrar_reports__isnull=True
        )
        .select_related("domain__registrar")
        .order_by("registrar_deadline")
    )
