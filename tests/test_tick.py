"""The clock: reminders, escalation and late deadlines fall due in working days, once."""

from __future__ import annotations

import datetime as dt
import email
from collections.abc import Callable
from email import policy as email_policy
from email.message import EmailMessage
from io import StringIO

import pytest
from django.core.management import call_command

from tests.conftest import almaty
from zonewarden.cases import workflow
from zonewarden.cases.models import Case, CaseEvent, Policy, State
from zonewarden.cases.tick import tick
from zonewarden.checks.models import Check
from zonewarden.jobs.models import Job
from zonewarden.jobs.queue import run_due_jobs
from zonewarden.notices.models import Notice, SinkMessage
from zonewarden.notices.outbox import send_due
from zonewarden.registry.models import RegistryRequest

pytestmark = pytest.mark.django_db
ANALYST = "user:analyst"


def work(at: dt.datetime) -> None:
    """What the worker does in one round: the jobs, then the outbox."""
    run_due_jobs(at, worker="test")
    send_due(at, worker="test")


def delivered() -> list[EmailMessage]:
    """The messages the embedded sink took, as the default mail backend without an SMTP server."""
    found = []
    for raw in SinkMessage.objects.order_by("pk").values_list("raw", flat=True):
        message = email.message_from_string(raw, policy=email_policy.default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


def notified(make_case: Callable[..., Case], at: dt.datetime) -> Case:
    case = workflow.confirm(make_case(at), actor=ANALYST, at=at)
    work(at)
    case.refresh_from_db()
    assert case.notices_sent == 1
    return case


def test_the_worker_sends_the_first_notice_and_starts_the_clock(make_case: Callable[..., Case]) -> None:
    sent = almaty(2026, 3, 19, 11)
    case = notified(make_case, sent)
    [message] = delivered()
    assert message["To"] == "admin@example.kz"
    assert message["From"] == "incident@cert.kz"
    assert message["Reply-To"] == "info@cert.kz"
    assert case.domain_id in message["Subject"]
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    # Shown defanged, so that nobody opens it by a click.
    assert f"hxxp://{case.domain_id.replace('.', '[.]')}/login.php" in text
    assert "2026-03-27" in text  # 3 working days after 19 March, past the weekend and Nauryz
    assert case.owner_deadline == almaty(2026, 3, 28)


def test_a_reminder_waits_for_working_days_and_a_check(make_case: Callable[..., Case]) -> None:
    case = notified(make_case, almaty(2026, 3, 19, 11))
    assert tick(almaty(2026, 3, 27, 23, 59)).actions == {}
    at = almaty(2026, 3, 28, 0, 0)
    summary = tick(at)
    assert summary.actions == {"reminder_due": 1}
    # The incident is checked first; only when it is still there does the reminder follow.
    assert (
        Job.objects.filter(case=case, kind="check.case", payload={"purpose": "reminder", "number": 2}).count()
        == 1
    )
    assert not Job.objects.filter(case=case, kind="notice.send", payload={"number": 2}).exists()
    work(at)
    check = Check.objects.get(incident__case=case, purpose="reminder")
    assert check.verdict == "unreachable"  # the test's names do not resolve, which is not "fixed"
    assert Job.objects.filter(case=case, kind="notice.send", payload={"number": 2}).count() == 1
    case.refresh_from_db()
    assert case.notices_sent == 2


def test_running_the_tick_twice_has_the_effect_of_once(make_case: Callable[..., Case]) -> None:
    case = notified(make_case, almaty(2026, 4, 1, 11))
    at = almaty(2026, 4, 10)
    events = CaseEvent.objects.count()
    first, second = tick(at), tick(at)
    assert first.actions == {"reminder_due": 1}
    assert second.actions == {}
    assert CaseEvent.objects.count() == events + 1
    assert Job.objects.filter(case=case, kind="check.case").count() == 1


def test_after_the_last_notice_the_case_is_due_for_escalation(make_case: Callable[..., Case]) -> None:
    policy = Policy.current()
    at = almaty(2026, 4, 1, 11)
    case = notified(make_case, at)
    for _ in range(policy.notices_before_escalation - 1):
        at += dt.timedelta(days=7)
        tick(at)
        work(at)
    case.refresh_from_db()
    assert case.notices_sent == policy.notices_before_escalation
    at += dt.timedelta(days=7)
    assert tick(at).actions == {"escalation_check_due": 1}
    work(at)
    case.refresh_from_db()
    assert case.state == State.NOTIFYING
    assert case.escalation_due_at == at
    assert len(delivered()) == policy.notices_before_escalation
    assert tick(at + dt.timedelta(days=7)).actions == {}


def test_policy_may_let_the_clock_escalate(make_case: Callable[..., Case]) -> None:
    Policy.objects.filter(pk=Policy.current().pk).update(auto_escalate=True, notices_before_escalation=1)
    at = almaty(2026, 4, 1, 11)
    case = notified(make_case, at)
    assert tick(at + dt.timedelta(days=7)).actions == {"escalation_check_due": 1}
    work(at + dt.timedelta(days=7))  # the check finds it still there: due for escalation
    assert tick(at + dt.timedelta(days=7, minutes=1)).actions == {"escalated": 1}
    case.refresh_from_db()
    assert case.state == State.ESCALATED
    assert CaseEvent.objects.get(case=case, action="case.escalated").actor == "system:tick"
    request = RegistryRequest.objects.get()  # with its letter, in the registry's queue
    assert request.created_by == "system:tick" and list(request.items.values_list("case", flat=True)) == [
        case.pk
    ]


def test_a_fixed_case_gets_no_reminder(make_case: Callable[..., Case]) -> None:
    case = notified(make_case, almaty(2026, 4, 1, 11))
    workflow.mark_fixed(case, actor=ANALYST, at=almaty(2026, 4, 2))
    assert tick(almaty(2026, 5, 1)).actions == {}


def test_a_late_registry_is_flagged_once(make_case: Callable[..., Case]) -> None:
    case = notified(make_case, almaty(2026, 4, 1, 11))
    case = workflow.escalate(case, actor=ANALYST, at=almaty(2026, 4, 10, 17))  # Friday
    assert case.registry_deadline == almaty(2026, 4, 14)  # end of Monday 13 April
    assert tick(almaty(2026, 4, 13, 23)).actions == {}
    assert tick(almaty(2026, 4, 14, 9)).actions == {"registry_late": 1}
    assert tick(almaty(2026, 4, 15, 9)).actions == {}
    case.refresh_from_db()
    assert case.registry_late
    event = CaseEvent.objects.get(case=case, action="registry.deadline_missed")
    assert event.actor == "system:tick" and event.state_before == event.state_after == State.ESCALATED


def test_a_late_registrar_is_flagged_after_ten_working_days(make_case: Callable[..., Case]) -> None:
    case = notified(make_case, almaty(2026, 4, 1, 11))
    workflow.escalate(case, actor=ANALYST, at=almaty(2026, 4, 10, 9))
    case = workflow.record_suspension(case, actor="user:registry", at=almaty(2026, 4, 13, 10))
    # Ten working days from Monday 13 April: 14-17, 20-24, 27 April.
    assert case.registrar_deadline == almaty(2026, 4, 28)
    assert tick(almaty(2026, 4, 27, 18)).actions == {}
    assert tick(almaty(2026, 4, 28, 0, 1)).actions == {"registrar_late": 1}


def test_tick_command_replays_a_given_time(make_case: Callable[..., Case]) -> None:
    notified(make_case, almaty(2026, 4, 1, 11))
    out = StringIO()
    call_command("tick", "--at", "2026-04-10T09:00", stdout=out)
    assert "reminder_due 1" in out.getvalue()
    assert "2026-04-10T09:00:00+05:00" in out.getvalue()


def test_a_notice_to_nobody_fails_for_good_with_a_reason(
    make_domain: Callable[..., object], make_case: Callable[..., Case]
) -> None:
    at = almaty(2026, 4, 1, 11)
    case = workflow.confirm(make_case(at, domain=make_domain(email="")), actor=ANALYST, at=at)
    work(at)
    notice = Notice.objects.get(case=case)
    assert notice.state == Notice.State.FAILED
    assert "no administrative contact e-mail" in notice.last_error
    assert case.events.filter(action="notice.no_address").count() == 1
    assert len(delivered()) == 0
    case.refresh_from_db()
    assert case.notices_sent == 0
