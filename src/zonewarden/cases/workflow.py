"""The case workflow: every named operation that moves a case, each in one transaction with its audit record.

Views, the API, the CLI, the clock and the demo all call these; nothing else changes a case's state.
Each operation locks the case row, refuses a transition the workflow does not allow, writes a
chained `CaseEvent`, and queues its side effects (jobs) in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils.translation import gettext as _

from zonewarden import clock
from zonewarden.bulkinsert import insert_rows, select_in
from zonewarden.cases.audit import append_events, lock_head
from zonewarden.cases.models import OPEN_STATES, Case, CaseEvent, LegalGround, Policy, State
from zonewarden.domains.models import Domain
from zonewarden.intake.models import Incident
from zonewarden.jobs.queue import enqueue
from zonewarden.workdays.calendar import WorkingCalendar

Actor = str | AbstractBaseUser | AnonymousUser


class WorkflowError(Exception):
    """A domain error that a view turns into a 4xx with its message."""


class InvalidTransition(WorkflowError):
    """The case is not in a state from which the operation is allowed."""


def actor_label(actor: Actor) -> str:
    """Return how the audit trail names an actor: user:NAME or system:PART."""
    if isinstance(actor, str):
        if not actor or ":" not in actor:
            raise ValueError(f"actor {actor!r} must be 'user:NAME' or 'system:PART'")
        return actor
    if not actor.is_authenticated:
        raise ValueError("an anonymous user cannot act on a case")
    return f"user:{actor.get_username()}"


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    action: str


TRANSITIONS: dict[str, Transition] = {
    "confirm": Transition(frozenset({State.RECORDED}), State.NOTIFYING, "case.confirmed"),
    "reject": Transition(frozenset({State.RECORDED}), State.REJECTED, "case.rejected"),
    "record_notice_sent": Transition(frozenset({State.NOTIFYING}), State.NOTIFYING, "notice.sent"),
    "mark_fixed": Transition(frozenset({State.NOTIFYING}), State.RESOLVED, "case.resolved"),
    "escalate": Transition(frozenset({State.NOTIFYING}), State.ESCALATED, "case.escalated"),
    "record_suspension": Transition(frozenset({State.ESCALATED}), State.SUSPENDED, "registry.suspended"),
    "withdraw": Transition(frozenset({State.ESCALATED}), State.WITHDRAWN, "registry.withdrawn"),
    "request_restoration": Transition(
        frozenset({State.SUSPENDED}), State.RESTORATION_REQUESTED, "case.restoration_requested"
    ),
    "record_restoration": Transition(
        frozenset({State.RESTORATION_REQUESTED}), State.RESTORED, "registry.restored"
    ),
    "close": Transition(frozenset({State.RESTORED}), State.CLOSED, "case.closed"),
}


def allowed_operations(state: str) -> list[str]:
    """Return the names of the operations allowed from `state`."""
    return [name for name, spec in TRANSITIONS.items() if state in spec.sources]


def record_event(
    case: Case,
    *,
    action: str,
    actor: Actor,
    at: dt.datetime,
    state_before: str,
    grounds: Sequence[str] = (),
    detail: dict[str, Any] | None = None,
) -> CaseEvent:
    """Append one event to the audit chain; call inside the operation's transaction."""
    head = lock_head()
    append_events(
        head,
        [
            {
                "case_id": case.pk,
                "actor": actor_label(actor),
                "action": action,
                "grounds": ",".join(grounds),
                "at": at,
                "state_before": state_before,
                "state_after": case.state,
                "detail": detail or {},
            }
        ],
    )
    return CaseEvent.objects.get(seq=head.seq)


def _copy_into(target: Case, source: Case) -> None:
    for field in Case._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))


