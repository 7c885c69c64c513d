"""Benchmark: publish 1,000 suspensions to a real Knot DNS server on loopback.

Knot is started with a kz. zone of 1,000 delegated names (with glue) and a TSIG key. Timed:
zonewarden's `publish_due` with the rfc2136 publisher only — one batch of 100 names at a time:
claiming its rows, its UPDATE message, reading every name back (16 queries in flight), recording
each outcome on its case; then the next batch. In the same run, the
floor: dnspython sending the same UPDATE messages to a fresh server, nothing else. Target ≥ 200
names/s. Environment: BENCH_DNS_NAMES (default 1000).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

NAMES = int(os.environ.get("BENCH_DNS_NAMES", "1000"))
ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["ZONEWARDEN_VAR_DIR"] = tempfile.mkdtemp(prefix="zw-bench-dns-")
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zonewarden.settings")
    import shutil

    if shutil.which("/usr/sbin/knotd") is None:
        print("dns: skipped, /usr/sbin/knotd is not installed (Debian package knot)")
        return
    import django

    django.setup()
    import dns.update
    from django.core.management import call_command
    from django.test import override_settings
    from django.utils import timezone
    from tests.knot import Knot

    from zonewarden.cases.models import Case, State
    from zonewarden.domains.models import Domain
    from zonewarden.publish import publishers
    from zonewarden.publish.models import Publication
    from zonewarden.publish.service import publish_due, request_publication

    call_command("migrate", verbosity=0)
    names = [f"site{i}" for i in range(NAMES)]
    delegations = "\n".join(f"{n} NS ns1.{n}\nns1.{n} A 192.0.2.{i % 250 + 1}" for i, n in enumerate(names))
    work = Path(tempfile.mkdtemp(prefix="zw-bench-knot-"))
    now = timezone.now()
    for i, name in enumerate(names):
        domain = Domain.objects.create(
            name=f"{name}.kz",
            nameservers=[{"name": f"ns1.{name}.kz", "addresses": [f"192.0.2.{i % 250 + 1}"]}],
            statuses=["serverHold"],
        )
        case = Case.objects.create(domain=domain, state=State.SUSPENDED, opened_at=now)
        request_publication(domain, "suspend", case=case, at=now)

    server = Knot(work / "a", delegations)
    server.start()
    try:
        with override_settings(**{**server.settings(), "ZONEWARDEN_PUBLISHERS": ["rfc2136"]}):
            start = time.perf_counter()
            summary = publish_due(now, worker="bench")
            elapsed = time.perf_counter() - start
        assert summary.applied == NAMES, summary
        assert Publication.objects.filter(state="applied").count() == NAMES
        assert server.nameservers("site7.kz") == []
    finally:
        server.stop()

    floor_server = Knot(work / "b", delegations)
    floor_server.start()
    try:
        with override_settings(**floor_server.settings()):
            keyring, keyname, algorithm = publishers._keyring()
            start = time.perf_counter()
            for first in range(0, NAMES, publishers.BATCH):
                update = dns.update.UpdateMessage(
                    "kz.", keyring=keyring, keyname=keyname, keyalgorithm=algorithm
                )
                for name in names[first : first + publishers.BATCH]:
                    update.delete(f"{name}.kz.", "NS")
                    update.delete(f"ns1.{name}.kz.", "A")
                    update.delete(f"ns1.{name}.kz.", "AAAA")
                publishers._send(update, "127.0.0.1", floor_server.port)
            floor = time.perf_counter() - start
    finally:
        floor_server.stop()
    print(
        f"dns: {NAMES} suspensions to Knot on loopback, {publishers.BATCH} names per UPDATE and claim, "
        f"read back {publishers.READBACK_AT_ONCE} at a time"
    )
    print(f"  zonewarden publish_due: {elapsed:.2f} s, {NAMES / elapsed:,.0f} names/s")
    print(
        f"  floor (the same UPDATEs, nothing else): {floor:.2f} s, {NAMES / floor:,.0f} names/s; ratio {floor / elapsed:.2f}"
    )
    print(f"  target 200 names/s: {'met' if NAMES / elapsed >= 200 else 'NOT met'}")


if __name__ == "__main__":
    main()
