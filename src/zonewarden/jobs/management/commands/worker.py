"""`zonewarden worker`: run the clock every minute and perform queued work."""

from __future__ import annotations

import signal
import time
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.db import close_old_connections

from zonewarden import clock
from zonewarden.cases.tick import tick
from zonewarden.jobs import heartbeat
from zonewarden.jobs.queue import run_due_jobs, worker_name
from zonewarden.notices.inbound import poll_maildir
from zonewarden.notices.outbox import send_due
from zonewarden.publish.service import publish_due


class Command(clock.ReplayableCommand):
    help = (
        "Run the tick every minute, perform queued jobs and send the outbox; several workers may share "
        "one PostgreSQL."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--once", action="store_true", help="tick and drain the due jobs once, then exit")
        parser.add_argument("--poll", type=float, default=2.0, help="seconds between looks for new jobs")

    def handle(self, *args: Any, **options: Any) -> None:
        if options.get("at") and not options["once"]:
            raise CommandError("--at replays one round: use it with --once")
        self.stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            self.stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        name = worker_name()
        heartbeat.start(name, clock.now())
        self.stdout.write(f"worker {name} started (tick every {settings.ZONEWARDEN_TICK_SECONDS} s)")
        last_tick = 0.0
        while not self.stopping:
            close_old_connections()
            # `zonewarden doctor` (and the health check) read "alive" from this: one UPDATE a round.
            heartbeat.beat(name, clock.now())
            if time.monotonic() - last_tick >= settings.ZONEWARDEN_TICK_SECONDS:
                summary = tick(clock.now())
                if summary.actions:
                    self.stdout.write(str(summary))
                last_tick = time.monotonic()
            ran = run_due_jobs(clock.now(), worker=name)
            if ran.done or ran.failed:
                self.stdout.write(f"jobs: {ran.done} done, {ran.failed} failed")
            mail = send_due(clock.now(), worker=name)
            if mail:
                self.stdout.write(f"notices: {mail}")
            published = publish_due(clock.now(), worker=name)
            if published:
                self.stdout.write(f"dns: {published}")
            returned = poll_maildir()
            if returned.stored:
                self.stdout.write(f"mail read: {returned.stored} ({returned.kinds})")
            if options["once"]:
                break
            time.sleep(options["poll"])
        heartbeat.stop(name, clock.now())
        self.stdout.write(f"worker {name} stopped")
