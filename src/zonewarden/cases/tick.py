"""The clock: move every case whose `next_due_at` has come, once, however often and wherever it runs.

Each due case is handled in its own transaction under a row lock taken with SKIP LOCKED, and the
due condition is checked again on the locked row, so a second tick (the same process again, or
another machine at the same moment) finds nothing left to do for it.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from dataclasses import dataclass, field

from django.db import connection, transaction

from zonewarden import clock
from zonewarden.cases import workflow
from zonewarden.cases.models import Case, Policy, State
from zonewarden.checks.models import Purpose
from zonewarden.checks.schedule import queue_check
from zonewarden.jobs import heartbeat
from zonewarden.jobs.queue import worker_name

log = logging.getLogger("zonewarden.tick")
TICK_ACTOR = "system:tick"


@dataclass
class TickSummary:
    at: dt.datetime
    actions: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0  # how long the tick took

    def __str__(self) -> str:
        if not self.actions:
            return f"tick at {self.at.isoformat()}: nothing due"
        done = ", ".join(f"{name} {count}" for name, count in sorted(self.actions.items()))
        return f"tick at {self.at.isoformat()}: {done}"


def _lock_due(case_id: int, at: dt.datetime) -> Case | None:
    rows = Case.objects.filter(pk=case_id, next_due_at__lte=at)
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True)
    return rows.first()


def _flag(case: Case, action: str, at: dt.datetime, detail: dict[str, object]) -> None:
    workflow.record_event(
        case, action=action, actor=TICK_ACTOR, at=at, state_before=case.state, detail=detail
    )


def _move_notifying(case: Case, at: dt.datetime, policy: Policy) -> str:
    """The owner's deadline passed: check the incidents first; the check queues what follows."""
    case.next_due_at = None
    case.save(update_fields=["next_due_at", "updated_at"])
    if case.notices_sent < policy.notices_before_escalation:
        number = case.notices_sent + 1
        queue_check(case, purpose=Purpose.REMINDER, at=at, number=number)
        _flag(case, "case.reminder_due", at, {"number": number})
        return "reminder_due"
    queue_check(case, purpose=Purpose.ESCALATION, at=at)
    _flag(case, "case.escalation_check_due", at, {"notices_sent": case.notices_sent})
    return "escalation_check_due"


def _move_one(case_id: int, at: dt.datetime, policy: Policy) -> str | None:
    with transaction.atomic():
        case = _lock_due(case_id, at)
        if case is None:
            return None  # another tick took it, or it is no longer due
        if case.state == State.NOTIFYING:
            return _move_notifying(case, at, policy)
        if case.state in {State.ESCALATED, State.RESTORATION_REQUESTED}:
            case.registry_late = True
            case.next_due_at = None
            case.save(update_fields=["registry_late", "next_due_at", "updated_at"])
            _flag(
                case,
                "registry.deadline_missed",
                at,
                {"deadline": case.registry_deadline.isoformat() if case.registry_deadline else None},
            )
            return "registry_late"
        if case.state == State.SUSPENDED:
            case.registrar_late = True
            case.next_due_at = None
            case.save(update_fields=["registrar_late", "next_due_at", "updated_at"])
            _flag(
                case,
                "registrar.deadline_missed",
                at,
                {"deadline": case.registrar_deadline.isoformat() if case.registrar_deadline else None},
            )
            return "registrar_late"
        # A state with nothing to wait for: clear the stale due time so the clock stops looking.
        case.next_due_at = None
        case.save(update_fields=["next_due_at", "updated_at"])
        return "cleared"


def tick(at: dt.datetime | None = None, *, batch_size: int = 500, worker: str | None = None) -> TickSummary:
    """Move every case due at `at` (default: now) one step on; safe to run twice or concurrently.

    How long it took goes on the heartbeat of `worker` (default: this process's worker name), for
    /metrics; a process that is no worker (`zonewarden tick`) has no heartbeat and records nothing.
    """
    started = time.monotonic()  # a duration, not a moment: the clock's replay does not apply
    moment = at or clock.now()
    summary = TickSummary(moment)
    policy = Policy.current()
    last_id = 0
    while True:
        due = list(
            Case.objects.filter(next_due_at__lte=moment, pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not due:
            break
        for case_id in due:
            outcome = _move_one(case_id, moment, policy)
            if outcome:
                summary.actions[outcome] += 1
        last_id = due[-1]
    if policy.auto_escalate and (escalated := _auto_escalate(moment)):
        summary.actions["escalated"] += escalated
    summary.seconds = time.monotonic() - started
    heartbeat.record_tick(worker or worker_name(), moment, summary.seconds)
    log.log(logging.INFO if summary.actions else logging.DEBUG, "%s", summary)
    return summary


def _auto_escalate(moment: dt.datetime) -> int:
    """Where policy lets the clock escalate: one request to the registry for every case due."""
    from zonewarden.registry.service import RequestError, build_request

    due = list(Case.objects.filter(state=State.NOTIFYING, escalation_due_at__lte=moment).order_by("pk"))
    if not due:
        return 0
    try:
        build_request("escalation", due, actor=TICK_ACTOR, at=moment)
    except RequestError as exc:  # a case moved on meanwhile: the next tick tries the rest
        log.warning("automatic escalation postponed: %s", exc)
        return 0
    return len(due)
