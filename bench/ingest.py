"""Benchmark: ingest a 200,000-row URLhaus file end to end into a fresh SQLite database.

Prints rows/s of `ingest_bytes` as `zonewarden ingest` runs it (read, detect, parse, normalize,
filter, de-duplicate, store, open cases) and, in the same run, of plain csv.reader over the same
file (the floor), and their ratio. Each of the RUNS repetitions starts a new process with a new
database; the median is what counts against the target.

Environment: BENCH_ROWS (default 200000), BENCH_RUNS (default 3).
"""

from __future__ import annotations

import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROWS = int(os.environ.get("BENCH_ROWS", "200000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
TARGET = 50_000
ROOT = Path(__file__).resolve().parent.parent


def measure_once(path: Path) -> dict[str, float | int]:
    """In a process of its own: migrate a fresh database, time csv.reader and two ingests."""
    os.environ["ZONEWARDEN_VAR_DIR"] = tempfile.mkdtemp(prefix="zw-bench-db-")
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zonewarden.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from zonewarden.intake.ingest import ingest_bytes
    from zonewarden.intake.models import Incident

    call_command("migrate", verbosity=0)

    start = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as handle:
        floor_rows = sum(1 for row in csv.reader(handle) if row and not row[0].startswith("#"))
    floor = time.perf_counter() - start

    start = time.perf_counter()
    report = ingest_bytes(path.read_bytes(), file_name=path.name, actor="system:bench")
    first = time.perf_counter() - start

    start = time.perf_counter()
    again = ingest_bytes(path.read_bytes(), file_name=path.name, actor="system:bench")
    second = time.perf_counter() - start

    if not floor_rows == ROWS == report.read or again.new != 0:
        raise SystemExit(f"bench: unexpected counts {report.counts()} / {again.counts()}")
    return {
        "floor": floor,
        "first": first,
        "again": second,
        **report.counts(),
        "cases_opened": report.cases_opened,
        "stored": Incident.objects.count(),
    }


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(measure_once(Path(sys.argv[2]))))
        return
    sys.path.insert(0, str(ROOT))
    from bench.urlhaus_file import write_urlhaus

    work = Path(tempfile.mkdtemp(prefix="zw-bench-ingest-"))
    path = work / "urlhaus.csv"
    write_urlhaus(path, ROWS)
    size_mb = path.stat().st_size / 1e6
    print(f"intake: {ROWS} URLhaus rows ({size_mb:.1f} MB), a fresh SQLite database per run, {RUNS} runs")
    runs = []
    for number in range(1, RUNS + 1):
        done = subprocess.run(
            [sys.executable, __file__, "--one", str(path)], check=True, capture_output=True, text=True
        )
        run = json.loads(done.stdout.strip().splitlines()[-1])
        runs.append(run)
        print(
            f"  run {number}: csv.reader {ROWS / run['floor']:>10,.0f} rows/s | "
            f"ingest {ROWS / run['first']:>8,.0f} rows/s ({run['first']:.2f} s) | "
            f"same file again {ROWS / run['again']:>8,.0f} rows/s ({run['again']:.2f} s)",
            flush=True,
        )
    last = runs[-1]
    print(
        f"  counts: in_zone {last['in_zone']}, new {last['new']}, duplicate {last['duplicate']}, "
        f"outside_zone {last['outside_zone']}, no_domain {last['no_domain']}, rejected {last['rejected']}; "
        f"cases opened {last['cases_opened']}; incidents stored {last['stored']}"
    )
    floor = statistics.median(ROWS / run["floor"] for run in runs)
    first = statistics.median(ROWS / run["first"] for run in runs)
    again = statistics.median(ROWS / run["again"] for run in runs)
    print(f"  median csv.reader floor: {floor:12,.0f} rows/s")
    print(f"  median ingest:           {first:12,.0f} rows/s   ingest/floor = {first / floor:.3f}")
    print(f"  median ingest again:     {again:12,.0f} rows/s   (nothing new)")
    print(f"  target {TARGET:,} rows/s end to end: {'met' if first >= TARGET else 'NOT met'}")


if __name__ == "__main__":
    main()
