"""Faults around the outbox: the SMTP server down or killed, workers killed, PostgreSQL restarted.

Each test queues owners' first notices, runs real `zonewarden worker` processes against a real
SMTP sink process (tests/faults/smtpsink.py, which writes down every Message-ID it accepts), does
the harm, and then compares the outbox with what the server got: every notice exactly once.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable

import pytest
from django.conf import settings

from tests.faults import work
from tests.faults.harness import Harness, Sink, assert_each_delivered_once, outbox_figures
from zonewarden.cases.models import Case
from zonewarden.domains.models import Domain
from zonewarden.notices.models import Notice

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

UNFINISHED = (Notice.State.PENDING, Notice.State.SENDING)


def settled() -> bool:
    """No notice is waiting or being sent any more."""
    return not Notice.objects.filter(state__in=UNFINISHED).exists()


def sent_once(cases: list[Case]) -> None:
    """Each case's clock started once: one `notice.sent` event for notice 1, none repeated."""
    assert set(work.events(cases, "notice.sent").values()) == {1}
    assert work.repeated_events() == {}


def test_smtp_down_and_back(
    harness: Harness,
    sink: Sink,
    make_domain: Callable[..., Domain],
    make_case: Callable[..., Case],
    at: dt.datetime,
) -> None:
    harness.figures = lambda: outbox_figures(sink.received())
    notices = work.pending_notices(make_case, work.domains(make_domain, "down", 60), at)
    workers = [harness.worker(harness.env(sink.env())) for _ in range(2)]
    # The server is not running: each notice is tried once, refused, and waits for its retry.
    harness.wait_for(
        lambda: (
            not Notice.objects.filter(attempts=0).exists()
            and not Notice.objects.exclude(state=Notice.State.PENDING).exists()
        ),
        timeout=60,
        what="every notice to be tried once while the SMTP server is down",
        alive=workers,
    )
    tried_while_down = Notice.objects.filter(attempts__gte=1, state=Notice.State.PENDING).count()
    sink.start()
    took = harness.wait_for(
        settled, timeout=180, what="the outbox to settle after SMTP came back", alive=workers
    )
    exits = [worker.terminate() for worker in workers]
    received = sink.received()
    harness.report(
        **outbox_figures(received), failed_while_down=tried_while_down, seconds_after_back=round(took, 1)
    )
    assert exits == [0, 0]
    assert tried_while_down == len(notices)
    assert_each_delivered_once(received, unconfirmed_allowed=0)
    sent_once([notice.case for notice in notices if notice.case is not None])
    harness.audit_verify()


def test_smtp_killed_mid_batch(
    harness: Harness,
    sink: Sink,
    make_domain: Callable[..., Domain],
    make_case: Callable[..., Case],
    at: dt.datetime,
) -> None:
    harness.figures = lambda: outbox_figures(sink.received())
    notices = work.pending_notices(make_case, work.domains(make_domain, "midsmtp", 120), at)
    # The sink is SIGKILLed at the worst moment of a message in the middle of the batch: it has
    # taken the message, and dies before it says so.
    when = random.Random(2).randint(10, 40)
    sink.start(die_after=when)
    worker = harness.worker(harness.env(sink.env()))
    assert sink.process is not None
    dead = sink.process
    harness.wait_for(
        lambda: not dead.alive(), timeout=90, what=f"the sink to die at message {when}", alive=[worker]
    )
    at_kill = len(sink.received())
    # The worker goes on with the batch and finds nobody listening before the sink is back.
    harness.wait_for(
        lambda: Notice.objects.filter(state=Notice.State.PENDING, attempts__gte=1).exists(),
        timeout=30,
        what="a notice to fail while the SMTP server is dead",
        alive=[worker],
    )
    sink.start()
    took = harness.wait_for(
        settled, timeout=180, what="the outbox to settle after the restart", alive=[worker]
    )
    exit_code = worker.terminate()
    received = sink.received()
    harness.report(**outbox_figures(received), killed_at=at_kill, seconds_to_settle=round(took, 1))
    assert exit_code == 0
    assert at_kill == when
    # The one message in flight when the server died may be unconfirmed — the server has it.
    assert_each_delivered_once(received, unconfirmed_allowed=1)
    assert len(notices) == Notice.objects.count()
    assert work.repeated_events() == {}
    harness.audit_verify()


def test_a_worker_killed_mid_batch_five_times(
    harness: Harness,
    sink: Sink,
    make_domain: Callable[..., Domain],
    make_case: Callable[..., Case],
    at: dt.datetime,
) -> None:
    kills = 5
    harness.figures = lambda: outbox_figures(sink.received())
    notices = work.pending_notices(make_case, work.domains(make_domain, "killed", 200), at)
    sink.start()
    rng = random.Random(5)
    for _ in range(kills):
        before = sum(sink.received().values())
        worker = harness.worker(harness.env(sink.env()))
        harness.wait_for(
            lambda before=before: (
                sum(sink.received().values()) > before
                or not Notice.objects.filter(state=Notice.State.PENDING).exists()
            ),
            timeout=60,
            what="the worker to start sending",
            alive=[worker],
        )
        time.sleep(rng.uniform(0.0, 0.3))  # the fault's moment: somewhere in the batch
        worker.kill()
    at_last_kill = sum(sink.received().values())
    # The last worker starts after every lease the dead ones held has run out.
    lease = max(settings.ZONEWARDEN_SEND_LEASE_SECONDS, settings.ZONEWARDEN_JOB_LEASE_SECONDS)
    final = harness.worker(
        harness.env(sink.env(), ahead=dt.timedelta(seconds=lease + 60)), "after the leases"
    )
    took = harness.wait_for(settled, timeout=120, what="the last worker to finish the outbox", alive=[final])
    exit_code = final.terminate()
    received = sink.received()
    harness.report(
        **outbox_figures(received),
        kills=kills,
        received_before_last_worker=at_last_kill,
        seconds=round(took, 1),
    )
    assert exit_code == 0
    # At most one notice in doubt per dead worker, and only one the server really has.
    assert_each_delivered_once(received, unconfirmed_allowed=kills)
    assert len(notices) == Notice.objects.count()
    assert work.repeated_events() == {}
    harness.audit_verify()


def test_postgresql_restarted_while_workers_run(
    harness: Harness,
    sink: Sink,
    make_domain: Callable[..., Domain],
    make_case: Callable[..., Case],
    at: dt.datetime,
) -> None:
    harness.figures = lambda: outbox_figures(sink.received())
    notices = work.pending_notices(make_case, work.domains(make_domain, "pgrestart", 150), at)
    sink.start()
    workers = [harness.worker(harness.env(sink.env())) for _ in range(2)]
    pids = [worker.pid for worker in workers]
    harness.wait_for(
        lambda: len(sink.received()) >= 30, timeout=90, what="30 notices at the sink", alive=workers
    )
    restart = harness.restart_postgres()
    at_restart = len(sink.received())
    took = harness.wait_for(
        settled, timeout=120, what="the workers to finish the outbox after the restart", alive=workers
    )
    survived = [worker.pid for worker in workers if worker.alive()]
    exits = [worker.terminate() for worker in workers]
    received = sink.received()
    harness.report(
        **outbox_figures(received),
        received_at_restart=at_restart,
        restart_seconds=round(restart, 1),
        seconds_after=round(took, 1),
        workers_survived=len(survived),
    )
    assert survived == pids
    assert exits == [0, 0]
    assert_each_delivered_once(received, unconfirmed_allowed=0)
    sent_once([notice.case for notice in notices if notice.case is not None])
    harness.audit_verify()
