"""`zonewarden dns export --zone ZONE | --rpz [--output FILE]` and `zonewarden dns publish`."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from zonewarden.domains.models import Domain
from zonewarden.jobs.queue import worker_name
from zonewarden.publish.publishers import held_names, rpz_text, zone_text
from zonewarden.publish.service import publish_due


class Command(BaseCommand):
    help = "Write a zone's file or the RPZ zone of the suspended names; or publish the pending changes now."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="the zone file of a zone, or the RPZ zone")
        which = export.add_mutually_exclusive_group(required=True)
        which.add_argument("--zone")
        which.add_argument("--rpz", action="store_true")
        export.add_argument("--output", type=Path, help="a file instead of standard output")
        sub.add_parser("publish", help="apply the pending suspensions and restorations now")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "publish":
            summary = publish_due(worker=worker_name())
            self.stdout.write(
                f"dns: applied {summary.applied}, retrying {summary.retrying}, failed {summary.failed}"
            )
            return
        if options["rpz"]:
            text = rpz_text(held_names())
        else:
            zone = options["zone"].strip(".").lower()
            if zone not in [z.strip(".").lower() for z in settings.ZONEWARDEN_ZONES]:
                raise CommandError(f"--zone: {zone!r} is not one of {', '.join(settings.ZONEWARDEN_ZONES)}")
            text = zone_text(zone, Domain.objects.order_by("name"))
        if options["output"]:
            options["output"].write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")
