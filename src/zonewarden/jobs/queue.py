"""Queue work in the caller's transaction; claim and run it so that two workers never do it twice.

Jobs are a `zonewarden.queues.Queue`: a worker claims one job with a conditional UPDATE just
before it runs it, so of two workers racing for one row exactly one wins, and a worker that dies
holds at most that one job. It stays `running` with a lease in the past; the next worker takes it
over. Handlers therefore must be idempotent: they may run again after a crash, and must notice that
their effect already happened. A job's kind says its lane (`zonewarden.queues.lane_of_kind`).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q

from zonewarden import clock
from zonewarden.jobs.models import Job
from zonewarden.queues import Queue, backoff, holding, is_database_outage, kinds_of_lane

__all__ = ["JOBS", "PermanentFailure", "backoff", "claim", "enqueue", "handler", "run_due_jobs", "run_job"]

log = logging.getLogger("zonewarden.jobs")

Handler = Callable[[Job, dt.datetime], None]
_HANDLERS: dict[str, Handler] = {}


class PermanentFailure(Exception):
    """A job that cannot succeed however often it is retried."""


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that performs jobs of `kind`."""

    def register(func: Handler) -> Handler:
        _HANDLERS[kind] = func
        return func

    return register


def registered_kinds() -> list[str]:
    return sorted(_HANDLERS)


def enqueue(
    kind: str,
    *,
    at: dt.datetime,
    case_id: int | None = None,
    payload: dict[str, object] | None = None,
    dedupe_key: str | None = None,
    due_at: dt.datetime | None = None,
) -> Job | None:
    """Queue a job in the current transaction; return None if the same dedupe key is queued already."""
    if dedupe_key is not None and Job.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    job = Job(
        kind=kind,
        case_id=case_id,
        payload=payload or {},
        dedupe_key=dedupe_key,
        due_at=due_at or at,
        created_at=at,
    )
    try:
        with transaction.atomic():
            job.save()
    except IntegrityError:
        if dedupe_key is not None:  # another transaction queued it first
            return None
        raise
    return job


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


JOBS = Queue(
    "jobs",
    Job,
    due_field="due_at",
    lease_setting="ZONEWARDEN_JOB_LEASE_SECONDS",
    working=Job.State.RUNNING,
    order=("due_at", "id"),
)


def _of(kinds: list[str] | None, lane: str | None) -> Q | None:
    condition = Q()
    if kinds is not None:
        condition &= Q(kind__in=kinds)
    if lane is not None:
        condition &= kinds_of_lane(lane)
    return condition if (kinds is not None or lane is not None) else None


def claim(
    now: dt.datetime,
    *,
    worker: str,
    limit: int = 1,
    kinds: list[str] | None = None,
    lane: str | None = None,
) -> list[Job]:
    """Claim up to `limit` due jobs (of `kinds` and `lane`, or any) for `worker`; each is claimed by one worker."""
    won = JOBS.claim(now, worker=worker, limit=limit, where=_of(kinds, lane))
    return list(Job.objects.filter(pk__in=won).order_by("due_at", "id"))


def run_job(job: Job, now: dt.datetime, *, worker: str) -> bool:
    """Perform one claimed job and record the outcome; return whether it succeeded."""
    func = _HANDLERS.get(job.kind)
    try:
        if func is None:
            raise PermanentFailure(
                f"no handler for job kind {job.kind!r} (known: {', '.join(registered_kinds())})"
            )
        func(job, now)
    except Exception as exc:
        if is_database_outage(exc):
            raise  # the job is not at fault: it is put back once the database answers (queues.holding)
        permanent = isinstance(exc, PermanentFailure) or job.attempts >= job.max_attempts
        error = f"{type(exc).__name__}: {exc}"
        log.warning("job %s %s failed (attempt %s): %s", job.pk, job.kind, job.attempts, error)
        if not isinstance(exc, PermanentFailure):
            log.debug("%s", traceback.format_exc())
        JOBS.retry_or_fail(
            job.pk,
            worker,
            now=now,
            attempts=job.attempts,
            permanent=permanent,
            failed=Job.State.FAILED,
            error=error,
            finished_at=now if permanent else None,
        )
        return False
    JOBS.settle(job.pk, worker, state=Job.State.DONE, finished_at=now, lease_until=None, last_error="")
    return True


@dataclass
class RunSummary:
    done: int = 0
    failed: int = 0

    def __bool__(self) -> bool:
        return bool(self.done or self.failed)


def run_due_jobs(
    now: dt.datetime | None = None,
    *,
    worker: str | None = None,
    limit: int = 1000,
    kinds: list[str] | None = None,
    lane: str | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> RunSummary:
    """Perform the due jobs (of `kinds` and `lane`, or any) one at a time until none is left.

    Each job is claimed just before it runs, so a worker that dies holds one job, not a batch.
    Stops after `limit` jobs, or between two jobs when `stop()` says so. Without `now`, each job
    is claimed and run at the clock's time of its own start.
    """
    worker = worker or worker_name()
    summary = RunSummary()
    while summary.done + summary.failed < limit and not stop():
        moment = now or clock.now()
        claimed = claim(moment, worker=worker, kinds=kinds, lane=lane)
        if not claimed:
            break
        with holding(JOBS, [claimed[0].pk], worker):
            succeeded = run_job(claimed[0], moment, worker=worker)
        if succeeded:
            summary.done += 1
        else:
            summary.failed += 1
    return summary
