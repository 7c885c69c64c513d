"""`zonewarden check`: re-check incidents now, or check any URL and see the verdict and evidence."""

from __future__ import annotations

import json
import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandError

from zonewarden import clock
from zonewarden.cases.models import Case
from zonewarden.checks.models import Check, Purpose, Verdict
from zonewarden.checks.service import check_incidents, check_url
from zonewarden.intake.models import Category, Incident
from zonewarden.jobs.queue import run_due_jobs, worker_name

REFUSED_EXIT = 3


def as_json(check: Check) -> dict[str, Any]:
    return {
        "url": check.url,
        "incident": check.incident_id,
        "verdict": check.verdict,
        "reason": check.reason,
        "final_url": check.final_url,
        "redirects": check.redirects,
        "status": check.status,
        "content_type": check.content_type,
        "body_size": check.body_size,
        "body_sha256": check.body_sha256,
        "title": check.title,
        "credential_form": check.credential_form,
        "addresses": check.addresses,
        "headers": check.headers,
        "at": check.at.isoformat(),
        "check_id": check.pk,
    }


class Command(clock.ReplayableCommand):
    help = (
        "Check incidents now (by id, a case's, or the queued checks that are due), or check an arbitrary URL "
        "with --url. A URL refused for its address exits with status 3."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("incidents", nargs="*", type=int, metavar="INCIDENT-ID")
        parser.add_argument("--case", type=int, help="every incident of this case")
        parser.add_argument("--due", action="store_true", help="run the queued checks that are due now")
        parser.add_argument("--url", help="check this URL (not stored as an incident's check)")
        parser.add_argument(
            "--category", default="phishing", help="with --url: whose rules judge it (default phishing)"
        )
        parser.add_argument("--json", action="store_true", help="print the result as JSON")
        parser.add_argument(
            "--deploy",
            action="store_true",
            help="Django's deployment checks instead (as `manage.py check --deploy`)",
        )
        parser.add_argument(
            "--fail-level", default="ERROR", help="with --deploy or no arguments: Django's check level"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        chosen = [
            bool(options["incidents"]),
            options["case"] is not None,
            options["due"],
            bool(options["url"]),
        ]
        if options["deploy"] or not any(chosen):
            # This command took Django's name: without incidents it is Django's system check.
            call_command(
                "zonewarden_system_check", deploy=options["deploy"], fail_level=options["fail_level"]
            )
            return
        if sum(chosen) != 1:
            raise CommandError("name incident ids, or one of --case ID, --due, --url URL")
        if options["due"]:
            ran = run_due_jobs(clock.now(), worker=worker_name(), kinds=["check.case"])
            self.stdout.write(f"checks: {ran.done} case(s) checked, {ran.failed} failed")
            return
        if options["url"]:
            if not Category.objects.filter(pk=options["category"]).exists():
                known = ", ".join(Category.objects.values_list("code", flat=True))
                raise CommandError(f"--category: no category {options['category']!r} (known: {known})")
            checks = [check_url(options["url"], category=options["category"])]
        else:
            incidents = self._incidents(options)
            checks = check_incidents(incidents, purpose=Purpose.MANUAL)
        if options["json"]:
            payload: Any = as_json(checks[0]) if options["url"] else [as_json(check) for check in checks]
            self.stdout.write(json.dumps(payload, ensure_ascii=False))
        else:
            for check in checks:
                self._show(check)
        if any(check.verdict == Verdict.REFUSED for check in checks):
            self.stderr.write(
                self.style.ERROR(next(c.reason for c in checks if c.verdict == Verdict.REFUSED))
            )
            sys.exit(REFUSED_EXIT)

    def _incidents(self, options: dict[str, Any]) -> list[Incident]:
        if options["case"] is not None:
            case = Case.objects.filter(pk=options["case"]).first()
            if case is None:
                raise CommandError(f"there is no case {options['case']}")
            found = list(case.incidents.order_by("pk"))
            if not found:
                raise CommandError(f"case {case.pk} has no incidents")
            return found
        found = list(Incident.objects.filter(pk__in=options["incidents"]).order_by("pk"))
        missing = sorted(set(options["incidents"]) - {incident.pk for incident in found})
        if missing:
            raise CommandError(f"there is no incident {', '.join(map(str, missing))}")
        return found

    def _show(self, check: Check) -> None:
        self.stdout.write(f"{check.url}\n  verdict: {check.get_verdict_display()} — {check.reason}")
        if check.status is not None:
            self.stdout.write(
                f"  {check.status} {check.content_type or '?'}, {check.body_size} bytes, sha256 {check.body_sha256[:16]}…"
                + (f", title {check.title[:80]!r}" if check.title else "")
            )
        for hop in check.redirects:
            self.stdout.write(f"  redirect {hop['status']} from {hop['url'][:200]}")
        if check.final_url and check.final_url != check.url:
            self.stdout.write(f"  ended at {check.final_url[:200]}")
        if check.addresses:
            self.stdout.write(f"  addresses: {', '.join(check.addresses)}")
