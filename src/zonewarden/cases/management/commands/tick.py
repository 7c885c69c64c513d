"""`zonewarden tick [--at TIME]`: move every due case on, once."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from zonewarden.cases.tick import tick
from zonewarden.cases.timeparse import parse_moment


class Command(BaseCommand):
    help = "Move every due case on: reminders due, escalation due, late registry and registrar deadlines."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--at", help="run as of this ISO 8601 time (replays the process; default: now)")

    def handle(self, *args: Any, **options: Any) -> None:
        at = parse_moment(options["at"]) if options["at"] else None
        self.stdout.write(str(tick(at)))
