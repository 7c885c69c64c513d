"""When checks run and what their verdicts move: the `check.case` job.

The tick queues a check before each reminder and before escalation; an owner's report of a fix
queues one too. The job checks every incident of the case that is not rejected, then:
  all gone (unreachable too where the policy says so) — a notifying case is resolved; a
      suspended one is marked ready for restoration (an analyst confirms and asks the registry);
  something still there — the reminder is queued, or the case is due for escalation, or the owner's
      report is noted as not borne out.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.db import transaction

from zonewarden.cases import workflow
from zonewarden.cases.models import Case, Policy, State
from zonewarden.checks.models import Check, Purpose
from zonewarden.checks.service import check_incidents, counts_as_gone
from zonewarden.intake.models import Incident
from zonewarden.jobs.models import Job
from zonewarden.jobs.queue import enqueue, handler

ACTOR = "system:checker"


def queue_check(case: Case, *, purpose: str, at: dt.datetime, number: int | None = None) -> Job | None:
    """Queue a check of `case` for `purpose` (in the caller's transaction), once per purpose and step."""
    step = (
        f":{number}"
        if number is not None
        else f":{at.isoformat()}"
        if purpose == Purpose.OWNER_REPORT
        else ""
    )
    payload: dict[str, object] = {"purpose": str(purpose)}
    if number is not None:
        payload["number"] = number
    return enqueue(
        "check.case", at=at, case_id=case.pk, payload=payload, dedupe_key=f"check:{case.pk}:{purpose}{step}"
    )


def _summary(checks: list[Check]) -> dict[str, object]:
    return {
        "verdicts": dict(Counter(check.verdict for check in checks)),
        "checks": [check.pk for check in checks],
        "reasons": [f"{check.url[:200]}: {check.verdict} — {check.reason[:200]}" for check in checks[:20]],
    }


@handler("check.case")
def run_case_check(job: Job, now: dt.datetime) -> None:
    purpose = str(job.payload.get("purpose", Purpose.MANUAL))
    found = Case.objects.filter(pk=job.case_id).first() if job.case_id is not None else None
    if found is None or not found.is_open:
        return
    case = found
    incidents = list(case.incidents.exclude(status=Incident.Status.REJECTED).order_by("pk"))
    checks = check_incidents(incidents, purpose=purpose, at=now)  # outside a transaction: network time
    policy = Policy.current()
    gone = bool(checks) and all(counts_as_gone(check.verdict, policy) for check in checks)
    summary = {"purpose": purpose, **_summary(checks)}
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=found.pk)
        workflow.record_event(
            case, action="case.checked", actor=ACTOR, at=now, state_before=case.state, detail=summary
        )
        if case.state == State.NOTIFYING:
            if gone:
                workflow.mark_fixed(case, actor=ACTOR, at=now, evidence="; ".join(summary["reasons"]))  # type: ignore[arg-type]
            elif purpose == Purpose.REMINDER:
                number = int(job.payload.get("number", case.notices_sent + 1))
                enqueue(
                    "notice.send",
                    at=now,
                    case_id=case.pk,
                    payload={"number": number},
                    dedupe_key=f"notice:{case.pk}:{number}",
                )
            elif purpose == Purpose.ESCALATION:
                _escalation_due(case, now, policy)
            elif purpose == Purpose.OWNER_REPORT:
                workflow.record_event(
                    case,
                    action="case.fix_not_verified",
                    actor=ACTOR,
                    at=now,
                    state_before=case.state,
                    detail=summary,
                )
        elif case.state == State.SUSPENDED and purpose in (
            Purpose.OWNER_REPORT,
            Purpose.RESTORATION,
            Purpose.MANUAL,
        ):
            if gone:
                case.fix_verified_at = now
                case.save(update_fields=["fix_verified_at", "updated_at"])
                workflow.record_event(
                    case,
                    action="case.fix_verified",
                    actor=ACTOR,
                    at=now,
                    state_before=case.state,
                    detail=summary,
                )
            else:
                workflow.record_event(
                    case,
                    action="case.fix_not_verified",
                    actor=ACTOR,
                    at=now,
                    state_before=case.state,
                    detail=summary,
                )


def _escalation_due(case: Case, now: dt.datetime, policy: Policy) -> None:
    case.escalation_due_at = now
    case.next_due_at = None
    case.save(update_fields=["escalation_due_at", "next_due_at", "updated_at"])
    workflow.record_event(
        case,
        action="case.escalation_due",
        actor=ACTOR,
        at=now,
        state_before=case.state,
        detail={"notices_sent": case.notices_sent},
    )


def owner_reported_fix(case: Case, *, at: dt.datetime, note: str = "") -> Job | None:
    """The owner says it is fixed (through their link): note it on the case and queue a check."""
    with transaction.atomic():
        workflow.record_event(
            case,
            action="owner.reported_fix",
            actor="owner:link",
            at=at,
            state_before=case.state,
            detail={"note": note[:2000]},
        )
        return queue_check(case, purpose=Purpose.OWNER_REPORT, at=at)