def _transition(
    case: Case,
    operation: str,
    *,
    actor: Actor,
    at: dt.datetime | None,
    change: Callable[[Case, dt.datetime], dict[str, Any] | None] | None = None,
    grounds: Callable[[Case], Sequence[str]] | None = None,
) -> Case:
    spec = TRANSITIONS[operation]
    label = actor_label(actor)
    moment = at or clock.now()
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.state not in spec.sources:
            allowed = ", ".join(sorted(spec.sources))
            raise InvalidTransition(
                _(
                    "Cannot %(operation)s case %(pk)s (%(name)s): it is %(state)s, and that is allowed only from %(allowed)s."
                )
                % {
                    "operation": operation.replace("_", " "),
                    "pk": locked.pk,
                    "name": locked.domain_id,
                    "state": locked.state,
                    "allowed": allowed,
                }
            )
        before = locked.state
        locked.state = spec.target
        detail = change(locked, moment) if change else None
        locked.save()
        record_event(
            locked,
            action=spec.action,
            actor=label,
            at=moment,
            state_before=before,
            grounds=grounds(locked) if grounds else (),
            detail=detail,
        )
    _copy_into(case, locked)
    return case


def _set_incidents(case: Case, status: str, *, only: Iterable[str] | None = None) -> int:
    incidents = Incident.objects.filter(case=case)
    if only is not None:
        incidents = incidents.filter(status__in=list(only))
    return incidents.update(status=status)


def open_case_ids(
    domains: Iterable[str],
    *,
    actor: Actor,
    at: dt.datetime | None = None,
    detail: dict[str, Any] | None = None,
    opened: set[str] | None = None,
) -> dict[str, int]:
    """Return the id of each named domain's open case, opening a recorded one where there is none.

    Built for intake's batches: a few queries whatever the number of names. The names of the
    domains whose case was opened here are added to ``opened`` when given.
    """
    moment = at or clock.now()
    names = sorted(set(domains))
    result: dict[str, int] = {}
    with transaction.atomic():
        open_states = [str(state) for state in OPEN_STATES]
        result.update(select_in(Case, ("domain_id", "id"), "domain_id", names, also=("state", open_states)))
        missing = [name for name in names if name not in result]
        if not missing:
            return result
        head = lock_head()
        insert_rows(
            Case, ("domain_id", "state", "opened_at"), ((name, State.RECORDED, moment) for name in missing)
        )
        created = dict(
            select_in(Case, ("domain_id", "id"), "domain_id", missing, also=("state", open_states))
        )
        label = actor_label(actor)
        append_events(
            head,
            (
                {
                    "case_id": created[name],
                    "actor": label,
                    "action": "case.opened",
                    "grounds": "",
                    "at": moment,
                    "state_before": "",
                    "state_after": State.RECORDED,
                    "detail": detail or {},
                }
                for name in missing
            ),
        )
        result.update(created)
        if opened is not None:
            opened.update(missing)
    return result


def record_incidents_added(
    counts: dict[int, int], *, actor: Actor, at: dt.datetime | None = None, source: str = ""
) -> None:
    """Note on each open case how many new incidents joined it (its state does not change)."""
    moment = at or clock.now()
    label = actor_label(actor)
    with transaction.atomic():
        states = dict(Case.objects.filter(pk__in=list(counts)).values_list("pk", "state"))
        head = lock_head()
        append_events(
            head,
            [
                {
                    "case_id": case_id,
                    "actor": label,
                    "action": "case.incidents_added",
                    "grounds": "",
                    "at": moment,
                    "state_before": states[case_id],
                    "state_after": states[case_id],
                    "detail": {"incidents": count, "source": source},
                }
                for case_id, count in sorted(counts.items())
            ],
        )


def open_case(domain: Domain | str, *, actor: Actor, at: dt.datetime | None = None) -> Case:
    """Return the domain's open case, opening a recorded one if it has none."""
    name = domain if isinstance(domain, str) else domain.name
    return Case.objects.get(pk=open_case_ids([name], actor=actor, at=at)[name])


def confirm(case: Case, *, actor: Actor, at: dt.datetime | None = None) -> Case:
    """Confirm a recorded case: its incidents are real; queue the first notice to the owner."""

    def change(locked: Case, moment: dt.datetime) -> dict[str, Any]:
        confirmed = _set_incidents(locked, Incident.Status.CONFIRMED, only=[Incident.Status.REPORTED])
        locked.next_due_at = None
        enqueue(
            "notice.send",
            at=moment,
            case_id=locked.pk,
            payload={"number": 1},
            dedupe_key=f"notice:{locked.pk}:1",
        )
        return {"incidents_confirmed": confirmed}

    return _transition(case, "confirm", actor=actor, at=at, change=change)


