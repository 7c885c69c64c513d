"""One claim/lease/retry for every queue: a claim covers the work in hand, lanes, backlog, outages."""

from __future__ import annotations

import datetime as dt
import io
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError
from django.test import override_settings

from tests.conftest import almaty
from zonewarden import queues
from zonewarden.cases import workflow
from zonewarden.cases.models import Case, State
from zonewarden.checks.models import Purpose
from zonewarden.checks.schedule import queue_check
from zonewarden.domains.models import Domain
from zonewarden.jobs import queue
from zonewarden.jobs.models import Job
from zonewarden.notices import outbox
from zonewarden.notices.models import Notice, SinkMessage
from zonewarden.publish import publishers
from zonewarden.publish.models import Publication
from zonewarden.publish.service import publish_due, request_publication

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("defaults")]
T0 = almaty(2026, 4, 1, 9)
seen_running: list[list[int]] = []


@queue.handler("test.lane")
def _look(job: Job, now: dt.datetime) -> None:
    seen_running.append(list(Job.objects.filter(state=Job.State.RUNNING).values_list("pk", flat=True)))


@pytest.fixture
def signals_restored() -> Iterator[None]:
    saved = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


def pending_notices(make_case: Callable[..., Case], count: int) -> list[Notice]:
    for _ in range(count):
        workflow.confirm(make_case(T0), actor="user:analyst", at=T0)
    queue.run_due_jobs(T0, worker="jobs", kinds=["notice.send"])
    return list(Notice.objects.order_by("pk"))


def suspensions(count: int) -> list[Publication]:
    found = []
    for i in range(count):
        domain = Domain.objects.create(name=f"held{i}.kz", statuses=["serverHold"])
        case = Case.objects.create(domain=domain, state=State.SUSPENDED, opened_at=T0)
        found.append(request_publication(domain, "suspend", case=case, at=T0))
    return found


# --- a claim covers what is in progress --------------------------------------------------------


