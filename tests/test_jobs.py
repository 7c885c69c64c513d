"""The job queue: claimed once, retried with backoff, taken over when a worker dies."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import almaty
from zonewarden.jobs import queue
from zonewarden.jobs.models import Job

pytestmark = pytest.mark.django_db
T0 = almaty(2026, 4, 1, 9)
calls: list[int] = []


@queue.handler("test.record")
def _record(job: Job, now: dt.datetime) -> None:
    calls.append(job.pk)


@queue.handler("test.flaky")
def _flaky(job: Job, now: dt.datetime) -> None:
    if job.attempts < 3:
        raise ConnectionError("SMTP down")
    calls.append(job.pk)


@pytest.fixture(autouse=True)
def _reset() -> None:
    calls.clear()


def test_the_same_dedupe_key_queues_one_job() -> None:
    assert queue.enqueue("test.record", at=T0, dedupe_key="k") is not None
    assert queue.enqueue("test.record", at=T0, dedupe_key="k") is None
    assert Job.objects.count() == 1


def test_a_claimed_job_is_not_claimed_again() -> None:
    queue.enqueue("test.record", at=T0)
    assert len(queue.claim(T0, worker="a")) == 1
    assert queue.claim(T0, worker="b") == []


def test_a_job_is_not_run_before_it_is_due() -> None:
    queue.enqueue("test.record", at=T0, due_at=T0 + dt.timedelta(hours=1))
    assert queue.run_due_jobs(T0, worker="a").done == 0
    assert queue.run_due_jobs(T0 + dt.timedelta(hours=1), worker="a").done == 1


def test_a_dead_workers_job_is_taken_over_after_its_lease() -> None:
    job = queue.enqueue("test.record", at=T0)
    assert job is not None
    [claimed] = queue.claim(T0, worker="dies")  # and never reports back
    assert queue.run_due_jobs(T0 + dt.timedelta(seconds=10), worker="b").done == 0
    later = T0 + dt.timedelta(minutes=10)
    assert queue.run_due_jobs(later, worker="b").done == 1
    assert calls == [claimed.pk]
    job.refresh_from_db()
    assert (job.state, job.claimed_by, job.attempts) == (Job.State.DONE, "b", 2)


def test_a_failing_job_is_retried_with_backoff_until_it_succeeds() -> None:
    job = queue.enqueue("test.flaky", at=T0)
    assert job is not None
    at = T0
    for expected_wait in (1, 2):
        assert queue.run_due_jobs(at, worker="w").failed == 1
        job.refresh_from_db()
        assert job.state == Job.State.PENDING
        assert "SMTP down" in job.last_error
        assert job.due_at == at + dt.timedelta(minutes=expected_wait)
        at = job.due_at
    assert queue.run_due_jobs(at, worker="w").done == 1
    assert calls == [job.pk]


def test_an_unknown_kind_fails_for_good() -> None:
    queue.enqueue("test.nobody", at=T0)
    assert queue.run_due_jobs(T0, worker="w").failed == 1
    assert Job.objects.get().state == Job.State.FAILED
    assert "no handler" in Job.objects.get().last_error
