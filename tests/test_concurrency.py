"""Two ticks and two workers at once on one PostgreSQL: every due step happens exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from tests.conftest import almaty
from zonewarden.cases import workflow
from zonewarden.cases.audit import verify_chain
from zonewarden.cases.models import Case, CaseEvent
from zonewarden.cases.tick import tick
from zonewarden.jobs import queue
from zonewarden.jobs.models import Job

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_only]


def in_parallel(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at the same moment, each in its own thread and database connection."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]
    return results


def test_the_suite_really_runs_on_postgresql() -> None:
    assert connection.vendor == "postgresql"


def test_two_ticks_at_once_move_each_due_case_once(make_case: Callable[..., Case]) -> None:
    start = almaty(2026, 4, 1, 11)
    cases = []
    for _ in range(40):
        case = workflow.confirm(make_case(start), actor="user:analyst", at=start)
        cases.append(workflow.record_notice_sent(case, number=1, actor="system:worker", at=start))
    at = almaty(2026, 4, 10)
    first, second = in_parallel(lambda: tick(at), lambda: tick(at))
    total = first.actions + second.actions
    assert total == Counter({"reminder_due": 40})
    reminders = Counter(
        CaseEvent.objects.filter(action="case.reminder_due").values_list("case_id", flat=True)
    )
    assert reminders == Counter({case.pk: 1 for case in cases})
    assert Job.objects.filter(kind="check.case", payload={"purpose": "reminder", "number": 2}).count() == 40
    assert verify_chain().ok


done: list[int] = []
lock = threading.Lock()


@queue.handler("test.concurrent")
def _note(job: Job, now: object) -> None:
    with lock:
        done.append(job.pk)


def test_two_workers_at_once_run_each_job_once() -> None:
    done.clear()
    at = almaty(2026, 4, 1, 9)
    for _ in range(100):
        queue.enqueue("test.concurrent", at=at)
    a, b = in_parallel(lambda: queue.run_due_jobs(at, worker="a"), lambda: queue.run_due_jobs(at, worker="b"))
    assert a.done + b.done == 100
    assert sorted(done) == sorted(Job.objects.values_list("pk", flat=True))
    assert Job.objects.filter(state=Job.State.DONE).count() == 100
