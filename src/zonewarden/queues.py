"""Queues and lanes: how every piece of queued work is claimed, leased, retried, and who does it.

Three tables are queues: jobs (`jobs.Job`), the outbox (`notices.Notice`) and DNS publications
(`publish.Publication`). Each is a `Queue` here, and all three are claimed the same way:

- a worker claims due rows with a conditional UPDATE (the rows' state, due time and lease as read),
  so of two workers racing for a row exactly one wins it; the row gets the worker's name, a lease
  (now + the queue's lease setting) and one more attempt;
- a worker claims only what it is about to work on: one job, one notice, one UPDATE's worth of
  publications; if it dies, everything else is still waiting for the next worker;
- the outcome is written only if the row is still the worker's (`settle`): a worker that was too
  slow, whose lease ran out and whose row another worker took over, writes nothing;
- a failure that may pass waits 1, 2, 4 … minutes (at most 6 h) before the next attempt; one that
  cannot pass, or too many attempts, fails the row for good (`retry_or_fail`);
- a lease that ran out means the worker died: jobs and publications are taken over by the next
  worker (doing them again is harmless), while a notice that was `sending` becomes `unconfirmed`
  (the SMTP server may have accepted it; see notices.outbox).

Lanes divide the work so that slow work of one kind never waits in front of another: `LANES` are
worked independently (one thread each in `zonewarden worker`, or in separate processes with
`worker --lane …`). `backlog` says, per lane, how much is waiting and since when.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, models
from django.db.models import F, Min, Q

log = logging.getLogger("zonewarden.queues")

# The lanes, in the order `worker --once` runs them: the clock queues checks and notices, the
# checks' verdicts queue reminders, the mail lane sends them, the DNS lane publishes decisions.
LANES: tuple[str, ...] = ("clock", "checks", "mail", "dns", "maildir")
LANE_HELP = {
    "clock": "the tick (due cases move on) and every job of no other lane",
    "checks": "check.* jobs: the HTTP re-checks of incidents",
    "mail": "notice.* and mail.* jobs, and sending the outbox",
    "dns": "dns.* and publish.* jobs, and publishing suspensions and restorations",
    "maildir": "reading bounces, replies and archive copies from ZONEWARDEN_MAILDIR",
}
# A job's kind says its lane by its first word; a kind of no lane here belongs to the clock's.
KIND_LANES = {"check": "checks", "notice": "mail", "mail": "mail", "dns": "dns", "publish": "dns"}


def lane_of_kind(kind: str) -> str:
    """Return the lane that performs jobs of `kind`."""
    return KIND_LANES.get(kind.partition(".")[0], "clock")


def kinds_of_lane(lane: str) -> Q:
    """The condition on `Job.kind` that selects the jobs of `lane`."""
    if lane not in LANES:
        raise ValueError(f"unknown lane {lane!r} (lanes: {', '.join(LANES)})")
    condition = Q()
    if lane == "clock":  # whatever no other lane takes
        for word in KIND_LANES:
            condition &= ~Q(kind__startswith=f"{word}.")
        return condition
    words = [word for word, owner in KIND_LANES.items() if owner == lane]
    if not words:
        return Q(pk__in=[])  # a lane without jobs of its own
    for word in words:
        condition |= Q(kind__startswith=f"{word}.")
    return condition


def is_database_outage(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached or used now (restarting, gone, locked).

    Django wraps the drivers' errors in its own classes; the drivers' are matched too, for the
    moments Django does not wrap (a connection that breaks while it is being closed).
    """
    outages: tuple[type[BaseException], ...] = (
        OperationalError,
        InterfaceError,
        sqlite3.OperationalError,
        sqlite3.InterfaceError,
    )
    try:
        import psycopg

        outages += (psycopg.OperationalError, psycopg.InterfaceError)
    except ImportError:  # pragma: no cover - psycopg is a dependency, but SQLite needs none
        pass
    return isinstance(exc, outages)


