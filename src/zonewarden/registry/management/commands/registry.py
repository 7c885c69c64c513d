"""`zonewarden registry import|queue|check|suspend|withdraw|reject|restore|report`."""

from __future__ import annotations

import json
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django.utils import timezone

from zonewarden import clock
from zonewarden.cases.models import Case
from zonewarden.domains.registry_import import ImportRefused, import_registry
from zonewarden.registry.models import RequestItem
from zonewarden.registry.service import (
    RequestError,
    decide,
    file_registrar_report,
    fresh_check,
    late_registrars,
    queue,
)

DECISIONS = {
    "suspend": RequestItem.Outcome.SUSPENDED,
    "withdraw": RequestItem.Outcome.WITHDRAWN,
    "reject": RequestItem.Outcome.REJECTED,
    "restore": RequestItem.Outcome.RESTORED,
}


class Command(clock.ReplayableCommand):
    help = "The registry's side: load its data, work the queue of requests, record registrars' reports."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("import", help="load the registry's data (CSV or JSON); - reads standard input")
        load.add_argument("file")
        load.add_argument("--format", choices=["csv", "json"])
        load.add_argument("--json", action="store_true", help="print one JSON object as the last line")
        listing = sub.add_parser("queue", help="the open items with their deadlines (late ones marked)")
        listing.add_argument("--all", action="store_true", help="decided items too")
        look = sub.add_parser("check", help="check an item's incidents now, before acting")
        look.add_argument("item", type=int)
        for name, outcome in DECISIONS.items():
            step = sub.add_parser(name, help=f"record the item as {outcome}")
            step.add_argument("item", type=int)
            step.add_argument("--reason", default="")
            step.add_argument("--as", dest="actor", default="cli:registry")
        report = sub.add_parser("report", help="a registrar's report on a suspended case")
        report.add_argument("case", type=int)
        report.add_argument("--text", required=True)
        report.add_argument("--as", dest="actor", default="cli:registrar")
        sub.add_parser("late-registrars", help="suspended names whose registrar has not reported in time")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            getattr(self, f"_{action.replace('-', '_')}", self._decide)(options)
        except RequestError as exc:
            raise CommandError(str(exc)) from exc

    def _import(self, options: dict[str, Any]) -> None:
        name = options["file"]
        try:
            data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
        except OSError as exc:
            raise CommandError(f"{name}: {exc.strerror or exc}") from exc
        try:
            report = import_registry(data, fmt=options["format"])
        except ImportRefused as exc:
            if options["json"]:
                self.stdout.write(json.dumps({"error": f"{name}: {exc}"}, ensure_ascii=False))
            raise CommandError(f"{name}: {exc}") from exc
        if options["json"]:
            self.stdout.write(json.dumps(report.as_json(), ensure_ascii=False))
            return
        self.stdout.write(
            f"{name}: read {report.read}, created {report.created}, updated {report.updated}, "
            f"unchanged {report.unchanged}, rejected {report.rejected}"
        )
        for row in report.rejected_rows[:20]:
            self.stdout.write(f"  line {row['line']}: {row['reason']}")

    def _queue(self, options: dict[str, Any]) -> None:
        now = clock.now()
        items = queue(now, open_only=not options["all"])
        if not items:
            self.stdout.write("the queue is empty")
        for item in items:
            left = item.deadline - now
            when = (
                "LATE"
                if left.total_seconds() < 0 and item.is_open
                else f"{left.total_seconds() / 3600:.0f} h left"
            )
            self.stdout.write(
                f"{item.pk:>6} {item.request.get_kind_display():<22} {item.domain_id:<40} "
                f"due {timezone.localtime(item.deadline):%Y-%m-%d %H:%M} ({when}) {item.outcome or 'open'}"
            )

    def _item(self, options: dict[str, Any]) -> RequestItem:
        item = RequestItem.objects.select_related("request", "case").filter(pk=options["item"]).first()
        if item is None:
            raise CommandError(f"there is no queue item {options['item']}")
        return item

    def _check(self, options: dict[str, Any]) -> None:
        for check in fresh_check(self._item(options)):
            self.stdout.write(f"{check.url}: {check.get_verdict_display()} — {check.reason}")

    def _decide(self, options: dict[str, Any]) -> None:
        item = decide(
            self._item(options),
            DECISIONS[options["action"]],
            actor=options["actor"],
            reason=options["reason"],
        )
        self.stdout.write(f"{item.domain_id}: {item.outcome}")

    def _report(self, options: dict[str, Any]) -> None:
        case = Case.objects.filter(pk=options["case"]).first()
        if case is None:
            raise CommandError(f"there is no case {options['case']}")
        report = file_registrar_report(case, text=options["text"], actor=options["actor"])
        self.stdout.write(f"report {report.pk} on {case.domain_id}{' (late)' if report.late else ''}")

    def _late_registrars(self, options: dict[str, Any]) -> None:
        late = late_registrars()
        if not late:
            self.stdout.write("no registrar is late")
        for case in late:
            registrar = case.domain.registrar
            self.stdout.write(
                f"{case.pk:>6} {case.domain_id:<40} {registrar.name if registrar else '-'} "
                f"due {timezone.localtime(case.registrar_deadline):%Y-%m-%d}"
                if case.registrar_deadline
                else f"{case.pk}"
            )
