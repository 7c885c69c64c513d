"""Publish suspensions and restorations to the DNS: never lost, never applied twice.

A decision of the registry writes a pending Publication in its own transaction. Publications are
a `zonewarden.queues.Queue`: `publish_due` claims one UPDATE message's worth of due rows (`BATCH`
names) with conditional UPDATEs (two workers never take the same one; a dead worker's lease runs
out and its rows are taken again), applies them with every configured publisher, reads the result
back from the authoritative server and marks them applied, then claims the next batch. A DNS server that is down
leaves them pending, retried with backoff; a refusal that retrying cannot cure (a wrong TSIG key,
NOTAUTH, REFUSED) fails them and says so on the case. Applying a change again after a crash is
harmless: a suspension deletes an NS set that may be gone already, a restoration replaces it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction

from zonewarden import clock
from zonewarden.cases import workflow
from zonewarden.cases.models import Case
from zonewarden.domains.models import Domain
from zonewarden.publish.models import Publication
from zonewarden.publish.publishers import BATCH, PUBLISHERS, PublishError, readback_all
from zonewarden.queues import Queue, holding

ACTOR = "system:dns"


def request_publication(
    domain: Domain, action: str, *, case: Case | None = None, at: dt.datetime
) -> Publication:
    """Queue a change of `domain`'s delegation (in the caller's transaction), once per case and action."""
    key = f"{action}:{domain.name}:{case.pk if case else '-'}"
    existing = Publication.objects.filter(dedupe_key=key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Publication.objects.create(
                domain=domain, case=case, action=action, dedupe_key=key, next_attempt_at=at, created_at=at
            )
    except IntegrityError:
        return Publication.objects.get(dedupe_key=key)


@dataclass
class PublishSummary:
    applied: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def handled(self) -> int:
        return self.applied + self.retrying + self.failed

    def __bool__(self) -> bool:
        return bool(self.applied or self.retrying or self.failed)

    def __str__(self) -> str:
        return f"applied {self.applied}, retrying {self.retrying}, failed {self.failed}"


PUBLICATIONS = Queue(
    "publications",
    Publication,
    due_field="next_attempt_at",
    lease_setting="ZONEWARDEN_JOB_LEASE_SECONDS",
    order=("pk",),  # in the order decided: a restoration after its suspension
)


def claim(now: dt.datetime, *, worker: str, limit: int = BATCH) -> list[Publication]:
    """Claim up to `limit` due publications (one UPDATE message's worth by default) for `worker`."""
    won = PUBLICATIONS.claim(now, worker=worker, limit=limit)
    return list(Publication.objects.filter(pk__in=won).select_related("domain").order_by("pk"))


def _expected(publication: Publication) -> list[str]:
    if publication.action == Publication.Action.SUSPEND:
        return []
    return sorted(str(ns["name"]).rstrip(".").lower() for ns in publication.domain.nameservers or [])


def publish_due(
    now: dt.datetime | None = None,
    *,
    worker: str = "worker",
    limit: int | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> PublishSummary:
    """Apply the due publications, one UPDATE's worth (`BATCH` names) at a time, until none is left.

    Each batch is claimed just before it is sent, applied with every configured publisher, read
    back and recorded before the next is claimed: a worker that dies holds one batch, not the
    queue. Stops after `limit` publications, or between two batches when `stop()` says so.
    Without `now`, each batch is claimed at the clock's time of its own start.
    """
    summary = PublishSummary()
    while (limit is None or summary.handled < limit) and not stop():
        moment = now or clock.now()
        size = BATCH if limit is None else min(BATCH, limit - summary.handled)
        batch = claim(moment, worker=worker, limit=size)
        if not batch:
            break
        with holding(PUBLICATIONS, [p.pk for p in batch], worker):
            _publish_batch(batch, moment, worker, summary)
    return summary


def _publish_batch(
    batch: list[Publication], moment: dt.datetime, worker: str, summary: PublishSummary
) -> None:
    changes = [(p.domain, p.action) for p in batch]
    results: dict[str, dict[str, str]] = {}
    error: PublishError | None = None
    for name in settings.ZONEWARDEN_PUBLISHERS:
        publisher = PUBLISHERS.get(name)
        if publisher is None:
            error = PublishError(
                f"unknown publisher {name!r} in ZONEWARDEN_PUBLISHERS (known: {', '.join(PUBLISHERS)})",
                permanent=True,
            )
            break
        try:
            publisher(changes)
        except PublishError as exc:
            error = exc
            results[name] = {"state": "failed", "detail": str(exc)}
            break
        results[name] = {"state": "done", "at": moment.isoformat()}
    seen: list[dict[str, object] | PublishError] = [{"checked": False}] * len(batch)
    if error is None and "rfc2136" in settings.ZONEWARDEN_PUBLISHERS:
        seen = readback_all([publication.domain for publication in batch])
    for publication, answer in zip(batch, seen, strict=True):
        if error is None:
            error_one = _read_back(publication, answer, moment, results, worker)
            if error_one is None:
                summary.applied += 1
                continue
            outcome = _failed(publication, error_one, moment, results, worker)
        else:
            outcome = _failed(publication, error, moment, results, worker)
        setattr(summary, outcome, getattr(summary, outcome) + 1)


def _read_back(
    publication: Publication,
    seen: dict[str, object] | PublishError,
    now: dt.datetime,
    results: dict[str, dict[str, str]],
    worker: str,
) -> PublishError | None:
    """Check what the server answered for the publication's name; record it applied if it is right."""
    if isinstance(seen, PublishError):
        return seen
    if "nameservers" in seen:  # read back (with rfc2136); {"checked": False} otherwise
        expected = _expected(publication)
        if seen["nameservers"] != expected:
            return PublishError(f"read back {seen['nameservers']} where {expected} was expected")
    with transaction.atomic():
        if not PUBLICATIONS.settle(
            publication.pk,
            worker,
            state=Publication.State.APPLIED,
            applied_at=now,
            lease_until=None,
            results=results,
            readback=seen,
            last_error="",
        ):
            return None  # another worker finished it after our lease ran out
        if publication.case_id is not None:
            case = Case.objects.get(pk=publication.case_id)
            action = "dns.suspended" if publication.action == Publication.Action.SUSPEND else "dns.restored"
            workflow.record_event(
                case,
                action=action,
                actor=ACTOR,
                at=now,
                state_before=case.state,
                detail={"readback": seen, "publishers": results},
            )
            if publication.action == Publication.Action.RESTORE:
                from zonewarden.registry.service import finish_restoration

                finish_restoration(case, at=now, actor=ACTOR)
    return None


def _failed(
    publication: Publication,
    error: PublishError,
    now: dt.datetime,
    results: dict[str, dict[str, str]],
    worker: str,
) -> str:
    permanent = error.permanent or publication.attempts >= settings.ZONEWARDEN_PUBLISH_MAX_ATTEMPTS
    with transaction.atomic():
        outcome, changed = PUBLICATIONS.retry_or_fail(
            publication.pk,
            worker,
            now=now,
            attempts=publication.attempts,
            permanent=permanent,
            failed=Publication.State.FAILED,
            error=str(error),
            results=results,
        )
        if changed and permanent and publication.case_id is not None:
            case = Case.objects.get(pk=publication.case_id)
            workflow.record_event(
                case,
                action="dns.publish_failed",
                actor=ACTOR,
                at=now,
                state_before=case.state,
                detail={"error": str(error)[:500]},
            )
    return outcome