def reject(case: Case, *, actor: Actor, reason: str, at: dt.datetime | None = None) -> Case:
    """Reject a recorded case: its incidents are false positives or out of scope."""
    if not reason.strip():
        raise WorkflowError(_("A rejection needs a reason."))

    def change(locked: Case, moment: dt.datetime) -> dict[str, Any]:
        _set_incidents(locked, Incident.Status.REJECTED)
        locked.closed_at = moment
        locked.next_due_at = None
        return {"reason": reason}

    return _transition(case, "reject", actor=actor, at=at, change=change)


def record_notice_sent(
    case: Case,
    *,
    number: int,
    actor: Actor,
    at: dt.datetime | None = None,
    message_id: str = "",
    owner_deadline: dt.datetime | None = None,
) -> Case:
    """Record that notice number `number` went out at `at`; the owner's clock runs from then.

    `owner_deadline` is the deadline the notice states, when it was counted already; otherwise it
    is counted from `at`. Recording the same notice twice changes nothing, so a worker that retries
    after a crash is safe.
    """
    policy = Policy.current()

    def change(locked: Case, moment: dt.datetime) -> dict[str, Any]:
        if locked.notices_sent >= number:
            raise _AlreadyRecorded
        if number != locked.notices_sent + 1:
            raise WorkflowError(
                f"notice {number} cannot follow notice {locked.notices_sent} on case {locked.pk}"
            )
        locked.notices_sent = number
        locked.last_notice_at = moment
        locked.owner_deadline = owner_deadline or WorkingCalendar.load().deadline_after(
            moment, policy.notice_interval_working_days
        )
        locked.next_due_at = locked.owner_deadline
        return {
            "number": number,
            "message_id": message_id,
            "owner_deadline": locked.owner_deadline.isoformat(),
        }

    try:
        return _transition(case, "record_notice_sent", actor=actor, at=at, change=change)
    except _AlreadyRecorded:
        _copy_into(case, Case.objects.get(pk=case.pk))
        return case


class _AlreadyRecorded(Exception):
    pass


def mark_fixed(case: Case, *, actor: Actor, at: dt.datetime | None = None, evidence: str = "") -> Case:
    """Resolve a case whose incidents a re-check found gone."""

    def change(locked: Case, moment: dt.datetime) -> dict[str, Any]:
        _set_incidents(locked, Incident.Status.GONE)
        locked.closed_at = moment
        locked.next_due_at = None
        return {"evidence": evidence}

    return _transition(case, "mark_fixed", actor=actor, at=at, change=change)


def _escalation_grounds(case: Case, policy: Policy) -> list[str]:
    codes = [str(policy.escalation_ground_id)]
    if case.grounds.filter(pk=policy.unreliable_registrant_ground_id).exists():
        codes.append(str(policy.unreliable_registrant_ground_id))
    return codes


def escalate(case: Case, *, actor: Actor, at: dt.datetime | None = None) -> Case:
    """Escalate a case whose owner did not fix it despite the notices: the registry has its deadline."""
    policy = Policy.current()

    def change(locked: Case, moment: dt.datetime) -> dict[str, Any]:
        if locked.notices_sent < 1:
            raise WorkflowError(
                f"case {locked.pk} cannot be escalated before the owner was notified (no notice sent yet)"
            )
        locked.grounds.add(policy.escalation_ground)
        locked.escalated_at = moment
        locked.registry_deadline = WorkingCalendar.load().deadline_after(
            moment, policy.registry_deadline_business_days
        )
        locked.registry_late = False
        locked.next_due_at = locked.registry_deadline
        return {
            "notices_sent": locked.notices_sent,
            "registry_deadline": locked.registry_deadline.isoformat(),
        }

    return _transition(
        case, "escalate", actor=actor, at=at, change=change, grounds=lambda c: _escalation_grounds(c, policy)
    )


def _case_grounds(case: Case) -> list[str]:
    return list(case.grounds.order_by("code").values_list("code", flat=True))


