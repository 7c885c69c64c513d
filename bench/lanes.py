"""Benchmark: a suspension and a notice while 1,000 slow checks wait in the queue.

A local aiohttp server (its own process) answers every GET after 5 s. 1,000 cases each get a
check job whose URL is on that server; `zonewarden worker` (its own process, every lane, the
default `--poll` of 2 s) starts on them. Once the checks lane is busy, the registry decides a
suspension (`registry.service.decide(… SUSPENDED)`) and, a moment later, an analyst confirms a
case, which queues its first notice. Timed: from the decision until its publication is applied
(zone file and RPZ zone written; with Knot installed, also sent by signed UPDATE to Knot on
loopback and read back), and from the confirmation until the notice arrives at an SMTP sink on
loopback (aiosmtpd). Targets: the suspension within 10 s, the notice within 10 s. Also printed:
how many checks were done meanwhile, and how long the worker took to stop on SIGTERM (it
finishes the check in hand). SQLite in a fresh folder. Environment: BENCH_LANE_CHECKS (1000),
BENCH_LANE_DELAY (5 seconds).
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CHECKS = int(os.environ.get("BENCH_LANE_CHECKS", "1000"))
DELAY = float(os.environ.get("BENCH_LANE_DELAY", "5"))
TARGET = 10.0
ROOT = Path(__file__).resolve().parent.parent


def serve(port: int, delay: float, hits: Any, ready: Any) -> None:
    """A web site that takes `delay` seconds over every answer; counts the requests."""
    from aiohttp import web

    async def page(request: web.Request) -> web.Response:
        with hits.get_lock():
            hits.value += 1
        await asyncio.sleep(delay)
        return web.Response(body=b"<html><title>gone</title></html>", content_type="text/html")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", page)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(condition: Any, seconds: float, step: float = 0.05) -> float | None:
    """Return the seconds until `condition()` held (None if it did not within `seconds`)."""
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        if condition():
            return time.perf_counter() - start
        time.sleep(step)
    return None


def main() -> None:
    sys.path.insert(0, str(ROOT))
    var = Path(tempfile.mkdtemp(prefix="zw-bench-lanes-"))
    os.environ["ZONEWARDEN_VAR_DIR"] = str(var)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zonewarden.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone
    from tests.smtpserver import smtp_server

    from zonewarden.cases import workflow
    from zonewarden.cases.models import Case, State
    from zonewarden.checks.models import Check, Purpose
    from zonewarden.checks.schedule import queue_check
    from zonewarden.domains.models import Contact, Domain, Registrar
    from zonewarden.intake.models import Incident
    from zonewarden.notices.models import Notice
    from zonewarden.publish.models import Publication
    from zonewarden.registry.models import RequestItem
    from zonewarden.registry.service import build_request, decide

    call_command("migrate", verbosity=0)
    now = timezone.now()
    port = free_port()
    registrar = Registrar.objects.create(code="reg-a", name="Registrar A", email="abuse@registrar-a.kz")
    names = [f"site{i}.kz" for i in range(CHECKS + 2)]
    for name in names:
        contact = Contact.objects.create(handle=f"c-{name}", name=f"Owner of {name}", email=f"admin@{name}")
        Domain.objects.create(
            name=name,
            registrar=registrar,
            registrant=contact,
            admin_contact=contact,
            nameservers=[{"name": f"ns1.{name}", "addresses": ["192.0.2.10"]}],
        )
    ids = workflow.open_case_ids(names, actor="system:intake", at=now)
    Incident.objects.bulk_create(
        Incident(
            key=hashlib.sha256(f"phishing\n{name}".encode()).hexdigest(),
            domain_id=name,
            url=f"http://{name}:{port}/login.php",
            category_id="phishing",
            sources=["bench"],
            first_seen=now,
            last_seen=now,
            case_id=ids[name],
        )
        for name in names
    )
    checked, suspended_name, notified_name = names[:CHECKS], names[CHECKS], names[CHECKS + 1]
    for name in checked:
        queue_check(Case.objects.get(pk=ids[name]), purpose=Purpose.MANUAL, at=now)
    # The case to suspend: notified, its escalation check found the incident, in a request.
    Case.objects.filter(pk=ids[suspended_name]).update(
        state=State.NOTIFYING, notices_sent=3, escalation_due_at=now
    )
    request = build_request(
        "escalation", [Case.objects.get(pk=ids[suspended_name])], actor="user:lead", at=now
    )
    item = RequestItem.objects.get(request=request)

    knot = None
    zones = var / "zones"
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_URL"))
    }
    environment.update(
        ZONEWARDEN_CHECK_ALLOW="127.0.0.1",
        ZONEWARDEN_CHECK_DNS="false",  # every name is in the table below: no DNS query at all
        ZONEWARDEN_CHECK_HOSTS=",".join(f"{name}=127.0.0.1" for name in checked),
        ZONEWARDEN_PUBLISHERS="zonefile,rpz",
        ZONEWARDEN_ZONEFILE_DIR=str(zones),
    )
    if shutil.which("/usr/sbin/knotd"):
        from tests.knot import Knot

        label = suspended_name.removesuffix(".kz")
        knot = Knot(var / "knot", f"{label} NS ns1.{label}\nns1.{label} A 192.0.2.10\n")
        knot.start()
        environment.update(knot.environment())
    publishers = environment["ZONEWARDEN_PUBLISHERS"]
    zones = Path(environment["ZONEWARDEN_ZONEFILE_DIR"])

    hits = multiprocessing.get_context("spawn").Value("i", 0)
    ready = multiprocessing.get_context("spawn").Event()
    site = multiprocessing.get_context("spawn").Process(
        target=serve, args=(port, DELAY, hits, ready), daemon=True
    )
    site.start()
    ready.wait(30)
    arrived: dict[str, float] = {}
    try:
        with smtp_server() as smtp:
            environment.update(smtp.environment())
            log = (var / "worker.log").open("w")
            worker = subprocess.Popen(  # noqa: S603 - our own command
                [sys.executable, "-m", "zonewarden", "worker"],
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                busy = wait_for(lambda: hits.value > 0, 60)
                assert busy is not None, "the checks lane never reached the slow site"
                time.sleep(DELAY / 2)  # well inside the first check
                decided = time.perf_counter()
                decide(item, RequestItem.Outcome.SUSPENDED, actor="user:registry")
                applied = wait_for(
                    lambda: Publication.objects.filter(domain_id=suspended_name, state="applied").exists(),
                    120,
                )
                assert applied is not None, "the suspension was not published within 120 s"
                rpz = (zones / "rpz.zone").read_text()
                assert f"{suspended_name} CNAME ." in rpz
                if knot is not None:
                    assert knot.nameservers(suspended_name) == []
                workflow.confirm(Case.objects.get(pk=ids[notified_name]), actor="user:analyst")
                message_id = ""

                def notice_arrived() -> bool:
                    nonlocal message_id
                    if not message_id:
                        found = Notice.objects.filter(case_id=ids[notified_name]).first()
                        message_id = found.message_id if found else ""
                    return bool(message_id) and any(
                        r.message["Message-ID"] == message_id for r in list(smtp.received)
                    )

                mail = wait_for(notice_arrived, 120)
                assert mail is not None, "the notice did not arrive within 120 s"
                checks_done = Check.objects.count()
                window = time.perf_counter() - decided
                arrived.update(applied=applied, mail=mail, window=window, checks=checks_done)
            finally:
                asked = time.perf_counter()
                worker.send_signal(signal.SIGTERM)
                code = worker.wait(120)
                arrived["stop"] = time.perf_counter() - asked
                log.close()
            assert code == 0, (var / "worker.log").read_text()
    finally:
        site.terminate()
        site.join(5)
        if knot is not None:
            knot.stop()
    print(
        f"lanes: {CHECKS} check jobs against a site answering after {DELAY:.0f} s; `zonewarden worker` "
        f"(every lane, --poll 2) on SQLite; publishers {publishers}"
    )
    print(
        f"  suspension decided → publication applied: {arrived['applied']:.2f} s (target ≤ {TARGET:.0f} s: "
        f"{'met' if arrived['applied'] <= TARGET else 'NOT met'})"
    )
    print(
        f"  case confirmed → its notice at the SMTP sink: {arrived['mail']:.2f} s (target ≤ {TARGET:.0f} s: "
        f"{'met' if arrived['mail'] <= TARGET else 'NOT met'})"
    )
    print(
        f"  checks done meanwhile: {arrived['checks']} in {arrived['window']:.1f} s (one lane, one check job at a "
        f"time: {CHECKS} of them take about {CHECKS * DELAY / 60:.0f} min); sent SIGTERM, the worker stopped "
        f"after {arrived['stop']:.1f} s (it finishes the check in hand)"
    )


if __name__ == "__main__":
    main()
