"""Checks end to end: stored evidence, what verdicts do to cases, the owner's report, the command."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from tests.checks.webserver import Answer, WebServer, web_server
from tests.conftest import almaty
from zonewarden.cases import workflow
from zonewarden.cases.models import Case, Policy, State
from zonewarden.cases.ownerlink import owner_token
from zonewarden.checks.models import Check, Verdict
from zonewarden.checks.schedule import queue_check
from zonewarden.checks.service import check_incidents
from zonewarden.jobs.queue import run_due_jobs
from zonewarden.notices.outbox import send_due

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("defaults")]
PAGES = Path(__file__).parent / "pages"
T0 = almaty(2026, 4, 1, 11)


@pytest.fixture
def site() -> Iterator[WebServer]:
    with web_server() as server:
        server.answers["/login.php"] = Answer((PAGES / "phish_login.html").read_bytes())
        yield server


@pytest.fixture
def reachable(site: WebServer) -> Iterator[Callable[[Case], None]]:
    """Point a case's incident at the loopback site, under its .kz name."""
    names: list[str] = []

    def point(case: Case) -> None:
        incident = case.incidents.get()
        incident.url = site.url("/login.php", case.domain_id)
        incident.save(update_fields=["url"])
        names.append(case.domain_id)

    with override_settings(ZONEWARDEN_CHECK_ALLOW=["127.0.0.1"]):
        yield point


def hosts(*names: str) -> list[str]:
    return [f"{name}=127.0.0.1" for name in names]


def notified(make_case: Callable[..., Case]) -> Case:
    case = workflow.confirm(make_case(T0), actor="user:analyst", at=T0)
    run_due_jobs(T0, worker="t")
    send_due(T0, worker="t")
    case.refresh_from_db()
    assert case.notices_sent == 1
    return case


def test_a_check_keeps_its_evidence(
    site: WebServer, reachable: Callable[[Case], None], make_case: Callable[..., Case]
) -> None:
    case = make_case(T0)
    reachable(case)
    with override_settings(ZONEWARDEN_CHECK_HOSTS=hosts(case.domain_id)):
        [check] = check_incidents(list(case.incidents.all()), at=T0)
    stored = Check.objects.get(pk=check.pk)
    assert stored.verdict == Verdict.PRESENT and stored.reason == "the page still has a credential form"
    assert (
        stored.status == 200 and stored.addresses == ["127.0.0.1"] and stored.title == "Halyk Homebank — Вход"
    )
    assert bytes(stored.body_head).startswith(b"<!DOCTYPE html>") and len(stored.body_sha256) == 64


def test_a_fixed_site_resolves_the_case_instead_of_a_reminder(
    site: WebServer, reachable: Callable[[Case], None], make_case: Callable[..., Case]
) -> None:
    case = notified(make_case)
    reachable(case)
    with override_settings(ZONEWARDEN_CHECK_HOSTS=hosts(case.domain_id)):
        queue_check(case, purpose="reminder", at=T0, number=2)
        run_due_jobs(T0, worker="t")
        case.refresh_from_db()
        assert case.state == State.NOTIFYING  # still phishing: the reminder is queued
        assert case.jobs.filter(kind="notice.send", payload={"number": 2}).exists()
        site.answers["/login.php"] = Answer((PAGES / "parked.html").read_bytes())
        later = T0 + dt.timedelta(days=7)
        queue_check(case, purpose="reminder", at=later, number=3)
        run_due_jobs(later, worker="t")
    case.refresh_from_db()
    assert case.state == State.RESOLVED
    assert not case.jobs.filter(kind="notice.send", payload={"number": 3}).exists()
    verdicts = list(
        Check.objects.filter(incident__case=case).order_by("at").values_list("verdict", flat=True)
    )
    assert verdicts == ["present", "gone"]


def test_unreachable_counts_as_fixed_only_when_the_policy_says_so(make_case: Callable[..., Case]) -> None:
    case = notified(make_case)  # its name resolves nowhere in the tests
    queue_check(case, purpose="escalation", at=T0)
    run_due_jobs(T0, worker="t")
    case.refresh_from_db()
    assert case.state == State.NOTIFYING and case.escalation_due_at == T0
    other = notified(make_case)
    Policy.objects.update(unreachable_counts_as_fixed=True)
    queue_check(other, purpose="escalation", at=T0)
    run_due_jobs(T0, worker="t")
    other.refresh_from_db()
    assert other.state == State.RESOLVED


def test_the_owner_reports_the_fix_and_a_check_decides(
    site: WebServer, reachable: Callable[[Case], None], make_case: Callable[..., Case], client: Client
) -> None:
    case = notified(make_case)
    reachable(case)
    link = f"/owner/{owner_token(case)}/"
    page = client.get(link)
    assert "I have fixed it" in page.content.decode()
    answer = client.post(link, {"note": "<b>removed</b> the kit"})
    assert answer.status_code == 302
    assert case.events.filter(action="owner.reported_fix").get().detail == {"note": "<b>removed</b> the kit"}
    site.answers["/login.php"] = Answer(b"", status=404)
    with override_settings(ZONEWARDEN_CHECK_HOSTS=hosts(case.domain_id)):
        run_due_jobs(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5), worker="t")
    case.refresh_from_db()
    assert case.state == State.RESOLVED
    assert Check.objects.get(incident__case=case).reason == "the server answers 404"
    # The owner's page shows the evidence: what the last check found.
    assert "the server answers 404" in client.get(link).content.decode()


def test_a_suspended_site_found_clean_is_ready_for_restoration(
    site: WebServer, reachable: Callable[[Case], None], make_case: Callable[..., Case], client: Client
) -> None:
    case = notified(make_case)
    reachable(case)
    case = workflow.escalate(case, actor="user:lead", at=T0)
    case = workflow.record_suspension(case, actor="user:registry", at=T0)
    link = f"/owner/{owner_token(case)}/"
    assert "Once you report the fix" in client.get(link).content.decode()
    site.answers["/login.php"] = Answer((PAGES / "parked.html").read_bytes())
    with override_settings(ZONEWARDEN_CHECK_HOSTS=hosts(case.domain_id)):
        queue_check(case, purpose="owner_report", at=T0)
        run_due_jobs(T0, worker="t")
    case.refresh_from_db()
    assert case.state == State.SUSPENDED and case.fix_verified_at == T0
    assert case.events.filter(action="case.fix_verified").exists()
    # Where restoration stands, in the owner's words.
    assert "we are asking the registry to restore the name" in client.get(link).content.decode()


def test_check_url_prints_the_verdict_and_refuses_private_addresses(site: WebServer) -> None:
    out = StringIO()
    with override_settings(ZONEWARDEN_CHECK_ALLOW=["127.0.0.1"], ZONEWARDEN_CHECK_HOSTS=hosts("bank.kz")):
        call_command("check", "--url", site.url("/login.php", "bank.kz"), "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert (result["verdict"], result["status"], result["credential_form"]) == ("present", 200, True)
    with (
        override_settings(ZONEWARDEN_CHECK_HOSTS=["internal.kz=192.168.10.10"]),
        pytest.raises(SystemExit) as exit_info,
    ):
        call_command("check", "--url", "http://internal.kz/admin", stdout=StringIO(), stderr=StringIO())
    assert exit_info.value.code == 3
    assert (
        Check.objects.get(url="http://internal.kz/admin").reason
        == "refused internal.kz: 192.168.10.10 is a private address"
    )
