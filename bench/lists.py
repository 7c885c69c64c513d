"""Benchmark: the case list page and the API case list with 200,000 domains and 100,000 incidents
(and their 100,000 cases) in a fresh SQLite database, 16 concurrent clients, p50/p95 latency.

The server is what `zonewarden serve` runs: gunicorn with its default number of processes
(ZONEWARDEN_WEB_WORKERS, else 2 per core + 1); each client fetches pages of both lists in turn. The floor printed beside it is the same server answering its cheapest URL
(the log-in form: a template, no queries) under the same load. Target: p95 ≤ 200 ms.
Environment: BENCH_LIST_DOMAINS (200000), BENCH_LIST_INCIDENTS (100000), BENCH_LIST_REQUESTS (800).
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

DOMAINS = int(os.environ.get("BENCH_LIST_DOMAINS", "200000"))
INCIDENTS = int(os.environ.get("BENCH_LIST_INCIDENTS", "100000"))
REQUESTS = int(os.environ.get("BENCH_LIST_REQUESTS", "800"))
CLIENTS = 16


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def load(headers_out: dict[str, dict[str, str]]) -> None:
    import django

    django.setup()
    import datetime as dt

    from django.contrib.auth.models import Group, User
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from zonewarden import access
    from zonewarden.bulkinsert import insert_rows
    from zonewarden.cases.models import Case
    from zonewarden.domains.models import Domain
    from zonewarden.intake.models import Incident

    call_command("migrate", verbosity=0)
    access.ensure_groups()
    now = timezone.now()
    insert_rows(Domain, ("name", "unicode_name"), ((f"d{i}.kz", f"d{i}.kz") for i in range(DOMAINS)))
    states = ["recorded", "notifying", "resolved", "escalated", "suspended", "closed"]
    insert_rows(
        Case,
        ("domain_id", "state", "opened_at"),
        ((f"d{i}.kz", states[i % len(states)], now - dt.timedelta(minutes=i)) for i in range(INCIDENTS)),
    )
    ids = dict(Case.objects.values_list("domain_id", "pk"))
    insert_rows(
        Incident,
        ("key", "domain_id", "url", "category_id", "first_seen", "last_seen", "case_id"),
        (
            (f"k{i}", f"d{i}.kz", f"http://d{i}.kz/login.php", "phishing", now, now, ids[f"d{i}.kz"])
            for i in range(INCIDENTS)
        ),
    )
    analyst = User.objects.create_user("analyst")
    analyst.groups.add(Group.objects.get(name=access.ANALYST))
    token = Token.objects.create(user=analyst)
    session = SessionStore()
    session["_auth_user_id"] = str(analyst.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = analyst.get_session_auth_hash()
    session.create()
    headers_out["page"] = {"Cookie": f"sessionid={session.session_key}"}
    headers_out["api"] = {"Authorization": f"Token {token.key}"}


def hammer(base: str, paths: list[tuple[str, dict[str, str]]]) -> list[float]:
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(REQUESTS))

    def client() -> None:
        for number in counter:
            path, headers = paths[number % len(paths)]
            request = urllib.request.Request(base + path, headers=headers)  # noqa: S310 - loopback
            start = time.perf_counter()
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
                response.read()
                assert response.status == 200
            with lock:
                latencies.append(time.perf_counter() - start)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def quantiles(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=100)
    return cuts[49] * 1000, cuts[94] * 1000


def main() -> None:
    work = tempfile.mkdtemp(prefix="zw-bench-lists-")
    os.environ["ZONEWARDEN_VAR_DIR"] = work
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zonewarden.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    headers: dict[str, dict[str, str]] = {}
    start = time.perf_counter()
    load(headers)
    print(
        f"lists: {DOMAINS} domains, {INCIDENTS} incidents and cases loaded in {time.perf_counter() - start:.1f} s"
    )
    port = free_port()
    from zonewarden.cases.management.commands.serve import gunicorn, web_workers

    workers = web_workers()
    print(f"  server: gunicorn, {workers} processes, on {os.cpu_count()} cores")
    server = subprocess.Popen(  # noqa: S603 - our own command
        gunicorn(f"127.0.0.1:{port}", workers, Path(work) / "run" / "gunicorn.ctl"),
        env={**os.environ, "ZONEWARDEN_LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/suspended/", timeout=1).read()  # noqa: S310 - loopback
                break
            except OSError:
                time.sleep(0.2)
        pages = [(f"/cases/?page={1 + i % 5}", headers["page"]) for i in range(5)]
        apis = [(f"/api/cases/?page={1 + i % 5}", headers["api"]) for i in range(5)]
        floor = hammer(base, [("/login/", {})])
        page_times = hammer(base, pages)
        api_times = hammer(base, apis)
    finally:
        server.terminate()
        server.wait(10)
    for label, values in (
        ("case list page", page_times),
        ("API case list", api_times),
        ("floor /login/", floor),
    ):
        p50, p95 = quantiles(values)
        print(
            f"  {label:<18} {len(values)} requests, {CLIENTS} clients: p50 {p50:6.1f} ms, p95 {p95:6.1f} ms"
        )
    worst = max(quantiles(page_times)[1], quantiles(api_times)[1])
    print(f"  target p95 <= 200 ms: {'met' if worst <= 200 else 'NOT met'}")


if __name__ == "__main__":
    main()
