"""Benchmark: render a 300-domain escalation letter (PDF with WeasyPrint, DOCX with python-docx).

Builds 300 escalated-ready cases with two incidents, one sent notice and one check each in a fresh
SQLite database, then times gathering the rows, the PDF and the DOCX (target: under 3 s for the
letter). The floor printed beside it is WeasyPrint alone on the same HTML.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time

NAMES = int(os.environ.get("BENCH_LETTER_NAMES", "300"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))


def main() -> None:
    os.environ["ZONEWARDEN_VAR_DIR"] = tempfile.mkdtemp(prefix="zw-bench-letters-")
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zonewarden.settings")
    import django

    django.setup()
    import datetime as dt

    from django.core.management import call_command
    from django.template.loader import render_to_string
    from django.utils import timezone
    from weasyprint import HTML

    from zonewarden.cases.models import Case, State
    from zonewarden.checks.models import Check
    from zonewarden.domains.models import Domain
    from zonewarden.intake.models import Incident
    from zonewarden.notices.models import Notice
    from zonewarden.registry import letters

    call_command("migrate", verbosity=0)
    now = timezone.now()
    for number in range(NAMES):
        name = f"сайт{number}.қаз" if number % 10 == 0 else f"shop{number}.kz"
        import idna

        alabel = idna.encode(name, uts46=True).decode()
        domain = Domain.objects.create(name=alabel, unicode_name=name)
        case = Case.objects.create(domain=domain, state=State.NOTIFYING, opened_at=now, notices_sent=1)
        for kind in ("login.php", "wp-content/x.zip"):
            incident = Incident.objects.create(
                key=f"{number}-{kind}",
                domain=domain,
                url=f"http://{alabel}/{kind}?id={number}",
                category_id="phishing",
                first_seen=now - dt.timedelta(days=20),
                last_seen=now,
                case=case,
            )
            Check.objects.create(
                incident=incident,
                url=incident.url,
                at=now,
                verdict="present",
                reason="the page still has a credential form",
            )
        Notice.objects.create(
            case=case,
            dedupe_key=f"owner:{case.pk}:1",
            languages="kk,ru,en",
            from_email="incident@cert.kz",
            message_id=f"<{case.pk}@cert.kz>",
            state=Notice.State.SENT,
            next_attempt_at=now,
            created_at=now,
            sent_at=now - dt.timedelta(days=10),
        )
    cases = list(Case.objects.order_by("pk"))
    timings: dict[str, list[float]] = {"rows": [], "pdf": [], "docx": [], "floor": []}
    pages = 0
    for _ in range(RUNS):
        start = time.perf_counter()
        rows = letters.rows_for(cases)
        timings["rows"].append(time.perf_counter() - start)
        data = letters.context("escalation", "KZ-CERT/E-2026-0001", now, rows)
        start = time.perf_counter()
        pdf = letters.render_pdf(data)
        timings["pdf"].append(time.perf_counter() - start)
        start = time.perf_counter()
        letters.render_docx(data)
        timings["docx"].append(time.perf_counter() - start)
        markup = render_to_string("registry/letter.html", data)
        start = time.perf_counter()
        document = HTML(string=markup).render()
        document.write_pdf()
        timings["floor"].append(time.perf_counter() - start)
        pages = len(document.pages)
        assert pdf.startswith(b"%PDF")
    median = {key: statistics.median(values) for key, values in timings.items()}
    total = median["rows"] + median["pdf"] + median["docx"]
    print(f"letters: {NAMES} names, 2 incidents each, {pages} PDF pages, median of {RUNS} runs")
    print(
        f"  gather rows {median['rows']:.3f} s | PDF {median['pdf']:.3f} s | DOCX {median['docx']:.3f} s | total {total:.3f} s"
    )
    print(
        f"  floor (WeasyPrint alone on the same HTML): {median['floor']:.3f} s; letter/floor = {total / median['floor']:.2f}"
    )
    print(f"  target under 3 s for the letter: {'met' if total < 3 else 'NOT met'}")


if __name__ == "__main__":
    main()
