"""The demo: a replay of the process through the workflow leaves cases in every state and an intact chain,
and its re-checks are real fetches of its own sites, found through its own name server."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.core.management import call_command
from django.test import override_settings

from tests.conftest import almaty
from zonewarden.cases.audit import verify_chain
from zonewarden.cases.demo import run_demo
from zonewarden.cases.models import Case, CaseEvent, State
from zonewarden.checks.models import Check, Purpose
from zonewarden.demo import network
from zonewarden.demo.sites import SERVER_NAME, SiteBook

if TYPE_CHECKING:
    from pytest_django import Settings

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_sites(settings: Settings) -> Iterator[SiteBook]:
    """The demo's web server and name server on loopback (free ports), the checker pointed at them."""
    book = SiteBook(zones=list(settings.ZONEWARDEN_ZONES))
    with (
        network.running(book, http_port=0, dns_port=0, fallback=False) as servers,
        override_settings(**servers.checker_settings()),
    ):
        yield book


def test_the_demo_replay_reaches_every_state(defaults: None, demo_sites: SiteBook) -> None:
    states = run_demo(
        seed=7, domains=120, days=150, now=almaty(2026, 11, 20, 12), progress=lambda _: None, sites=demo_sites
    )
    assert set(states) == set(State.values), f"missing: {set(State.values) - set(states)}"
    assert verify_chain().ok
    # Escalated, suspended and restored cases stand on real checks: the page the site served, or
    # the demo's name server saying the owner took the name out of the DNS.
    assert not Check.objects.filter(verdict__in=["refused", "error"]).exists()
    for states in ([State.ESCALATED], [State.SUSPENDED], [State.RESTORED, State.CLOSED]):
        escalating = Check.objects.filter(incident__case__state__in=states, purpose=Purpose.ESCALATION)
        assert escalating.exists(), states
        for check in escalating:
            if check.verdict == "unreachable":
                assert "NXDOMAIN" in check.reason, check.reason
            else:
                assert check.status is not None and check.addresses == [demo_sites.address]
    assert Check.objects.filter(
        incident__case__state__in=[State.ESCALATED, State.SUSPENDED],
        purpose=Purpose.ESCALATION,
        verdict="present",
        status=200,
    ).exists()
    restored = Case.objects.filter(state__in=[State.RESTORED, State.CLOSED])
    verifying = Check.objects.filter(incident__case__in=restored, purpose=Purpose.RESTORATION)
    assert verifying.exists() and all(check.verdict == "gone" for check in verifying)


def test_a_short_replay_checks_the_sites_for_real(defaults: None, demo_sites: SiteBook) -> None:
    run_demo(
        seed=3, domains=15, days=45, now=almaty(2026, 5, 20, 12), progress=lambda _: None, sites=demo_sites
    )
    checks = list(Check.objects.order_by("pk"))
    verdicts = Counter(check.verdict for check in checks)
    assert verdicts["present"] and verdicts["gone"], verdicts
    assert not verdicts["refused"] and not verdicts["error"], verdicts
    for check in checks:
        if check.verdict in ("present", "gone"):
            # Fetched from the demo's web server at the address its name server gave.
            assert check.addresses == [demo_sites.address]
            assert check.headers.get("Server", "").startswith(SERVER_NAME)
    assert {check.status for check in checks if check.verdict == "present"} == {200}
    assert 404 in {check.status for check in checks if check.verdict == "gone"}
    present = next(check for check in checks if check.verdict == "present" and check.credential_form)
    assert present.title and b'type="password"' in bytes(present.body_head)
    # A case the re-check found fixed says so with the check's own words.
    resolved = CaseEvent.objects.filter(action="case.resolved").first()
    assert resolved is not None and "gone" in str(resolved.detail)


def test_the_demo_command_loads_once_and_saves_its_sites(
    defaults: None, settings: Settings, tmp_path: Path
) -> None:
    settings.VAR_DIR = tmp_path
    first, second = StringIO(), StringIO()
    call_command(
        "demo", "--domains", "30", "--days", "40", "--sites-port", "0", "--dns-port", "0", stdout=first
    )
    call_command("demo", stdout=second)
    assert "demo loaded" in first.getvalue()
    assert "loaded already" in second.getvalue()
    book = SiteBook.load(tmp_path / network.STATE_FILE)
    assert book.address == network.DEFAULT_ADDRESS and book.http_port and book.dns_port
    assert set(Case.objects.values_list("domain_id", flat=True)) <= set(book.sites)
    # The worker's checks afterwards, and a check asked for, against the saved sites served again.
    case = Case.objects.filter(state__in=[State.NOTIFYING, State.SUSPENDED]).order_by("pk").first()
    assert case is not None
    before = Check.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with (
        network.running(
            book, address=book.address, http_port=book.http_port, dns_port=book.dns_port, fallback=False
        ) as servers,
        override_settings(**servers.checker_settings()),
    ):
        # What the worker does with the checks the final tick queued, and a check asked for.
        call_command("check", "--due", stdout=StringIO())
        call_command("check", "--case", str(case.pk), stdout=StringIO())
    fresh = list(Check.objects.filter(pk__gt=before))
    assert any(check.incident is not None and check.incident.case_id == case.pk for check in fresh)
    for check in fresh:
        if check.verdict == "unreachable":
            assert not book.resolves(book.site_name(check.url.split("/")[2].split(":")[0]) or "")
        else:
            assert check.verdict in ("present", "gone") and check.addresses == [book.address]
