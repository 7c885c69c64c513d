"""Publish suspensions and restorations to the DNS: never lost, never applied twice.

A decision of the registry writes a pending Publication in its own transaction. `publish_due`
claims due rows with a conditional UPDATE (two workers never take the same one; a dead worker's
lease runs out and the row is taken again), applies them with every configured publisher, reads
the result back from the authoritative server and marks them applied. A DNS server that is down
leaves them pending, retried with backoff; a refusal that retrying cannot cure (a wrong TSIG key,
NOTAUTH, REFUSED) fails them and says so on the case. Applying a change again after a crash is
harmless: a suspension deletes an NS set that may be gone already, a restoration replaces it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q

from zonewarden import clock
from zonewarden.cases import workflow
from zonewarden.cases.models import Case
from zonewarden.domains.models import Domain
from zonewarden.jobs.queue import backoff
from zonewarden.publish.models import Publication
from zonewarden.publish.publishers import PUBLISHERS, PublishError, readback

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

    def __bool__(self) -> bool:
        return bool(self.applied or self.retrying or self.failed)

    def __str__(self) -> str:
        return f"applied {self.applied}, retrying {self.retrying}, failed {self.failed}"


def _claimable(now: dt.datetime) -> Q:
    return Q(state=Publication.State.PENDING, next_attempt_at__lte=now) & (
        Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    )


def claim(now: dt.datetime, *, worker: str, limit: int = 1000) -> list[Publication]:
    lease = now + dt.timedelta(seconds=settings.ZONEWARDEN_JOB_LEASE_SECONDS)
    ids = list(
        Publication.objects.filter(_claimable(now)).order_by("pk").values_list("pk", flat=True)[:limit]
    )
    won = []
    for pk in ids:
        if Publication.objects.filter(_claimable(now), pk=pk).update(
            claimed_by=worker, lease_until=lease, attempts=F("attempts") + 1
        ):
            won.append(pk)
    return list(Publication.objects.filter(pk__in=won).select_related("domain").order_by("pk"))


def _expected(publication: Publication) -> list[str]:
    if publication.action == Publication.Action.SUSPEND:
        return []
    return sorted(str(ns["name"]).rstrip(".").lower() for ns in publication.domain.nameservers or [])


def publish_due(now: dt.datetime | None = None, *, worker: str = "worker") -> PublishSummary:
    """Apply the due publications with every configured publisher, read them back, record the outcome."""
    moment = now or clock.now()
    summary = PublishSummary()
    batch = claim(moment, worker=worker)
    if not batch:
        return summary
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
    for publication in batch:
        if error is None:
            error_one = _read_back(publication, moment, results, worker)
            if error_one is None:
                summary.applied += 1
                continue
            outcome = _failed(publication, error_one, moment, results, worker)
        else:
            outcome = _failed(publication, error, moment, results, worker)
        setattr(summary, outcome, getattr(summary, outcome) + 1)
    return summary


def _read_back(
    publication: Publication, now: dt.datetime, results: dict[str, dict[str, str]], worker: str
) -> PublishError | None:
    seen: dict[str, object] = {"checked": False}
    if "rfc2136" in settings.ZONEWARDEN_PUBLISHERS:
        try:
            seen = readback(publication.domain)
        except PublishError as exc:
            return exc
        expected = _expected(publication)
        if seen["nameservers"] != expected:
            return PublishError(f"read back {seen['nameservers']} where {expected} was expected")
    with transaction.atomic():
        if not Publication.objects.filter(
            pk=publication.pk, claimed_by=worker, state=Publication.State.PENDING
        ).update(
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
        Publication.objects.filter(pk=publication.pk, claimed_by=worker).update(
            state=Publication.State.FAILED if permanent else Publication.State.PENDING,
            next_attempt_at=now + backoff(publication.attempts),
            lease_until=None,
            last_error=str(error)[:2000],
            results=results,
        )
        if permanent and publication.case_id is not None:
            case = Case.objects.get(pk=publication.case_id)
            workflow.record_event(
                case,
                action="dns.publish_failed",
                actor=ACTOR,
                at=now,
                state_before=case.state,
                detail={"error": str(error)[:500]},
            )
    return "failed" if permanent else "retrying"
