"""Faults around DNS publishing: Knot down and back, Knot frozen in the middle of an UPDATE.

The registry decides suspensions and restorations through its service; real `zonewarden worker`
processes publish them to a Knot of the test's own by signed UPDATE. The zone is then read back
by AXFR and compared, name by name, with what the decisions should have made of it; each case's
events are counted. Notices to registrars and owners go to the embedded sink (no SMTP host: the
production default) and are counted there by Message-ID.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings

from tests.faults import work
from tests.faults.harness import Harness, axfr, knot_env
from tests.knot import Knot, require_knot
from zonewarden.cases.models import Case, State
from zonewarden.domains.models import Domain
from zonewarden.jobs.models import WorkerHeartbeat
from zonewarden.notices.models import Notice, SinkMessage
from zonewarden.publish.models import Publication

pytestmark = [pytest.mark.faults, pytest.mark.dns, pytest.mark.django_db(transaction=True)]


class Zone:
    """Names to suspend (delegated in the zone), to restore (out of it), and bystanders."""

    def __init__(self, make_domain: Callable[..., Domain], prefix: str) -> None:
        self.suspend = work.domains(make_domain, f"{prefix}s", 20, delegated=True)
        self.restore = work.domains(make_domain, f"{prefix}r", 10, delegated=True)
        self.bystanders = work.domains(make_domain, f"{prefix}b", 3, delegated=True)

    def lines(self) -> str:
        return work.zone_lines(self.suspend + self.bystanders)

    def expected(self) -> dict[str, dict[str, list[str]]]:
        """Every name of the zone after the decisions: restored and untouched ones, nothing else."""
        zone: dict[str, dict[str, list[str]]] = {"ns1.nic.kz": {"A": ["127.0.0.1"]}}
        for domain in self.restore + self.bystanders:
            for server in domain.nameservers:
                zone[domain.name] = {"NS": [server["name"]]}
                zone[server["name"]] = {"A": sorted(server["addresses"])}
        return zone


def unfinished() -> bool:
    return (
        Publication.objects.filter(state=Publication.State.PENDING).exists()
        or Notice.objects.filter(state__in=[Notice.State.PENDING, Notice.State.SENDING]).exists()
    )


def decided(zone: Zone, make_case: Callable[..., Case], at: dt.datetime) -> tuple[list[Case], list[Case]]:
    """The registry suspends the first names and restores the second, through its service."""
    escalation = work.escalation(make_case, zone.suspend, at)
    restoration = work.restoration(make_case, zone.restore, at)
    suspended = work.decide_all(escalation, "suspended", at)
    restored = work.decide_all(restoration, "restored", at)
    assert Publication.objects.filter(state=Publication.State.PENDING).count() == 30
    return suspended, restored


def moves(suspended: list[Case], restored: list[Case]) -> dict[str, Counter[int]]:
    """How often each case had each event the decisions should give it once (or never)."""
    return {
        action: work.events(cases, action)
        for action, cases in (
            ("dns.suspended", suspended),
            ("dns.restored", restored),
            ("case.closed", restored),
            ("dns.publish_failed", suspended + restored),
        )
    }


def dns_figures(suspended: list[Case], restored: list[Case]) -> dict[str, object]:
    """Publications applied and retried; events or sink copies beyond one; changes not applied."""
    publications = list(Publication.objects.values_list("state", "attempts"))
    sink = Counter(SinkMessage.objects.values_list("message_id", flat=True))
    per_event = moves(suspended, restored)
    return {
        "applied": sum(1 for state, _ in publications if state == Publication.State.APPLIED),
        "retried": sum(1 for _, attempts in publications if attempts > 1),
        "duplicates": sum(max(count - 1, 0) for counts in per_event.values() for count in counts.values())
        + sum(count - 1 for count in sink.values() if count > 1),
        "stranded": sum(1 for state, _ in publications if state != Publication.State.APPLIED),
        "notices_sent": Notice.objects.filter(state=Notice.State.SENT).count(),
    }


def check_end_state(
    harness: Harness,
    knot: Knot,
    zone: Zone,
    suspended: list[Case],
    restored: list[Case],
    **extra: object,
) -> dict[str, object]:
    """Compare the zone (AXFR), the publications, the events and the notices with the decisions;
    report the figures (and `extra`) first."""
    found = axfr(knot)
    per_event = moves(suspended, restored)
    sink = Counter(SinkMessage.objects.values_list("message_id", flat=True))
    notices = dict(Notice.objects.values_list("message_id", "state"))
    figures = dns_figures(suspended, restored)
    harness.report(**figures, **extra)
    assert found == zone.expected()
    assert figures["applied"] == Publication.objects.count() == 30
    for action in ("dns.suspended", "dns.restored", "case.closed"):
        assert set(per_event[action].values()) == {1}, (action, per_event[action])
    assert set(per_event["dns.publish_failed"].values()) == {0}
    assert set(Case.objects.filter(pk__in=[c.pk for c in suspended]).values_list("state", flat=True)) == {
        State.SUSPENDED
    }
    assert set(Case.objects.filter(pk__in=[c.pk for c in restored]).values_list("state", flat=True)) == {
        State.CLOSED
    }
    # A registrar hears of each suspension and restoration once, an owner of each restoration once.
    assert len(notices) == 20 + 10 + 10
    assert set(notices.values()) == {Notice.State.SENT}
    assert sink == Counter(notices.keys())
    assert work.repeated_events() == {}
    harness.audit_verify()
    return figures


def started(worker_pid: int) -> Callable[[], bool]:
    return lambda: WorkerHeartbeat.objects.filter(name__endswith=f":{worker_pid}").exists()


def test_knot_down_and_back(
    harness: Harness,
    tmp_path: Path,
    make_domain: Callable[..., Domain],
    make_case: Callable[..., Case],
    at: dt.datetime,
) -> None:
    require_knot()
    zone = Zone(make_domain, "kdown")
    knot = harness.knot(zone.lines())
    worker = harness.worker(harness.env(knot_env(knot, tmp_path)))
    harness.wait_for(started(worker.pid), timeout=30, what="the worker's first round", alive=[worker])
    knot.stop()
    suspended, restored = decided(zone, make_case, at)
    harness.figures = lambda: dns_figures(suspended, restored)
    harness.wait_for(
        lambda: (
            not Publication.objects.filter(attempts=0).exists()
            and not Publication.objects.filter(lease_until__isnull=False).exists()
        ),
        timeout=60,
        what="every publication to be tried once with Knot down",
        alive=[worker],
    )
    knot.start()
    took = harness.wait_for(
        lambda: not unfinished(),
        timeout=180,
        what="every change to reach Knot after it came back",
        alive=[worker],
    )
    assert worker.terminate() == 0
    figures = check_end_state(harness, knot, zone, suspended, restored, seconds_after_back=round(took, 1))
    assert figures["retried"] == 30  # each was refused once while Knot was down


def update_waiting(knot: Knot) -> bool:
    """Whether a TCP connection to Knot carries bytes Knot has not read (it is frozen)."""
    port = f":{knot.port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, queues = fields[1], fields[3], fields[4]
        if local.endswith(port) and state == "01" and int(queues.split(":")[1], 16) > 0:
            return True
    return False


def serial_moved(knot: Knot, serial: int) -> Callable[[], bool]:
    def moved() -> bool:
        try:
            return knot.serial(timeout=0.5) > serial
        except Exception:  # noqa: BLE001 - not answering yet
            return False

    return moved


def test_knot_frozen_during_an_update_while_the_worker_is_killed(
    harness: Harness,
    tmp_path: Path,
    make_domain: Callable[..., Domain],
    make_case: Callable[..., Case],
    at: dt.datetime,
) -> None:
    require_knot()
    zone = Zone(make_domain, "kfrozen")
    knot = harness.knot(zone.lines())
    serial = knot.serial()
    harness.freeze(knot)
    suspended, restored = decided(zone, make_case, at)
    harness.figures = lambda: dns_figures(suspended, restored)
    # A long DNS timeout, so the worker is surely still waiting for Knot's answer when it dies.
    worker = harness.worker(harness.env(knot_env(knot, tmp_path), {"ZONEWARDEN_DNS_TIMEOUT": "30"}))
    # The kill is for the UPDATE: the worker's mail lane has sent the registrars' notices by then
    # (a worker killed while it sends is test_a_worker_killed_mid_batch_five_times's).
    harness.wait_for(
        lambda: (
            update_waiting(knot)
            and not Notice.objects.filter(state__in=[Notice.State.PENDING, Notice.State.SENDING]).exists()
        ),
        timeout=25,
        what="the worker's UPDATE to wait in the frozen Knot, its notices sent",
        alive=[worker],
    )
    claimed = Publication.objects.filter(claimed_by__endswith=f":{worker.pid}").count()
    worker.kill()
    harness.thaw(knot)
    # Knot reads the dead worker's UPDATE after all (its bytes were in the socket): the change may
    # be in the zone while the database says nobody applied it.
    orphan_applied = harness.within(serial_moved(knot, serial), timeout=10)
    lease = max(settings.ZONEWARDEN_JOB_LEASE_SECONDS, settings.ZONEWARDEN_SEND_LEASE_SECONDS)
    final = harness.worker(
        harness.env(knot_env(knot, tmp_path), ahead=dt.timedelta(seconds=lease + 60)), "after the lease"
    )
    took = harness.wait_for(
        lambda: not unfinished(), timeout=120, what="the new worker to finish", alive=[final]
    )
    assert final.terminate() == 0
    check_end_state(
        harness,
        knot,
        zone,
        suspended,
        restored,
        claimed_by_the_killed_worker=claimed,
        orphan_update_applied=orphan_applied,
        seconds=round(took, 1),
    )
