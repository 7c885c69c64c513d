"""`zonewarden doctor`: check that this deployment can do its work, one line per check."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from zonewarden import doctor


class Command(BaseCommand):
    help = (
        "Check the settings, the database, mail, DNS publishing, the checker's resolver, the worker and "
        "the calendar; exit 1 if a check failed (warnings alone exit 0)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--json", action="store_true", help="print one JSON object instead of lines")

    def handle(self, *args: Any, **options: Any) -> None:
        results = doctor.run()
        failed = [result.name for result in results if result.status == doctor.FAIL]
        if options["json"]:
            document = {
                "checks": [
                    {"name": result.name, "status": result.status, "message": result.message}
                    for result in results
                ],
                "ok": not failed,
            }
            self.stdout.write(json.dumps(document, ensure_ascii=False, indent=2))
        else:
            styles = {
                doctor.OK: self.style.SUCCESS,
                doctor.WARN: self.style.WARNING,
                doctor.FAIL: self.style.ERROR,
            }
            width = max(len(result.name) for result in results)
            for result in results:
                status = styles[result.status](f"{result.status:<4}")
                self.stdout.write(f"{status}  {result.name:<{width}}  {result.message}")
        if failed:
            raise CommandError(
                f"{len(failed)} of {len(results)} checks failed: {', '.join(failed)}", returncode=1
            )