def backoff(attempts: int) -> dt.timedelta:
    """Return how long to wait before retry number `attempts` (1 min, 2, 4 … capped at 6 h)."""
    return dt.timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


@dataclass(frozen=True)
class Queue:
    """A table of work rows with `state`, `claimed_by`, `lease_until` and `attempts` columns.

    `due_field` holds the moment a row is due; `waiting` is the state of a row waiting for its
    turn, `working` the state of a claimed one (None: a claimed row keeps its waiting state and is
    told apart by its lease). `lapsed_in_doubt`: a row whose lease ran out while it was being
    worked on is not taken over (the outbox's `sending`: the SMTP server may have its message).
    """

    name: str
    model: type[models.Model]
    due_field: str
    lease_setting: str
    working: str | None = None
    waiting: str = "pending"
    lapsed_in_doubt: bool = False
    order: tuple[str, ...] = ("pk",)

    def lease(self) -> dt.timedelta:
        return dt.timedelta(seconds=int(getattr(settings, self.lease_setting)))

    def due(self, now: dt.datetime) -> Q:
        """Rows waiting for a worker at `now` (not claimed, or claimed under a lease that ran out)."""
        condition = Q(state=self.waiting, **{f"{self.due_field}__lte": now})
        if self.working is None:
            condition &= Q(lease_until__isnull=True) | Q(lease_until__lt=now)
        return condition

    def held(self, now: dt.datetime) -> Q:
        """Rows a worker is working on under a lease that still runs."""
        if self.working is None:
            return Q(state=self.waiting, lease_until__gte=now)
        return Q(state=self.working, lease_until__gte=now)

    def lapsed(self, now: dt.datetime) -> Q:
        """Rows claimed by a worker whose lease ran out while they were being worked on."""
        if self.working is None:
            return Q(pk__in=[])  # they are due again, see `due`
        return Q(state=self.working, lease_until__lt=now)

    def claimable(self, now: dt.datetime) -> Q:
        return self.due(now) if self.lapsed_in_doubt else self.due(now) | self.lapsed(now)

    def claim(
        self,
        now: dt.datetime,
        *,
        worker: str,
        limit: int = 1,
        where: Q | None = None,
        **also: Any,
    ) -> list[int]:
        """Claim up to `limit` rows (matching `where`) for `worker`, oldest first; return their keys.

        Each row is won by one worker: the UPDATE repeats the claimable condition, so a row another
        worker took after we read it is skipped, and more candidates are read in its place.
        """
        rows = self.model._default_manager.filter(self.claimable(now))
        if where is not None:
            rows = rows.filter(where)
        until = now + self.lease()
        changes: dict[str, Any] = {
            "claimed_by": worker,
            "lease_until": until,
            "attempts": F("attempts") + 1,
            **also,
        }
        if self.working is not None:
            changes["state"] = self.working
        won: list[int] = []
        tried: set[int] = set()
        while len(won) < limit:
            wanted = limit - len(won)
            candidates = list(
                rows.exclude(pk__in=tried).order_by(*self.order).values_list("pk", flat=True)[:wanted]
            )
            if not candidates:
                break
            tried.update(candidates)
            changed = self.model._default_manager.filter(self.claimable(now), pk__in=candidates).update(
                **changes
            )
            if changed == len(candidates):
                won += candidates
            elif changed:  # another worker was quicker for some: which are ours?
                ours = set(
                    self.model._default_manager.filter(
                        pk__in=candidates, claimed_by=worker, lease_until=until
                    ).values_list("pk", flat=True)
                )
                won += [pk for pk in candidates if pk in ours]
        return won

    def mine(self, pk: int, worker: str) -> models.QuerySet[Any]:
        """The row `pk`, if it is still claimed by `worker` (its lease not taken over)."""
        return self.model._default_manager.filter(
            pk=pk, claimed_by=worker, state=self.working or self.waiting
        )

    def settle(self, pk: int, worker: str, **changes: Any) -> bool:
        """Write the outcome of `worker`'s work on row `pk`, if the row is still its; return whether."""
        return bool(self.mine(pk, worker).update(**changes))

    def retry_or_fail(
        self,
        pk: int,
        worker: str,
        *,
        now: dt.datetime,
        attempts: int,
        permanent: bool,
        failed: str,
        error: str,
        **also: Any,
    ) -> tuple[str, bool]:
        """Put row `pk` back to wait `backoff(attempts)`, or fail it for good when `permanent`.

        Returns ("retrying" or "failed", whether the row was still `worker`'s to change).
        """
        changed = self.settle(
            pk,
            worker,
            state=failed if permanent else self.waiting,
            lease_until=None,
            last_error=error[:2000],
            **{self.due_field: now + backoff(attempts)},
            **also,
        )
        return ("failed" if permanent else "retrying"), changed

    def release(self, pks: Iterable[int], worker: str) -> int:
        """Put rows `worker` claimed but did not work on back to wait, as if never claimed."""
        return int(
            self.model._default_manager.filter(
                pk__in=list(pks), claimed_by=worker, state=self.working or self.waiting
            ).update(state=self.waiting, lease_until=None, attempts=F("attempts") - 1)
        )

    def backlog(self, now: dt.datetime, *, lane: str, where: Q | None = None) -> list[Backlog]:
        """How many rows (matching `where`) are due, held, waiting for later or in doubt, and since when."""
        rows = self.model._default_manager.all()
        if where is not None:
            rows = rows.filter(where)
        groups = {
            "due": self.claimable(now),
            "held": self.held(now),
            "later": Q(state=self.waiting, **{f"{self.due_field}__gt": now}),
        }
        if self.lapsed_in_doubt:
            groups["in_doubt"] = self.lapsed(now)
        found = []
        for state, condition in groups.items():
            summary = rows.filter(condition).aggregate(count=models.Count("pk"), oldest=Min(self.due_field))
            found.append(Backlog(lane, self.name, state, summary["count"], summary["oldest"]))
        return found


