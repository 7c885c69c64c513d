"""The case workflow: every transition, every refused transition, and what each writes down."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from tests.conftest import almaty
from zonewarden.cases import workflow
from zonewarden.cases.models import Case, CaseEvent, State
from zonewarden.domains.models import Domain
from zonewarden.intake.models import Incident
from zonewarden.jobs.models import Job

pytestmark = pytest.mark.django_db
T0 = almaty(2026, 3, 2, 10)
ANALYST = "user:analyst"
REGISTRY = "user:registry"

OPERATIONS: dict[str, Callable[[Case, dt.datetime], Case]] = {
    "confirm": lambda c, at: workflow.confirm(c, actor=ANALYST, at=at),
    "reject": lambda c, at: workflow.reject(c, actor=ANALYST, at=at, reason="false positive"),
    "record_notice_sent": lambda c, at: workflow.record_notice_sent(
        c, number=c.notices_sent + 1, actor="system:worker", at=at
    ),
    "mark_fixed": lambda c, at: workflow.mark_fixed(c, actor=ANALYST, at=at, evidence="page gone"),
    "escalate": lambda c, at: workflow.escalate(c, actor=ANALYST, at=at),
    "record_suspension": lambda c, at: workflow.record_suspension(c, actor=REGISTRY, at=at),
    "withdraw": lambda c, at: workflow.withdraw(c, actor=REGISTRY, at=at, reason="fixed meanwhile"),
    "request_restoration": lambda c, at: workflow.request_restoration(c, actor=ANALYST, at=at),
    "record_restoration": lambda c, at: workflow.record_restoration(c, actor=REGISTRY, at=at),
    "close": lambda c, at: workflow.close(c, actor=ANALYST, at=at),
}

PATHS: dict[str, list[str]] = {
    State.RECORDED: [],
    State.NOTIFYING: ["confirm", "record_notice_sent"],
    State.REJECTED: ["reject"],
    State.RESOLVED: ["confirm", "record_notice_sent", "mark_fixed"],
    State.ESCALATED: ["confirm", "record_notice_sent", "escalate"],
    State.WITHDRAWN: ["confirm", "record_notice_sent", "escalate", "withdraw"],
    State.SUSPENDED: ["confirm", "record_notice_sent", "escalate", "record_suspension"],
    State.RESTORATION_REQUESTED: [
        "confirm",
        "record_notice_sent",
        "escalate",
        "record_suspension",
        "request_restoration",
    ],
    State.RESTORED: [
        "confirm",
        "record_notice_sent",
        "escalate",
        "record_suspension",
        "request_restoration",
        "record_restoration",
    ],
    State.CLOSED: [
        "confirm",
        "record_notice_sent",
        "escalate",
        "record_suspension",
        "request_restoration",
        "record_restoration",
        "close",
    ],
}


def drive(case: Case, state: str) -> Case:
    at = T0
    for operation in PATHS[state]:
        at += dt.timedelta(days=1)
        case = OPERATIONS[operation](case, at)
    assert case.state == state
    return case


ALL_PAIRS = [(state, op) for state in PATHS for op in OPERATIONS]


@pytest.mark.parametrize(("state", "operation"), ALL_PAIRS, ids=[f"{s}-{o}" for s, o in ALL_PAIRS])
def test_each_operation_moves_only_from_its_allowed_states(
    make_case: Callable[..., Case], state: str, operation: str
) -> None:
    case = drive(make_case(T0), state)
    events_before = CaseEvent.objects.count()
    spec = workflow.TRANSITIONS[operation]
    at = T0 + dt.timedelta(days=30)
    if state in spec.sources:
        OPERATIONS[operation](case, at)
        case.refresh_from_db()
        assert case.state == spec.target
        event = CaseEvent.objects.order_by("-seq").first()
        assert event is not None
        assert (event.action, event.state_before, event.state_after) == (spec.action, state, spec.target)
        assert event.at == at
        assert CaseEvent.objects.count() == events_before + 1
    else:
        with pytest.raises(workflow.InvalidTransition, match=f"it is {state}"):
            OPERATIONS[operation](case, at)
        case.refresh_from_db()
        assert case.state == state
        assert CaseEvent.objects.count() == events_before


def test_confirm_queues_the_first_notice_and_confirms_the_incidents(make_case: Callable[..., Case]) -> None:
    case = workflow.confirm(make_case(T0), actor=ANALYST, at=T0)
    assert list(Job.objects.filter(case=case).values_list("kind", "payload")) == [
        ("notice.send", {"number": 1})
    ]
    assert set(Incident.objects.filter(case=case).values_list("status", flat=True)) == {"confirmed"}


def test_notice_sent_starts_the_owners_clock_in_working_days(make_case: Callable[..., Case]) -> None:
    case = workflow.confirm(make_case(T0), actor=ANALYST, at=T0)
    # Sent Thursday 19 March 2026: 3 working days skip the weekend and Nauryz (23-25 March).
    sent = almaty(2026, 3, 19, 11)
    case = workflow.record_notice_sent(case, number=1, actor="system:worker", at=sent)
    assert case.last_notice_at == sent
    assert case.owner_deadline == almaty(2026, 3, 28)  # end of Friday 27 March
    assert case.next_due_at == case.owner_deadline


def test_recording_the_same_notice_twice_changes_nothing(make_case: Callable[..., Case]) -> None:
    case = workflow.confirm(make_case(T0), actor=ANALYST, at=T0)
    workflow.record_notice_sent(case, number=1, actor="system:worker", at=T0)
    events = CaseEvent.objects.count()
    case = workflow.record_notice_sent(case, number=1, actor="system:worker", at=T0 + dt.timedelta(hours=1))
    assert case.notices_sent == 1
    assert case.last_notice_at == T0
    assert CaseEvent.objects.count() == events


def test_a_notice_cannot_skip_a_number(make_case: Callable[..., Case]) -> None:
    case = workflow.confirm(make_case(T0), actor=ANALYST, at=T0)
    with pytest.raises(workflow.WorkflowError, match="notice 3 cannot follow notice 0"):
        workflow.record_notice_sent(case, number=3, actor="system:worker", at=T0)


def test_escalation_before_any_notice_is_refused(make_case: Callable[..., Case]) -> None:
    case = workflow.confirm(make_case(T0), actor=ANALYST, at=T0)
    with pytest.raises(workflow.WorkflowError, match="before the owner was notified"):
        workflow.escalate(case, actor=ANALYST, at=T0)
    case.refresh_from_db()
    assert case.state == State.NOTIFYING


def test_escalation_cites_sub_paragraph_4_and_sub_paragraph_1_when_found(
    make_case: Callable[..., Case],
) -> None:
    case = drive(make_case(T0), State.NOTIFYING)
    workflow.record_notice_sent(case, number=1, actor="system:worker", at=T0)
    workflow.add_ground(case, "unreliable-registrant", actor=ANALYST, evidence="WHOIS e-mail bounced", at=T0)
    case = workflow.escalate(case, actor=ANALYST, at=almaty(2026, 3, 20, 16))
    event = CaseEvent.objects.get(case=case, action="case.escalated")
    assert event.grounds == "unremedied-incident,unreliable-registrant"
    assert event.actor == ANALYST
    # One business day from Friday 20 March 2026: the weekend and Nauryz pass, Thursday 26th ends it.
    assert case.registry_deadline == almaty(2026, 3, 27)


def test_suspension_sets_server_hold_and_the_registrars_deadline(make_case: Callable[..., Case]) -> None:
    case = drive(make_case(T0), State.SUSPENDED)
    domain = Domain.objects.get(pk=case.domain_id)
    assert "serverHold" in domain.statuses
    assert case.registrar_deadline is not None and case.suspended_at is not None
    event = CaseEvent.objects.get(case=case, action="registry.suspended")
    assert event.grounds == "unremedied-incident"
    restored = drive(make_case(T0, domain=None), State.RESTORED)
    assert "serverHold" not in Domain.objects.get(pk=restored.domain_id).statuses


def test_a_domain_has_one_open_case_at_a_time(make_case: Callable[..., Case]) -> None:
    case = make_case(T0)
    assert workflow.open_case(case.domain_id, actor="system:intake", at=T0).pk == case.pk
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.create(domain_id=case.domain_id, opened_at=T0)


def test_a_closed_domain_can_open_a_new_case(make_case: Callable[..., Case]) -> None:
    case = drive(make_case(T0), State.REJECTED)
    again = workflow.open_case(case.domain_id, actor="system:intake", at=T0 + dt.timedelta(days=40))
    assert again.pk != case.pk
    assert again.state == State.RECORDED


def test_a_user_actor_is_named_in_the_event(make_case: Callable[..., Case]) -> None:
    user = get_user_model().objects.create_user("aigerim", password="x" * 12)
    case = workflow.confirm(make_case(T0), actor=user, at=T0)
    assert CaseEvent.objects.get(case=case, action="case.confirmed").actor == "user:aigerim"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"reason": "  "}, "needs a reason")],
)
def test_rejection_without_a_reason_is_refused(
    make_case: Callable[..., Case], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(workflow.WorkflowError, match=message):
        workflow.reject(make_case(T0), actor=ANALYST, at=T0, **kwargs)


def test_an_actor_must_say_who_it_is(make_case: Callable[..., Case]) -> None:
    with pytest.raises(ValueError, match="user:NAME"):
        workflow.confirm(make_case(T0), actor="somebody", at=T0)
