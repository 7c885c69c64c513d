"""`zonewarden audit verify`: check the hash chain of the case events."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from zonewarden.cases.audit import verify_chain


class Command(BaseCommand):
    help = "Check the audit trail: every case event must carry the hash of the one before it."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="recompute the chain and name the first broken event")

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain()
        if not report.ok:
            raise CommandError(f"audit chain broken after {report.checked} good events: {report.problem}")
        self.stdout.write(f"audit chain intact: {report.checked} events")