@dataclass
class _Held:
    queue: Queue
    pks: list[int]
    worker: str
    releasable: bool = True
    later: Callable[[], object] | None = None


_hand = threading.local()


@contextmanager
def holding(queue: Queue, pks: Iterable[int], worker: str) -> Iterator[None]:
    """Within the block, this thread works on rows `pks` it claimed from `queue`.

    If the block fails while the work is still ours to put back (before `handed_over`, or after
    `taken_back`), the rows are put back to wait at once. If the database is unreachable for that
    (it went away: the reason the block failed), they are put back by `release_held` when it
    answers again, instead of waiting for their lease to run out: a notice would become
    `unconfirmed` although no SMTP server ever saw it. What `settle_later` names is done instead
    of putting back: the outcome we know but could not record (the SMTP server took the message).
    """
    held = _Held(queue, list(pks), worker)
    _hand.held = held
    try:
        yield
    except BaseException as exc:
        if is_database_outage(exc) and (held.releasable or held.later is not None):
            raise  # kept in `_hand.held` for release_held, once the database answers again
        _hand.held = None
        if held.releasable:
            try:
                queue.release(held.pks, worker)
            except Exception:
                log.exception("could not put back %s %s; their lease will", queue.name, held.pks)
        raise
    _hand.held = None


def handed_over() -> None:
    """The work in hand is leaving this process (a message goes to the SMTP server): keep its claim."""
    held: _Held | None = getattr(_hand, "held", None)
    if held is not None:
        held.releasable = False


def taken_back() -> None:
    """The work in hand came back undone (the SMTP server did not take the message): it may be put back."""
    held: _Held | None = getattr(_hand, "held", None)
    if held is not None:
        held.releasable = True


