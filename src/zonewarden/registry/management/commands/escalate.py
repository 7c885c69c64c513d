"""`zonewarden escalate`: list the cases due for escalation, or put them into a request to the registry."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django.utils import timezone

from zonewarden import clock
from zonewarden.cases.models import Case
from zonewarden.registry.models import RegistryRequest
from zonewarden.registry.service import RequestError, build_request, due_for_escalation, due_for_restoration


class Command(clock.ReplayableCommand):
    help = (
        "Without arguments: list the cases due for escalation (still there after the last notice, freshly "
        "checked). With --all or case ids: build one numbered escalation letter (PDF and DOCX). With "
        "--restoration: the same for suspended cases whose fix was verified."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("cases", nargs="*", type=int, metavar="CASE-ID")
        parser.add_argument("--all", action="store_true", help="every case that is due")
        parser.add_argument("--restoration", action="store_true", help="a restoration request instead")
        parser.add_argument(
            "--out", type=Path, default=Path("."), help="where to write the letter files (default .)"
        )
        parser.add_argument(
            "--as", dest="actor", default="cli:lead", help="who signs (recorded on every case)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        kind = RegistryRequest.Kind.RESTORATION if options["restoration"] else RegistryRequest.Kind.ESCALATION
        due = due_for_restoration() if options["restoration"] else due_for_escalation()
        if not options["cases"] and not options["all"]:
            if not due:
                self.stdout.write("nothing is due")
            for case in due:
                since = case.fix_verified_at if options["restoration"] else case.escalation_due_at
                self.stdout.write(
                    f"{case.pk:>6} {case.domain_id:<40} since {timezone.localtime(since):%Y-%m-%d %H:%M}"
                    if since
                    else f"{case.pk:>6} {case.domain_id}"
                )
            return
        cases = due if options["all"] else list(Case.objects.filter(pk__in=options["cases"]).order_by("pk"))
        missing = sorted(set(options["cases"]) - {case.pk for case in cases})
        if missing:
            raise CommandError(f"there is no case {', '.join(map(str, missing))}")
        if not cases:
            raise CommandError("nothing is due")
        try:
            request = build_request(kind, cases, actor=options["actor"])
        except RequestError as exc:
            raise CommandError(str(exc)) from exc
        out: Path = options["out"]
        out.mkdir(parents=True, exist_ok=True)
        stem = request.number.replace("/", "_")
        (out / f"{stem}.pdf").write_bytes(bytes(request.pdf))
        (out / f"{stem}.docx").write_bytes(bytes(request.docx))
        self.stdout.write(
            f"{request.number}: {len(cases)} name(s); {out / (stem + '.pdf')} (sha256 {request.pdf_sha256}), "
            f"{out / (stem + '.docx')}"
        )