def _set_hold(domain_name: str, on: bool) -> None:
    domain = Domain.objects.select_for_update().get(pk=domain_name)
    statuses = [s for s in domain.statuses if s != "serverHold"]
    if on:
        statuses.append("serverHold")
    domain.statuses = statuses
    domain.save(update_fields=["statuses", "updated_at"])


def record_suspension(case: Case, *, actor: Actor, at: dt.datetime | None = None) -> Case:
    """Record that the registry suspended the name (serverHold); the registrar's report falls due."""
    policy = Policy.current()

    def change(locked: Case, moment: dt.datetime) -> dict[str, Any]:
        _set_hold(locked.domain_id, True)
        locked.suspended_at = moment
        locked.registrar_deadline = WorkingCalendar.load().deadline_after(
            moment, policy.registrar_deadline_working_days
        )
        locked.registrar_late = False
        locked.next_due_at = locked.registrar_deadline
        late = locked.registry_deadline is not None and moment > locked.registry_deadline
        return {"registrar_deadline": locked.registrar_deadline.isoformat(), "registry_was_late": late}

    return _transition(case, "record_suspension", actor=actor, at=at, change=change, grounds=_case_grounds)


def withdraw(case: Case, *, actor: Actor, reason: str, at: dt.datetime | None = None) -> Case:
    """Record that the registry did not suspend the name (fixed meanwhile, not registered, wrong data)."""
    if not reason.strip():
        raise WorkflowError(_("A withdrawal needs a reason."))

    def change(locked: Case, moment: dt.datetime) -> dict[str, Any]:
        locked.closed_at = moment
        locked.next_due_at = None
        return {"reason": reason}

    return _transition(case, "withdraw", actor=actor, at=at, change=change)


def request_restoration(case: Case, *, actor: Actor, at: dt.datetime | None = None) -> Case:
    """Ask the registry to lift the suspension of a name whose owner fixed it, verified by the CERT."""
    policy = Policy.current()

    def change(locked: Case, moment: dt.datetime) -> dict[str, Any]:
        locked.registry_deadline = WorkingCalendar.load().deadline_after(
            moment, policy.registry_deadline_business_days
        )
        locked.registry_late = False
        locked.next_due_at = locked.registry_deadline
        return {"registry_deadline": locked.registry_deadline.isoformat()}

    return _transition(case, "request_restoration", actor=actor, at=at, change=change)


def record_restoration(case: Case, *, actor: Actor, at: dt.datetime | None = None) -> Case:
    """Record that the registry lifted the hold: the delegation is back."""

    def change(locked: Case, moment: dt.datetime) -> dict[str, Any]:
        _set_hold(locked.domain_id, False)
        _set_incidents(locked, Incident.Status.GONE)
        locked.next_due_at = None
        return {}

    return _transition(case, "record_restoration", actor=actor, at=at, change=change)


def close(case: Case, *, actor: Actor, at: dt.datetime | None = None) -> Case:
    """Close a restored case once owner and registrar were told."""

    def change(locked: Case, moment: dt.datetime) -> dict[str, Any]:
        locked.closed_at = moment
        locked.next_due_at = None
        return {}

    return _transition(case, "close", actor=actor, at=at, change=change)


def add_ground(
    case: Case, ground: LegalGround | str, *, actor: Actor, evidence: str, at: dt.datetime | None = None
) -> Case:
    """Record a legal ground found on an open case (e.g. unreliable registrant data) with its evidence."""
    moment = at or clock.now()
    code = ground if isinstance(ground, str) else ground.code
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if not locked.is_open:
            raise InvalidTransition(
                f"case {locked.pk} is {locked.state}: grounds are added to open cases only"
            )
        found = LegalGround.objects.filter(pk=code, active=True).first()
        if found is None:
            raise WorkflowError(f"no active legal ground {code!r}")
        if locked.grounds.filter(pk=code).exists():
            _copy_into(case, locked)
            return case
        locked.grounds.add(found)
        record_event(
            locked,
            action="case.ground_added",
            actor=actor,
            at=moment,
            state_before=locked.state,
            grounds=[code],
            detail={"evidence": evidence},
        )
    _copy_into(case, locked)
    return case
