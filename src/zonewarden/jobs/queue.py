"""Queue work in the caller's transaction; claim and run it so that two workers never do it twice.

A worker claims a job with a conditional UPDATE (state and lease as read), so of two workers
racing for one row exactly one sees a row count of 1. A worker that dies holding a job leaves it
`running` with a lease in the past; the next worker takes it over. Handlers therefore must be
idempotent: they may run again after a crash, and must notice that their effect already happened.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q

from zonewarden import clock
from zonewarden.jobs.models import Job

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


def _claimable(now: dt.datetime) -> Q:
    return Q(state=Job.State.PENDING, due_at__lte=now) | Q(state=Job.State.RUNNING, lease_until__lt=now)


def claim(now: dt.datetime, *, worker: str, limit: int = 20, kinds: list[str] | None = None) -> list[Job]:
    """Claim up to `limit` due jobs (of `kinds`, or any) for `worker`; each is claimed by one worker."""
    lease = dt.timedelta(seconds=settings.ZONEWARDEN_JOB_LEASE_SECONDS)
    due = Job.objects.filter(_claimable(now))
    if kinds is not None:
        due = due.filter(kind__in=kinds)
    candidates = list(due.order_by("due_at", "id").values_list("id", flat=True)[:limit])
    claimed = []
    for job_id in candidates:
        won = Job.objects.filter(_claimable(now), pk=job_id).update(
            state=Job.State.RUNNING, claimed_by=worker, lease_until=now + lease, attempts=F("attempts") + 1
        )
        if won:
            claimed.append(job_id)
    return list(Job.objects.filter(pk__in=claimed).order_by("due_at", "id"))


def backoff(attempts: int) -> dt.timedelta:
    """Return how long to wait before retry number `attempts` (1 min, 2, 4 … capped at 6 h)."""
    return dt.timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


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
        permanent = isinstance(exc, PermanentFailure) or job.attempts >= job.max_attempts
        error = f"{type(exc).__name__}: {exc}"
        log.warning("job %s %s failed (attempt %s): %s", job.pk, job.kind, job.attempts, error)
        if not isinstance(exc, PermanentFailure):
            log.debug("%s", traceback.format_exc())
        Job.objects.filter(pk=job.pk, state=Job.State.RUNNING, claimed_by=worker).update(
            state=Job.State.FAILED if permanent else Job.State.PENDING,
            due_at=now + backoff(job.attempts),
            last_error=error[:2000],
            lease_until=None,
            finished_at=now if permanent else None,
        )
        return False
    Job.objects.filter(pk=job.pk, state=Job.State.RUNNING, claimed_by=worker).update(
        state=Job.State.DONE, finished_at=now, lease_until=None, last_error=""
    )
    return True


@dataclass
class RunSummary:
    done: int = 0
    failed: int = 0


def run_due_jobs(
    now: dt.datetime | None = None,
    *,
    worker: str | None = None,
    limit: int = 1000,
    kinds: list[str] | None = None,
) -> RunSummary:
    """Claim and perform the jobs (of `kinds`, or any) due at `now` until none are left or `limit` is reached."""
    now = now or clock.now()
    worker = worker or worker_name()
    summary = RunSummary()
    while summary.done + summary.failed < limit:
        batch = claim(now, worker=worker, limit=min(20, limit - summary.done - summary.failed), kinds=kinds)
        if not batch:
            break
        for job in batch:
            if run_job(job, now, worker=worker):
                summary.done += 1
            else:
                summary.failed += 1
    return summary
