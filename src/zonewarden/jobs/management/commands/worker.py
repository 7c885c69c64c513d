"""`zonewarden worker`: run the clock and perform queued work, each lane on its own, through outages."""

from __future__ import annotations

import contextvars
import logging
import signal
import threading
import time
from argparse import ArgumentParser
from collections.abc import Callable
from types import FrameType
from typing import Any, TypeVar

from django.conf import settings
from django.core.management.base import CommandError
from django.db import close_old_connections

from zonewarden import clock
from zonewarden.jobs import heartbeat
from zonewarden.jobs.lanes import MAX_PAUSE, LaneRunner, drop_connections, first_line, run_round
from zonewarden.jobs.queue import worker_name
from zonewarden.queues import LANE_HELP, LANES, is_database_outage

T = TypeVar("T")
log = logging.getLogger("zonewarden.worker")
BEAT_AT_MOST_EVERY = 0.5  # seconds: `--poll 0` makes the lanes look for work at once, not the beat spin


def _started(runner: LaneRunner) -> threading.Thread:
    """Start the lane's thread, in its own copy of our context (the clock's `--at` moment is a ContextVar)."""
    thread = threading.Thread(
        target=contextvars.copy_context().run, args=(runner.run,), name=f"lane-{runner.lane}", daemon=False
    )
    thread.start()
    return thread


class Command(clock.ReplayableCommand):
    help = (
        "Run the tick every minute, perform queued jobs, send the outbox and publish to the DNS, each "
        "lane in a thread of its own; several workers may share one PostgreSQL."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--once",
            action="store_true",
            help="do every lane's due work once, one lane after the other, then exit",
        )
        parser.add_argument("--poll", type=float, default=2.0, help="seconds between looks for new work")
        parser.add_argument(
            "--lane",
            action="append",
            choices=LANES,
            dest="lanes",
            metavar="LANE",
            help="run only this lane (repeat for several; default: all). "
            + "; ".join(f"{lane}: {what}" for lane, what in LANE_HELP.items()),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options.get("at") and not options["once"]:
            raise CommandError("--at replays one round: use it with --once")
        if options["poll"] < 0:
            raise CommandError("--poll must be 0 or more seconds")
        lanes = [lane for lane in LANES if lane in (options["lanes"] or LANES)]
        self.stopping = threading.Event()

        def stop(signum: int, frame: FrameType | None) -> None:
            self.stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.output_lock = threading.Lock()
        name = worker_name()
        if options["once"]:
            self._once(name, lanes)
            return
        if self._until_database_answers(lambda: heartbeat.start(name, clock.now())) is None:
            return
        self.say(
            f"worker {name} started: lanes {', '.join(lanes)} (tick every {settings.ZONEWARDEN_TICK_SECONDS} s)"
        )
        runners = [
            LaneRunner(lane, worker=name, poll=options["poll"], stopping=self.stopping, say=self.say)
            for lane in lanes
        ]
        threads = [_started(runner) for runner in runners]
        failures = 0
        while not self.stopping.is_set():
            for index, runner in enumerate(runners):
                if not threads[index].is_alive() and not self.stopping.is_set():
                    # Only something no round catches ends a lane's thread: start it again.
                    self.say(f"lane {runner.lane} ended unexpectedly: starting it again")
                    threads[index] = _started(runner)
            # `zonewarden doctor` and the health check read "alive" from this: one UPDATE a round,
            # with each lane's progress, so a lane that hangs shows while the worker beats on.
            try:
                close_old_connections()
                heartbeat.beat(
                    name, clock.now(), lanes={runner.lane: runner.progress.as_json() for runner in runners}
                )
                failures = 0
            except Exception as exc:  # noqa: BLE001 - the lanes go on; so does the beat
                failures += 1
                if is_database_outage(exc):
                    self._outage("heartbeat", exc, failures)
                else:
                    log.exception("the heartbeat failed")
            time.sleep(max(options["poll"], BEAT_AT_MOST_EVERY))
        self.say(f"worker {name} stopping: finishing the work in hand")
        for thread in threads:
            thread.join()
        self._until_database_answers(lambda: heartbeat.stop(name, clock.now()), attempts=5)
        self.say(f"worker {name} stopped")

    def _once(self, name: str, lanes: list[str]) -> None:
        """One round of every lane, one after the other in this thread; errors end the command."""
        try:
            heartbeat.start(name, clock.now())
            self.say(f"worker {name} started: one round of {', '.join(lanes)}")
            for lane in lanes:
                for line in run_round(lane, worker=name, between_items=self.stopping.is_set):
                    self.say(line)
            heartbeat.stop(name, clock.now())
        except Exception as exc:
            if is_database_outage(exc):
                raise CommandError(f"the database is unreachable: {exc}") from exc
            raise
        self.say(f"worker {name} stopped")

    def _until_database_answers(self, call: Callable[[], T], *, attempts: int | None = None) -> T | None:
        """Call `call` until the database answers (pausing 1, 2, 4 … s); None if stopped first."""
        failures = 0
        while True:
            try:
                close_old_connections()
                return call()
            except Exception as exc:
                if not is_database_outage(exc):
                    raise
                failures += 1
                if attempts is not None and failures >= attempts:
                    self.say(f"giving up on the database: {exc}")
                    return None
                self._outage("start", exc, failures)
                if self.stopping.wait(min(2.0 ** (failures - 1), MAX_PAUSE)) and attempts is None:
                    return None

    def _outage(self, what: str, exc: BaseException, failures: int) -> None:
        self.say(f"{what}: the database is unreachable ({first_line(exc)}); attempt {failures}")
        drop_connections()

    def say(self, line: str) -> None:
        with self.output_lock:
            self.stdout.write(line)
            self.stdout.flush()
