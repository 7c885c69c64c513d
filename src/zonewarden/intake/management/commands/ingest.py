"""`zonewarden ingest FILE [--format NAME] [--source LABEL] [--json]`: take in a feed file."""

from __future__ import annotations

import getpass
import json
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from tqdm import tqdm

from zonewarden import clock
from zonewarden.intake.feeds import FORMATS
from zonewarden.intake.ingest import IngestRefused, ingest_bytes


class Command(clock.ReplayableCommand):
    help = "Take in a feed file: parse, normalize, keep what is in the zone, de-duplicate, open cases."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", help="the file to take in, or - for standard input")
        parser.add_argument(
            "--format", choices=sorted(FORMATS), help="the file's format (detected when omitted)"
        )
        parser.add_argument("--source", help="label of where the file came from (default: the format's name)")
        parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["file"]
        data = self._read(name)
        total_lines = data.count(b"\n")
        show_progress = sys.stderr.isatty() and total_lines > 20000 and not options["json"]
        bar = tqdm(
            total=total_lines, unit=" rows", desc=Path(name).name, disable=not show_progress, file=sys.stderr
        )
        try:
            report = ingest_bytes(
                data,
                file_name=Path(name).name if name != "-" else "stdin",
                actor=f"cli:{getpass.getuser()}",
                fmt=options["format"],
                source=options["source"],
                progress=bar.update,
            )
        except IngestRefused as exc:
            if options["json"]:
                self.stdout.write(json.dumps({"error": str(exc)}, ensure_ascii=False))
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        if options["json"]:
            self.stdout.write(json.dumps(report.as_json(), ensure_ascii=False))
            return
        counts = report.counts()
        self.stdout.write(
            f"{report.file_name} ({report.format}, source {report.source}): "
            + ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in counts.items())
        )
        if report.cases_opened:
            self.stdout.write(f"cases opened: {report.cases_opened}")
        for row in report.rejected_rows[:20]:
            self.stdout.write(f"  line {row['line']}: {row['reason']}")
        if report.rejected > 20:
            self.stdout.write(
                f"  … and {report.rejected - 20} more rejected rows (see ingest #{report.ingest_id})"
            )

    def _read(self, name: str) -> bytes:
        limit = settings.ZONEWARDEN_INGEST_MAX_BYTES
        if name == "-":
            data = sys.stdin.buffer.read(limit + 1)
        else:
            path = Path(name)
            try:
                if path.stat().st_size > limit:
                    raise CommandError(f"{name} is larger than ZONEWARDEN_INGEST_MAX_BYTES ({limit} bytes)")
                data = path.read_bytes()
            except OSError as exc:
                raise CommandError(f"cannot read {name}: {exc.strerror or exc}") from exc
        if len(data) > limit:
            raise CommandError(f"{name} is larger than ZONEWARDEN_INGEST_MAX_BYTES ({limit} bytes)")
        return data