def test_a_notice_is_sending_only_while_it_is_handed_to_the_server(
    make_case: Callable[..., Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    notices = pending_notices(make_case, 5)
    during: list[dict[str, Any]] = []
    transmit = outbox._transmit

    def watched(notice: Notice, handing: Callable[[], None]) -> None:
        during.append(
            {
                "sending": list(Notice.objects.filter(state="sending").values_list("pk", flat=True)),
                "pending": Notice.objects.filter(state="pending").count(),
            }
        )
        transmit(notice, handing)

    monkeypatch.setattr(outbox, "_transmit", watched)
    assert outbox.send_due(T0, worker="w").sent == 5
    assert [step["sending"] for step in during] == [[notice.pk] for notice in notices]
    assert [step["pending"] for step in during] == [4, 3, 2, 1, 0]


def test_publications_are_claimed_one_update_at_a_time(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    rows = suspensions(2 * publishers.BATCH + 50)
    claimed: list[tuple[int, int]] = []
    zonefile = publishers.PUBLISHERS["zonefile"]

    def watched(changes: Any) -> None:
        leased = Publication.objects.filter(state="pending", lease_until__isnull=False).count()
        claimed.append((len(changes), leased))
        zonefile(changes)

    monkeypatch.setitem(publishers.PUBLISHERS, "zonefile", watched)
    with override_settings(ZONEWARDEN_PUBLISHERS=["zonefile"], ZONEWARDEN_ZONEFILE_DIR=str(tmp_path)):
        assert publish_due(T0, worker="w").applied == len(rows)
    assert claimed == [(100, 100), (100, 100), (50, 50)]


def test_a_job_is_claimed_when_it_runs_not_before() -> None:
    seen_running.clear()
    jobs = [queue.enqueue("test.lane", at=T0) for _ in range(4)]
    assert queue.run_due_jobs(T0, worker="w").done == 4
    assert seen_running == [[job.pk] for job in jobs if job is not None]


def test_work_stops_between_two_items_when_asked(make_case: Callable[..., Case]) -> None:
    pending_notices(make_case, 3)
    asked: list[int] = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) > 2

    summary = outbox.send_due(T0, worker="w", stop=stop)
    assert summary.sent == 2
    assert Notice.objects.filter(state="pending").count() == 1  # not claimed, left for the next worker


def test_backoff_doubles_from_a_minute_up_to_six_hours() -> None:
    assert [queues.backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4, 9, 10, 30)] == [
        1,
        2,
        4,
        8,
        256,
        360,
        360,
    ]


# --- lanes ----------------------------------------------------------------------------------


def test_every_job_kind_has_a_lane() -> None:
    lanes = {kind: queues.lane_of_kind(kind) for kind in queue.registered_kinds()}
    assert lanes["check.case"] == "checks"
    assert lanes["notice.send"] == "mail"
    assert lanes["test.lane"] == "clock"
    assert set(lanes.values()) <= set(queues.LANES)
    assert queues.lane_of_kind("dns.anything") == "dns" and queues.lane_of_kind("publish.x") == "dns"
    with pytest.raises(ValueError, match="unknown lane"):
        queues.kinds_of_lane("smtp")


def test_a_lane_runs_its_own_jobs_only(make_case: Callable[..., Case]) -> None:
    case = make_case(T0)
    queue_check(case, purpose=Purpose.MANUAL, at=T0)
    queue.enqueue("test.lane", at=T0)
    queue.enqueue("notice.send", at=T0, case_id=case.pk, payload={"number": 1})
    assert queue.run_due_jobs(T0, worker="w", lane="mail").done == 1
    assert queue.run_due_jobs(T0, worker="w", lane="dns").done == 0
    assert queue.run_due_jobs(T0, worker="w", lane="clock").done == 1
    left = Job.objects.filter(state=Job.State.PENDING).values_list("kind", flat=True)
    assert list(left) == ["check.case"]


@pytest.mark.django_db(transaction=True)
def test_worker_once_with_a_lane_does_that_lane_only(
    make_case: Callable[..., Case], signals_restored: None
) -> None:
    checked = make_case(T0)
    queue_check(checked, purpose=Purpose.MANUAL, at=T0)
    workflow.confirm(make_case(T0), actor="user:analyst", at=T0)  # a notice.send job
    [held] = suspensions(1)
    out = io.StringIO()
    call_command("worker", "--once", "--lane", "mail", "--at", T0.isoformat(), stdout=out)
    assert Notice.objects.get().state == Notice.State.SENT
    assert Job.objects.get(kind="check.case").state == Job.State.PENDING
    assert Publication.objects.get(pk=held.pk).state == "pending"
    assert "one round of mail" in out.getvalue()
    call_command("worker", "--once", "--lane", "dns", "--lane", "checks", "--at", T0.isoformat(), stdout=out)
    assert Publication.objects.get(pk=held.pk).state == "applied"
    assert Job.objects.get(kind="check.case").state == Job.State.DONE


def test_worker_refuses_an_unknown_lane() -> None:
    with pytest.raises(CommandError, match="invalid choice: 'smtp'"):
        call_command("worker", "--once", "--lane", "smtp", stdout=io.StringIO())


def test_the_backlog_says_per_lane_how_much_waits_and_since_when(
    make_case: Callable[..., Case], tmp_path: Path
) -> None:
    notices = pending_notices(make_case, 3)
    later = T0 + dt.timedelta(minutes=30)
    outbox.claim(later, worker="dies")  # one notice in hand
    Notice.objects.filter(pk=notices[2].pk).update(next_attempt_at=later + dt.timedelta(hours=1))
    queue.enqueue("check.case", at=T0 + dt.timedelta(minutes=5))
    suspensions(2)
    maildir = tmp_path / "Maildir"
    for folder in ("new", "cur", "tmp"):
        (maildir / folder).mkdir(parents=True)
    (maildir / "new" / "1.msg").write_bytes(b"Subject: hi\r\n\r\nhello\r\n")
    with override_settings(ZONEWARDEN_MAILDIR=str(maildir)):
        found = {(b.lane, b.queue, b.state): b for b in queues.backlog(later)}
    assert {lane for lane, _, _ in found} == set(queues.LANES)
    outbox_due = found[("mail", "outbox", "due")]
    assert (outbox_due.count, outbox_due.oldest, outbox_due.age(later)) == (1, T0, later - T0)
    assert found[("mail", "outbox", "held")].count == 1
    assert found[("mail", "outbox", "later")].count == 1
    assert found[("mail", "outbox", "in_doubt")].count == 0
    assert found[("checks", "jobs", "due")].count == 1
    assert found[("mail", "jobs", "due")].count == 0  # the notice jobs are done
    assert found[("dns", "publications", "due")].count == 2
    assert found[("maildir", "maildir", "due")].count == 1
    assert found[("clock", "cases", "due")].count == 0
    # Once the lease of the notice in hand has run out, it is in doubt (it becomes unconfirmed).
    much_later = later + dt.timedelta(seconds=601)
    in_doubt = {(b.lane, b.queue, b.state): b.count for b in queues.backlog(much_later, lanes=["mail"])}
    assert in_doubt[("mail", "outbox", "in_doubt")] == 1 and in_doubt[("mail", "outbox", "held")] == 0


# --- the database going away while work is in hand ---------------------------------------------


def outage(*args: object, **kwargs: object) -> None:
    raise OperationalError("server closed the connection unexpectedly")


def test_a_notice_not_yet_handed_over_when_the_database_goes_is_put_back(
    make_case: Callable[..., Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    [notice] = pending_notices(make_case, 1)
    monkeypatch.setattr(outbox, "render_owner_notice", outage)
    with pytest.raises(OperationalError):
        outbox.send_due(T0, worker="w")
    notice.refresh_from_db()
    assert notice.state == Notice.State.SENDING  # the database was gone: nothing could be written
    assert queues.release_held() == 1  # the worker's lane, once the database answers again
    notice.refresh_from_db()
    assert (notice.state, notice.attempts, notice.lease_until) == (Notice.State.PENDING, 0, None)
    assert queues.release_held() == 0
    monkeypatch.undo()
    assert outbox.send_due(T0, worker="w").sent == 1


def test_a_notice_the_server_took_before_the_database_went_is_recorded_sent_when_it_is_back(
    make_case: Callable[..., Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    [notice] = pending_notices(make_case, 1)
    monkeypatch.setattr(outbox, "confirm_sent", outage)
    with pytest.raises(OperationalError):
        outbox.send_due(T0, worker="w")
    monkeypatch.undo()
    assert SinkMessage.objects.filter(message_id=notice.message_id).count() == 1
    assert queues.release_held() == 1
    notice.refresh_from_db()
    assert notice.state == Notice.State.SENT and notice.sent_at == T0
    assert not outbox.send_due(T0 + dt.timedelta(hours=1), worker="w")
    assert SinkMessage.objects.filter(message_id=notice.message_id).count() == 1


def test_a_notice_whose_worker_crashed_while_sending_stays_in_doubt(
    make_case: Callable[..., Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    [notice] = pending_notices(make_case, 1)

    def crash(notice: Notice, handing: Callable[[], None]) -> None:
        handing()  # the text and the final dot are out …
        raise RuntimeError("bug")  # … and the worker breaks before the server's answer

    monkeypatch.setattr(outbox, "_transmit", crash)
    with pytest.raises(RuntimeError):
        outbox.send_due(T0, worker="w")
    assert queues.release_held() == 0  # handed over: nobody knows whether the server has it
    notice.refresh_from_db()
    assert notice.state == Notice.State.SENDING


def test_a_job_interrupted_by_the_database_is_put_back_for_the_next_round() -> None:
    job = queue.enqueue("test.outage", at=T0)
    assert job is not None
    with pytest.raises(OperationalError):
        queue.run_due_jobs(T0, worker="w")
    job.refresh_from_db()
    assert job.state == Job.State.RUNNING
    assert queues.release_held() == 1
    job.refresh_from_db()
    assert (job.state, job.attempts, job.last_error) == (Job.State.PENDING, 0, "")


@queue.handler("test.outage")
def _outage_job(job: Job, now: dt.datetime) -> None:
    outage()