def settle_later(record: Callable[[], object]) -> None:
    """If the database goes away before the outcome of the work in hand is written, `record` it once it is back."""
    held: _Held | None = getattr(_hand, "held", None)
    if held is not None:
        held.later = record


def release_held() -> int:
    """Deal with what this thread held when the database went away (see `holding`); return how many rows.

    Call once the database answers again (the worker's lanes do at the start of every round).
    """
    held: _Held | None = getattr(_hand, "held", None)
    if held is None:
        return 0
    if held.later is not None:
        held.later()
        count = len(held.pks)
    elif held.releasable:
        count = held.queue.release(held.pks, held.worker)
    else:
        count = 0
    _hand.held = None
    return count


@dataclass(frozen=True)
class Backlog:
    """How much work of one queue in one lane is in one state, and the oldest due time among it.

    States: `due` (waiting for a worker now — the queue's depth), `held` (a worker is on it under
    a running lease), `later` (waiting for a later attempt or its scheduled time), `in_doubt`
    (the outbox only: sending when the worker's lease ran out, becoming `unconfirmed`).
    """

    lane: str
    queue: str
    state: str
    count: int
    oldest: dt.datetime | None

    def age(self, now: dt.datetime) -> dt.timedelta | None:
        """How long the oldest item has been due (None when there is none, or it is not due yet)."""
        if self.oldest is None or self.oldest > now:
            return None
        return now - self.oldest


def _maildir_backlog(now: dt.datetime) -> Backlog:
    """Messages waiting in the Maildir's new/ folder, and the time the oldest arrived."""
    folder = settings.ZONEWARDEN_MAILDIR
    count, oldest = 0, None
    if folder:
        try:
            entries: Iterable[os.DirEntry[str]] = list(os.scandir(Path(folder) / "new"))
        except OSError:
            entries = []
        for entry in entries:
            try:
                if not entry.is_file():
                    continue
                arrived = entry.stat().st_mtime
            except OSError:
                continue  # taken by a poller meanwhile
            count += 1
            oldest = arrived if oldest is None else min(oldest, arrived)
    moment = dt.datetime.fromtimestamp(oldest, tz=dt.UTC) if oldest is not None else None
    return Backlog("maildir", "maildir", "due", count, moment)


def backlog(now: dt.datetime, *, lanes: Iterable[str] = LANES) -> list[Backlog]:
    """Return, for every lane's queues, how much work is due, held, later or in doubt, oldest first.

    One `Backlog` per (lane, queue, state): the clock's due cases ("cases") and jobs, the checks'
    jobs, the mail lane's jobs and outbox, the DNS lane's jobs and publications, the Maildir's new
    messages. `count` of state "due" is the lane's queue depth; `age(now)` of it how long the
    oldest due item has waited. A handful of COUNT queries on indexed columns.
    """
    from zonewarden.cases.models import Case
    from zonewarden.jobs.queue import JOBS
    from zonewarden.notices.outbox import OUTBOX
    from zonewarden.publish.service import PUBLICATIONS

    wanted = list(lanes)
    found: list[Backlog] = []
    sources: dict[str, list[Callable[[], list[Backlog]]]] = {
        "clock": [
            lambda: [
                Backlog(
                    "clock",
                    "cases",
                    "due",
                    **Case.objects.filter(next_due_at__lte=now).aggregate(
                        count=models.Count("pk"), oldest=Min("next_due_at")
                    ),
                )
            ]
        ],
        "maildir": [lambda: [_maildir_backlog(now)]],
        "mail": [lambda: OUTBOX.backlog(now, lane="mail")],
        "dns": [lambda: PUBLICATIONS.backlog(now, lane="dns")],
    }
    for lane in wanted:
        for source in sources.get(lane, []):
            found += source()
        if lane != "maildir":
            found += JOBS.backlog(now, lane=lane, where=kinds_of_lane(lane))
    return found
