"""Three worker processes at once over the same work: notices, DNS publications and a due tick.

Nothing is broken here but the assumption that one worker runs: three start together on a queue
that holds every kind of work, and each piece must be done exactly once — each notice at the SMTP
sink once, each due case moved once, the clock's escalations in one letter, each suspension in
the zone (AXFR) — with the audit chain intact.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults import work
from tests.faults.harness import Harness, Sink, assert_each_delivered_once, axfr, knot_env, outbox_figures
from tests.knot import require_knot
from zonewarden.cases.models import Case, CaseEvent, Policy, State
from zonewarden.domains.models import Domain
from zonewarden.jobs.models import Job
from zonewarden.notices.models import Notice
from zonewarden.publish.models import Publication
from zonewarden.registry.models import RegistryRequest, RequestItem

pytestmark = [pytest.mark.faults, pytest.mark.dns, pytest.mark.django_db(transaction=True)]


def test_three_workers_at_once_do_everything_once(
    harness: Harness,
    sink: Sink,
    tmp_path: Path,
    make_domain: Callable[..., Domain],
    make_case: Callable[..., Case],
    at: dt.datetime,
) -> None:
    require_knot()
    hour_ago = at - dt.timedelta(hours=1)
    # Owners' first notices: confirmed cases whose notice jobs the workers run.
    first = work.confirmed(make_case, work.domains(make_domain, "twfirst", 60), at)
    # Reminders due: the owner's deadline after notice 1 has passed (a check, then notice 2).
    reminders = [
        make_case(at - dt.timedelta(days=6), domain=d) for d in work.domains(make_domain, "twrem", 15)
    ]
    work.put(
        reminders,
        state=State.NOTIFYING,
        notices_sent=1,
        last_notice_at=at - dt.timedelta(days=5),
        owner_deadline=hour_ago,
        next_due_at=hour_ago,
    )
    # Due for escalation, and the clock may escalate: one letter for all of them.
    escalating = [
        make_case(at - dt.timedelta(days=20), domain=d) for d in work.domains(make_domain, "twesc", 8)
    ]
    work.put(escalating, state=State.NOTIFYING, notices_sent=3, escalation_due_at=hour_ago)
    Policy.objects.filter(pk=Policy.current().pk).update(auto_escalate=True)
    # The registry's and the registrars' deadlines passed: flagged once.
    registry_late = [
        make_case(at - dt.timedelta(days=20), domain=d) for d in work.domains(make_domain, "twrl", 5)
    ]
    work.put(
        registry_late,
        state=State.ESCALATED,
        notices_sent=3,
        escalated_at=at - dt.timedelta(days=2),
        registry_deadline=hour_ago,
        next_due_at=hour_ago,
    )
    registrar_late = [
        make_case(at - dt.timedelta(days=40), domain=d) for d in work.domains(make_domain, "twgl", 5)
    ]
    work.put(
        registrar_late,
        state=State.SUSPENDED,
        notices_sent=3,
        suspended_at=at - dt.timedelta(days=20),
        registrar_deadline=hour_ago,
        next_due_at=hour_ago,
    )
    # Suspensions the registry decided: to publish, and each registrar to tell.
    names = work.domains(make_domain, "twsus", 15, delegated=True)
    bystanders = work.domains(make_domain, "twby", 3, delegated=True)
    knot = harness.knot(work.zone_lines(names + bystanders))
    suspended = work.decide_all(work.escalation(make_case, names, at), "suspended", at)

    harness.figures = lambda: outbox_figures(sink.received())
    sink.start()
    env = harness.env(sink.env(), knot_env(knot, tmp_path))
    workers = [harness.worker(env) for _ in range(3)]

    def done() -> bool:
        return (
            not Job.objects.filter(state__in=[Job.State.PENDING, Job.State.RUNNING]).exists()
            and not Notice.objects.filter(state__in=[Notice.State.PENDING, Notice.State.SENDING]).exists()
            and not Publication.objects.filter(state=Publication.State.PENDING).exists()
            and Notice.objects.count() == 60 + 15 + 15
        )

    took = harness.wait_for(done, timeout=180, what="three workers to finish the work", alive=workers)
    exits = [worker.terminate() for worker in workers]
    received = sink.received()
    letters = list(RegistryRequest.objects.filter(created_by="system:tick"))
    moved = {
        "case.reminder_due": work.events(reminders, "case.reminder_due"),
        "case.checked": work.events(reminders, "case.checked"),
        "case.escalated": work.events(escalating, "case.escalated"),
        "registry.deadline_missed": work.events(registry_late, "registry.deadline_missed"),
        "registrar.deadline_missed": work.events(registrar_late, "registrar.deadline_missed"),
        "dns.suspended": work.events(suspended, "dns.suspended"),
    }
    sent = Counter(
        (case_id, detail["number"])
        for case_id, detail in CaseEvent.objects.filter(action="notice.sent").values_list("case_id", "detail")
    )
    publications = Counter(Publication.objects.values_list("state", flat=True))
    harness.report(
        **outbox_figures(received),
        letters=len(letters),
        cases_moved=sum(sum(counts.values()) for counts in moved.values()),
        publications_applied=publications[Publication.State.APPLIED],
        seconds=round(took, 1),
    )
    assert exits == [0, 0, 0]
    assert_each_delivered_once(received, unconfirmed_allowed=0)
    assert sent == Counter({(case.pk, 1): 1 for case in first} | {(case.pk, 2): 1 for case in reminders})
    for action, counts in moved.items():
        assert set(counts.values()) == {1}, (action, counts)
    [letter] = letters
    assert set(RequestItem.objects.filter(request=letter).values_list("case_id", flat=True)) == {
        case.pk for case in escalating
    }
    assert publications == Counter({Publication.State.APPLIED: len(names)})
    zone = axfr(knot)
    assert not [domain.name for domain in names if domain.name in zone or f"ns1.{domain.name}" in zone]
    assert all(zone[domain.name] == {"NS": [f"ns1.{domain.name}"]} for domain in bystanders)
    assert work.repeated_events() == {}
    harness.audit_verify()
