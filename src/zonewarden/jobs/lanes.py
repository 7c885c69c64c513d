"""The worker's lanes: what each does in one round, and a runner that keeps a lane going through outages.

A lane (`zonewarden.queues.LANES`) drains its own work every round, one item at a time:

  clock   — the tick (every ZONEWARDEN_TICK_SECONDS), then the due jobs of no other lane
  checks  — the due check.* jobs
  mail    — the due notice.* / mail.* jobs, then the outbox (`send_due`)
  dns     — the due dns.* / publish.* jobs, then the publications (`publish_due`)
  maildir — the new messages of ZONEWARDEN_MAILDIR (`poll_maildir`)

`LaneRunner` runs one lane in a thread of its own (so its own database connection): a round, a
pause of `poll` seconds, the next round. When the database goes away (a restart, a failover) the
round fails with OperationalError/InterfaceError; the runner drops the connection, waits 1, 2, 4 …
seconds (at most `MAX_PAUSE`), puts back what it held (`zonewarden.queues.release_held`) and goes
on. Any other error of a round is logged and the round tried again after the same pause: only a
signal stops a worker. Between two items the runner notes its progress, which the worker's beat
carries (`snapshot`).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import close_old_connections, connections

from zonewarden import clock
from zonewarden.queues import LANES, is_database_outage, release_held

log = logging.getLogger("zonewarden.worker")
MAX_PAUSE = 60.0  # seconds between two attempts of a lane whose rounds fail


@dataclass
class LaneProgress:
    """What a lane did last, for the heartbeat: times as the clock reads them."""

    round_at: dt.datetime | None = None
    item_at: dt.datetime | None = None
    busy_since: dt.datetime | None = None
    error: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def as_json(self) -> dict[str, str | None]:
        with self.lock:
            return {
                "round_at": self.round_at.isoformat() if self.round_at else None,
                "item_at": self.item_at.isoformat() if self.item_at else None,
                "busy_since": self.busy_since.isoformat() if self.busy_since else None,
                "error": self.error,
            }


def run_round(
    lane: str,
    *,
    worker: str,
    tick: bool = True,
    between_items: Callable[[], bool] = lambda: False,
) -> list[str]:
    """Do the lane's due work once, one item at a time; return lines saying what was done.

    `between_items()` is asked between two items and stops the round when it answers True.
    `tick`: whether the clock lane ticks this round (it does every ZONEWARDEN_TICK_SECONDS).
    """
    from zonewarden.cases.tick import tick as run_tick
    from zonewarden.jobs.queue import run_due_jobs
    from zonewarden.notices.inbound import poll_maildir
    from zonewarden.notices.outbox import send_due
    from zonewarden.publish.service import publish_due

    if lane not in LANES:
        raise ValueError(f"unknown lane {lane!r} (lanes: {', '.join(LANES)})")
    release_held()  # what this thread held when the database went away, if it did
    said: list[str] = []
    if lane == "clock" and tick:
        ticked = run_tick(clock.now(), worker=worker)
        if ticked.actions:
            said.append(str(ticked))
    if lane != "maildir":
        ran = run_due_jobs(worker=worker, lane=lane, stop=between_items)
        if ran:
            said.append(f"{lane} jobs: {ran.done} done, {ran.failed} failed")
    if lane == "mail" and not between_items():
        sent = send_due(worker=worker, stop=between_items)
        if sent:
            said.append(f"notices: {sent}")
    if lane == "dns" and not between_items():
        published = publish_due(worker=worker, stop=between_items)
        if published:
            said.append(f"dns: {published}")
    if lane == "maildir":
        returned = poll_maildir()
        if returned.stored:
            said.append(f"mail read: {returned.stored} ({returned.kinds})")
    return said


class LaneRunner:
    """One lane, round after round, until `stopping` is set; survives database outages."""

    def __init__(
        self,
        lane: str,
        *,
        worker: str,
        poll: float,
        stopping: threading.Event,
        say: Callable[[str], None],
    ) -> None:
        self.lane = lane
        self.worker = worker
        self.poll = poll
        self.stopping = stopping
        self.say = say
        self.progress = LaneProgress()
        self.failures = 0
        self.recovering = False  # the last round ended in a database outage
        self.last_tick: float | None = None

    def _between_items(self) -> bool:
        moment = clock.now()
        with self.progress.lock:
            self.progress.item_at = moment
        return self.stopping.is_set()

    def round(self) -> bool:
        """Run one round; on failure pause (1, 2, 4 … s) and return False."""
        tick = self.lane == "clock" and (
            self.last_tick is None or time.monotonic() - self.last_tick >= settings.ZONEWARDEN_TICK_SECONDS
        )
        try:
            close_old_connections()
            if self.recovering and self.lane == "mail":
                from zonewarden.notices.outbox import release_orphans

                if returned := release_orphans(self.worker):
                    self.say(f"lane mail: {returned} notice(s) claimed as the database went away put back")
            self.recovering = False
            with self.progress.lock:
                self.progress.busy_since = clock.now()
            said = run_round(self.lane, worker=self.worker, tick=tick, between_items=self._between_items)
        except Exception as exc:  # noqa: BLE001 - a worker outlives what goes wrong in a round
            self.failures += 1
            pause = min(2.0 ** (self.failures - 1), MAX_PAUSE)
            outage = is_database_outage(exc)
            self.recovering = self.recovering or outage
            what = "the database is unreachable" if outage else "the round failed"
            if not outage:  # a bug or a surprise: its traceback goes to the log
                log.exception("lane %s: %s", self.lane, what)
            with self.progress.lock:
                self.progress.error = f"{type(exc).__name__}: {exc}"[:500]
                self.progress.busy_since = None
            self.say(f"lane {self.lane}: {what} ({first_line(exc)}); trying again in {pause:.0f} s")
            drop_connections()
            self.stopping.wait(pause)
            return False
        if tick:
            self.last_tick = time.monotonic()
        self.failures = 0
        moment = clock.now()
        with self.progress.lock:
            self.progress.round_at, self.progress.busy_since, self.progress.error = moment, None, ""
        for line in said:
            self.say(line)
        return True

    def run(self) -> None:
        """The thread's body: rounds until `stopping`; the thread's connections are closed at the end."""
        try:
            while not self.stopping.is_set():
                if self.round():
                    self.stopping.wait(self.poll)
        finally:
            drop_connections()


def first_line(exc: BaseException) -> str:
    """The exception's message, first line only (a driver's message may go on over several)."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def drop_connections() -> None:
    """Close this thread's database connections, broken ones included (the next query reconnects)."""
    for connection in connections.all(initialized_only=True):
        try:
            connection.close()
        except Exception:  # noqa: BLE001, S110 - one to a database that is gone may not close cleanly
            pass  # Django forgets it all the same
