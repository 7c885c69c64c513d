"""Real worker processes: killed mid-batch, lanes that do not wait for each other, a database restart.

Each test starts `zonewarden worker` as its own process on the test's database (tests/workerprocess.py)
against real servers on loopback — aiosmtpd, Knot, a slow web site — and prints what it counted.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
import time_machine
from django.db import connection

from tests.checks.webserver import Answer, web_server
from tests.conftest import almaty
from tests.knot import Knot, require_knot
from tests.pgcluster import restart_cluster
from tests.smtpserver import free_port, smtp_server
from tests.workerprocess import SharedDatabase, Worker, environment, shared_database, wait_for
from zonewarden.cases import workflow
from zonewarden.cases.models import Case, CaseEvent, State
from zonewarden.checks.models import Check, Purpose
from zonewarden.checks.schedule import queue_check
from zonewarden.domains.models import Domain
from zonewarden.jobs.queue import run_due_jobs
from zonewarden.notices.models import Notice
from zonewarden.publish.models import Publication
from zonewarden.publish.publishers import BATCH
from zonewarden.publish.service import request_publication

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("defaults")]
T0 = almaty(2026, 4, 1, 11)
LATER = T0 + dt.timedelta(hours=1)  # every lease of a worker that died at T0 has run out


def clock_at(moment: dt.datetime) -> dict[str, str]:
    """The worker processes' replay clock: the test's moment, whatever day the suite runs."""
    return {"ZONEWARDEN_CLOCK": moment.isoformat(), "ZONEWARDEN_TICK_SECONDS": "3600"}


def notices_due(make_case: Callable[..., Case], count: int) -> list[Notice]:
    for _ in range(count):
        workflow.confirm(make_case(T0), actor="user:analyst", at=T0)
    run_due_jobs(T0, worker="jobs")
    notices = list(Notice.objects.order_by("pk"))
    assert len(notices) == count and {n.state for n in notices} == {Notice.State.PENDING}
    return notices


def states(database: SharedDatabase, table: str) -> Counter[str]:
    return Counter(
        {
            state: count
            for state, count in database.rows(f"SELECT state, count(*) FROM {table} GROUP BY state")
        }
    )  # noqa: S608 - our table names


def test_workers_killed_mid_batch_leave_one_notice_each_in_doubt_and_the_next_sends_the_rest(
    make_case: Callable[..., Case], tmp_path: Path
) -> None:
    notices = notices_due(make_case, 30)
    kills, in_doubt_after_kill = 3, []
    with smtp_server() as smtp, shared_database(tmp_path) as database:
        smtp.handler.data_delay = 0.05  # a busy server: a kill may land mid-conversation
        env = environment(database, tmp_path, **smtp.environment(), **clock_at(T0))
        for number in range(kills):
            worker = Worker(["--lane", "mail", "--poll", "0.2"], env, tmp_path / f"worker{number}.log")
            target = len(smtp.received) + 4
            wait_for(lambda t=target: len(smtp.received) >= t, 60, "four more notices", worker=worker)
            worker.kill()
            sending = database.rows(
                "SELECT claimed_by FROM notices_notice WHERE state = ?", Notice.State.SENDING
            )
            in_doubt_after_kill.append(len(sending))
            # At most the one notice the killed worker was handing to the server.
            assert len(sending) <= number + 1 and len(set(sending)) == len(sending)
        assert states(database, "notices_notice")[Notice.State.PENDING] > 0  # killed mid-batch indeed
        received_before = len(smtp.received)
        # The next worker, once the dead ones' leases have run out: one round, then it exits.
        last = Worker(
            ["--once", "--lane", "mail"],
            environment(database, tmp_path, **smtp.environment(), **clock_at(LATER)),
            tmp_path / "last.log",
        )
        assert last.wait(120) == 0, last.output()
    by_id = Counter(received.message["Message-ID"] for received in smtp.received)
    final = Counter(Notice.objects.values_list("state", flat=True))
    in_doubt = list(Notice.objects.filter(state=Notice.State.UNCONFIRMED))
    print(
        f"\n{len(notices)} notices, {kills} workers SIGKILLed mid-batch: sending after each kill "
        f"{in_doubt_after_kill}; received {received_before} before the last worker, {len(smtp.received)} "
        f"in all; duplicates {sum(n - 1 for n in by_id.values())}; final states {dict(final)}"
    )
    assert set(by_id.values()) == {1}  # nothing was sent twice
    assert final[Notice.State.SENDING] == 0 and len(in_doubt) <= kills  # at most one per dead worker
    assert len({notice.claimed_by for notice in in_doubt}) == len(in_doubt)
    for notice in Notice.objects.filter(state=Notice.State.SENT):
        assert by_id[notice.message_id] == 1
    assert final[Notice.State.SENT] + len(in_doubt) == len(notices)
    # Every notice the server has is recorded sent, or in doubt; every other was sent exactly once.
    assert set(by_id) <= {notice.message_id for notice in notices}
    assert final[Notice.State.SENT] >= len(notices) - kills


@pytest.mark.dns
def test_a_worker_killed_mid_publishing_holds_one_batch_and_the_next_applies_every_change_once(
    tmp_path: Path,
) -> None:
    require_knot()
    names = [f"site{i}" for i in range(4 * BATCH)]
    knot = Knot(
        tmp_path / "knot",
        "\n".join(f"{n} NS ns1.{n}\nns1.{n} A 192.0.2.{i % 250 + 1}" for i, n in enumerate(names)),
    )
    for i, name in enumerate(names):
        domain = Domain.objects.create(
            name=f"{name}.kz",
            nameservers=[{"name": f"ns1.{name}.kz", "addresses": [f"192.0.2.{i % 250 + 1}"]}],
            statuses=["serverHold"],
        )
        case = Case.objects.create(domain=domain, state=State.SUSPENDED, opened_at=T0)
        request_publication(domain, "suspend", case=case, at=T0)
    knot.start()
    try:
        serial = knot.serial()
        with shared_database(tmp_path) as database:
            env = environment(database, tmp_path, **knot.environment(), **clock_at(T0))
            worker = Worker(["--lane", "dns", "--poll", "0.2"], env, tmp_path / "worker.log")
            wait_for(lambda: knot.serial() > serial, 60, "the first UPDATE", worker=worker)
            worker.kill()
            held = database.rows(
                "SELECT claimed_by, count(*) FROM publish_publication "
                "WHERE state = 'pending' AND lease_until IS NOT NULL GROUP BY claimed_by"
            )
            at_kill = states(database, "publish_publication")
            # The killed worker held the batch it was sending, and nothing more.
            assert len(held) <= 1 and sum(count for _, count in held) <= BATCH
            assert at_kill["pending"] >= len(names) - 2 * BATCH
            last = Worker(
                ["--once", "--lane", "dns"],
                environment(database, tmp_path, **knot.environment(), **clock_at(LATER)),
                tmp_path / "last.log",
            )
            assert last.wait(120) == 0, last.output()
        still_delegated = [name for name in names if knot.nameservers(f"{name}.kz")]
        updates = knot.serial() - serial
    finally:
        knot.stop()
    final = Counter(Publication.objects.values_list("state", flat=True))
    events = Counter(CaseEvent.objects.filter(action="dns.suspended").values_list("case_id", flat=True))
    print(
        f"\n{len(names)} suspensions, the worker SIGKILLed after its first UPDATE holding "
        f"{sum(count for _, count in held)}; states at the kill {dict(at_kill)}; final {dict(final)}; "
        f"UPDATEs (serials) {updates}; names still delegated {len(still_delegated)}"
    )
    assert final == Counter({"applied": len(names)})
    assert still_delegated == []
    assert sorted(events.values()) == [1] * len(names)  # each case's suspension recorded once
    # One UPDATE per batch, and at most the batch the killed worker held sent once more (harmless).
    assert len(names) // BATCH <= updates <= len(names) // BATCH + 1


def test_checks_waiting_on_a_site_that_hangs_do_not_hold_up_the_mail_or_the_dns(
    make_case: Callable[..., Case], tmp_path: Path
) -> None:
    slow = [make_case(T0) for _ in range(3)]
    for case in slow:
        queue_check(case, purpose=Purpose.MANUAL, at=T0)
    notified = workflow.confirm(make_case(T0), actor="user:analyst", at=T0)  # its notice.send job waits
    suspended = make_case(T0)
    Domain.objects.filter(pk=suspended.domain_id).update(statuses=["serverHold"])
    request_publication(suspended.domain, "suspend", case=suspended, at=T0)
    release = threading.Event()
    zones = tmp_path / "zones"
    with web_server() as site, smtp_server() as smtp:
        site.answers["/login.php"] = Answer(b"<html><title>gone</title></html>", hold=release)
        for case in slow:
            case.incidents.update(url=site.url("/login.php", case.domain_id))
        with shared_database(tmp_path) as database:
            env = environment(
                database,
                tmp_path,
                **smtp.environment(),
                **clock_at(T0 + dt.timedelta(minutes=1)),
                ZONEWARDEN_CHECK_ALLOW="127.0.0.1",
                ZONEWARDEN_CHECK_HOSTS=",".join(f"{case.domain_id}=127.0.0.1" for case in slow),
                ZONEWARDEN_CHECK_TIMEOUT="60",
                ZONEWARDEN_PUBLISHERS="zonefile,rpz",
                ZONEWARDEN_ZONEFILE_DIR=str(zones),
            )
            worker = Worker(["--poll", "0.2"], env, tmp_path / "worker.log")
            try:
                wait_for(lambda: len(site.hits) >= 1, 60, "the first check's request", worker=worker)
                wait_for(lambda: len(smtp.received) == 1, 60, "the notice", worker=worker)
                rpz = zones / "rpz.zone"
                wait_for(
                    lambda: rpz.exists() and f"{suspended.domain_id} CNAME ." in rpz.read_text(),
                    60,
                    "the suspension in the RPZ zone",
                    worker=worker,
                )
                # Meanwhile the checks lane still waits for the site's first answer.
                assert len(site.hits) == 1 and not release.is_set()
                release.set()
                wait_for(
                    lambda: database.rows("SELECT count(*) FROM checks_check")[0][0] == len(slow),
                    60,
                    "the three checks",
                    worker=worker,
                )
            finally:
                release.set()
                code = worker.stop()
            assert code == 0, worker.output()
    print(f"\nworker output:\n{worker.output()}")
    assert Check.objects.count() == len(slow)
    assert Notice.objects.get(case=notified).state == Notice.State.SENT
    assert Publication.objects.get(case=suspended).state == "applied"


def moving_clock(start: dt.datetime) -> dict[str, str]:
    """A replay clock that stands at `start` now and moves with the real time (leases run out)."""
    travelling = time_machine.escape_hatch.is_travelling()
    wall = time_machine.escape_hatch.time.time() if travelling else time.time()
    real = dt.datetime.fromtimestamp(wall, tz=dt.UTC)
    seconds = round((start - real).total_seconds())
    return {"ZONEWARDEN_CLOCK": f"{'-' if seconds < 0 else '+'}{abs(seconds)}s"}


@pytest.mark.postgres_only
def test_the_worker_outlives_a_postgresql_restart_and_goes_on_sending(
    make_case: Callable[..., Case], tmp_path: Path
) -> None:
    first = notices_due(make_case, 20)
    with smtp_server() as smtp, shared_database(tmp_path) as database:
        smtp.handler.data_delay = 0.1  # notices are on their way while the database goes
        env = environment(
            database, tmp_path, **smtp.environment(), **moving_clock(T0), ZONEWARDEN_TICK_SECONDS="3600"
        )
        worker = Worker(["--poll", "0.2"], env, tmp_path / "worker.log")
        try:
            wait_for(lambda: len(smtp.received) >= 5, 60, "the first notices", worker=worker)
            restart_cluster()
            connection.close()  # ours was cut too
            received_at_restart = len(smtp.received)
            [(beat_after_restart,)] = database.rows("SELECT beat_at FROM jobs_workerheartbeat")
            # Work queued after the restart: the worker's lanes turn the jobs into notices and send them.
            for _ in range(10):
                workflow.confirm(make_case(T0), actor="user:analyst", at=T0)
            wait_for(lambda: len(smtp.received) >= 30, 120, "all 30 notices", worker=worker)
            wait_for(
                lambda: database.rows("SELECT beat_at FROM jobs_workerheartbeat")[0][0] > beat_after_restart,
                30,
                "a heartbeat after the restart",
                worker=worker,
            )
            wait_for(
                lambda: states(database, "notices_notice") == Counter({Notice.State.SENT: 30}),
                60,
                "every notice recorded sent",
                worker=worker,
            )
            assert worker.alive()
        finally:
            code = worker.stop()
    by_id = Counter(received.message["Message-ID"] for received in smtp.received)
    output = worker.output()
    print(
        f"\nPostgreSQL restarted after {received_at_restart} of {len(first)} notices; then 10 more queued; "
        f"received {len(smtp.received)}, duplicates {sum(n - 1 for n in by_id.values())}; "
        f"outages the worker reported: {output.count('the database is unreachable')}"
    )
    assert code == 0, output
    assert len(by_id) == 30 and set(by_id.values()) == {1}
    assert "lane mail: the database is unreachable" in output
    assert set(Notice.objects.values_list("state", flat=True)) == {Notice.State.SENT}


def test_a_worker_started_while_the_database_is_down_waits_for_it_until_told_to_stop(tmp_path: Path) -> None:
    nobody = free_port()  # nothing listens there: connections are refused, as while PostgreSQL restarts
    env = {
        **environment(SharedDatabase(f"postgres://postgres@127.0.0.1:{nobody}/zonewarden", None), tmp_path),
        **clock_at(T0),
    }
    worker = Worker(["--poll", "0.2"], env, tmp_path / "worker.log")
    wait_for(
        lambda: "attempt 2" in worker.output(), 60, "a second attempt to reach the database", worker=worker
    )
    assert worker.stop() == 0
    output = worker.output()
    assert "start: the database is unreachable (OperationalError: connection failed" in output
    assert "Traceback" not in output
