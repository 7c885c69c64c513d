"""The escalation builder, the registry's two queues (htmx in place), registrars' reports and late
registrars, the letters' downloads, and the dashboard's charts — per role."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from tests.api import conftest as api_fixtures
from tests.api.conftest import World
from tests.conftest import almaty
from zonewarden.cases import workflow
from zonewarden.cases.models import Case, State
from zonewarden.intake.models import Category
from zonewarden.registry.models import RegistrarReport, RegistryRequest, RequestItem
from zonewarden.registry.service import build_request

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("defaults")]
world = api_fixtures.world
T0 = almaty(2026, 4, 1, 11)
HTMX = {"HTTP_HX_REQUEST": "true"}


def login(name: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=name))
    return client


def due_case(make_case: Callable[..., Case]) -> Case:
    case = workflow.record_notice_sent(
        workflow.confirm(make_case(T0), actor="user:analyst", at=T0), number=1, actor="system:worker", at=T0
    )
    Case.objects.filter(pk=case.pk).update(escalation_due_at=T0)
    return Case.objects.get(pk=case.pk)


def test_an_analyst_builds_an_escalation_on_the_page(world: World, make_case: Callable[..., Case]) -> None:
    due = due_case(make_case)
    analyst = login("analyst")
    page = analyst.get("/escalation/").content.decode()
    assert due.domain_id in page and "Build the suspension request" in page
    answer = analyst.post("/escalation/", {"kind": "escalation", "case": [str(due.pk)]})
    built = RegistryRequest.objects.get()
    assert answer.status_code == 302 and answer.url == f"/requests/{built.pk}/"
    shown = analyst.get(answer.url).content.decode()
    assert built.number in shown and built.pdf_sha256 in shown and due.domain_id in shown
    pdf = analyst.get(f"/requests/{built.pk}/letter.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert "attachment" in pdf["Content-Disposition"] and "/" not in pdf["Content-Disposition"].split("=")[1]
    assert analyst.get(f"/requests/{built.pk}/letter.docx").content.startswith(b"PK")
    assert Case.objects.get(pk=due.pk).state == State.ESCALATED
    # Building again names the case that no longer qualifies, and builds nothing.
    again = analyst.post("/escalation/", {"kind": "escalation", "case": [str(due.pk)]}, follow=True)
    assert "not due for escalation" in again.content.decode() and RegistryRequest.objects.count() == 1


def test_who_may_open_the_builder_and_the_letters(world: World, make_case: Callable[..., Case]) -> None:
    due = due_case(make_case)
    auditor = login("auditor")
    assert auditor.get("/escalation/").status_code == 200
    assert "Build the suspension request" not in auditor.get("/escalation/").content.decode()
    assert auditor.post("/escalation/", {"kind": "escalation", "case": [str(due.pk)]}).status_code == 403
    assert login("operator").get("/escalation/").status_code == 403
    assert login("registrar-x").get("/escalation/").status_code == 403
    built = build_request("escalation", [due], actor="user:lead", at=T0)
    assert login("operator").get(f"/requests/{built.pk}/letter.pdf").status_code == 200
    for path in (f"/requests/{built.pk}/", f"/requests/{built.pk}/letter.pdf", "/registry/reports/"):
        assert login("registrar-x").get(path).status_code == 403, path
    assert RegistryRequest.objects.count() == 1


def test_the_queue_decides_in_place_with_htmx(world: World, make_case: Callable[..., Case]) -> None:
    due = due_case(make_case)
    build_request("escalation", [due], actor="user:lead", at=T0)
    item = RequestItem.objects.get(case=due)
    operator = login("operator")
    refused = operator.post("/registry/", {"item": item.pk, "outcome": "withdrawn"}, **HTMX)
    text = refused.content.decode()
    assert refused.status_code == 200 and text.startswith("<tr") and "needs a reason" in text
    assert "<html" not in text
    decided = operator.post("/registry/", {"item": item.pk, "outcome": "suspended"}, **HTMX).content.decode()
    assert f'id="item-{item.pk}"' in decided and "suspended" in decided and "<form" not in decided
    assert Case.objects.get(pk=due.pk).state == State.SUSPENDED
    # The refresh every minute gets the rows only; the decided item has left the queue.
    rows = operator.get("/registry/", **HTMX).content.decode()
    assert rows.startswith("<tbody") and due.domain_id not in rows


def test_the_restoration_queue(world: World, make_case: Callable[..., Case]) -> None:
    Case.objects.filter(pk=world.case_a.pk).update(fix_verified_at=T0)
    analyst = login("analyst")
    assert world.case_a.domain_id in analyst.get("/escalation/").content.decode()
    analyst.post("/escalation/", {"kind": "restoration", "case": [str(world.case_a.pk)]})
    item = RequestItem.objects.get(case=world.case_a)
    operator = login("operator")
    page = operator.get("/registry/restoration/").content.decode()
    assert world.case_a.domain_id in page and 'value="restored"' in page
    assert world.case_a.domain_id not in operator.get("/registry/").content.decode()
    # An item of the other kind cannot be decided from this queue.
    assert operator.post("/registry/", {"item": item.pk, "outcome": "suspended"}).status_code == 404
    operator.post("/registry/restoration/", {"item": item.pk, "outcome": "restored"})
    assert Case.objects.get(pk=world.case_a.pk).state == State.RESTORED


def test_registrars_reports_and_late_registrars(world: World) -> None:
    past = timezone.now() - dt.timedelta(days=3)
    Case.objects.filter(pk__in=[world.case_a.pk, world.case_b.pk]).update(registrar_deadline=past)
    too_long = login("registrar-x").post(
        "/registrar/", {"case": world.case_a.pk, "text": "x" * 5001}, follow=True
    )
    assert "at most 5000 characters" in too_long.content.decode() and not RegistrarReport.objects.exists()
    login("registrar-x").post("/registrar/", {"case": world.case_a.pk, "text": "<b>locked</b>"})
    assert RegistrarReport.objects.get().late
    page = login("operator").get("/registry/reports/").content.decode()
    late_part, filed_part = page.split("Reports filed")
    assert world.case_b.domain_id in late_part and world.case_a.domain_id not in late_part
    assert world.case_a.domain_id in filed_part and "&lt;b&gt;locked&lt;/b&gt;" in filed_part
    assert login("auditor").get("/registry/reports/").status_code == 200


def test_the_dashboard_charts_incidents_and_time_to_fix(world: World, make_case: Callable[..., Case]) -> None:
    # A Friday: the case opened four days before falls in the same week whatever day the suite runs.
    with time_machine.travel(almaty(2026, 4, 17, 12), tick=False):
        _chart_the_dashboard(make_case)


def _chart_the_dashboard(make_case: Callable[..., Case]) -> None:
    Category.objects.filter(code="malware").update(name_en="<script>x</script>")
    now = timezone.now()
    for days, category in ((0, "phishing"), (0, "phishing"), (8, "malware")):
        case = make_case(now - dt.timedelta(days=days))
        case.incidents.update(first_seen=now - dt.timedelta(days=days), category_id=category)
    fixed = make_case(now - dt.timedelta(days=4))
    Case.objects.filter(pk=fixed.pk).update(state=State.RESOLVED, closed_at=now)
    body = login("analyst").get("/dashboard/").content.decode()
    assert body.count("<svg") == 2
    week = (timezone.localdate(now) - dt.timedelta(days=timezone.localdate(now).weekday())).isoformat()
    assert f"{week} · Phishing: 3</title>" in body  # two, and the fixed case's own incident
    assert "&lt;script&gt;x&lt;/script&gt;" in body and "<script>x</script>" not in body
    assert f"{week}: 4 days" in body  # opened four days ago, fixed today
    # The htmx refresh gets the body only.
    assert "<html" not in login("analyst").get("/dashboard/", **HTMX).content.decode()


def test_the_header_links_follow_the_role(world: World) -> None:
    analyst = login("analyst").get("/cases/").content.decode()
    assert 'href="/escalation/"' in analyst and 'aria-current="page">Cases' in analyst
    registrar = login("registrar-x").get("/registrar/").content.decode()
    assert 'href="/escalation/"' not in registrar and 'href="/registry/"' not in registrar
    assert 'href="/registrar/"' in registrar


def test_the_new_list_pages_take_a_fixed_number_of_queries(
    world: World, make_case: Callable[..., Case], django_assert_max_num_queries: Callable[..., object]
) -> None:
    def count(client: Client, path: str, most: int) -> None:
        client.get(path)  # warm up: session, permissions
        with django_assert_max_num_queries(most):
            assert client.get(path).status_code == 200

    analyst, operator = login("analyst"), login("operator")
    due = [due_case(make_case) for _ in range(3)]
    count(analyst, "/escalation/", 12)
    more = [due_case(make_case) for _ in range(20)]
    count(analyst, "/escalation/", 12)
    built = build_request("escalation", due + more, actor="user:lead", at=T0)
    count(operator, "/registry/", 10)
    count(analyst, f"/requests/{built.pk}/", 10)
    Case.objects.filter(state=State.SUSPENDED).update(registrar_deadline=T0)  # both registrars late
    count(operator, "/registry/reports/", 10)
    count(login("registrar-x"), "/registrar/", 10)


def test_hostile_text_stays_inert_on_every_page(world: World, make_case: Callable[..., Case]) -> None:
    from zonewarden.cases.ownerlink import owner_token
    from zonewarden.checks.models import Check

    script, image = "<script>alert('x')</script>", "<img src=x onerror=alert(1)>"
    due = due_case(make_case)
    due.incidents.update(url=f"http://{due.domain_id}/{script}")
    due.domain.unicode_name = image  # a WHOIS answer's name
    due.domain.save()
    due.domain.registrar.name = image  # type: ignore[union-attr]
    due.domain.registrar.save()  # type: ignore[union-attr]
    Check.objects.create(
        incident=due.incidents.get(), url="http://x", at=T0, verdict="present", reason=script, title=image
    )
    built = build_request("escalation", [due], actor="user:lead", at=T0)
    login("operator").post("/registry/", {"item": built.items.get().pk, "outcome": "suspended"})
    Case.objects.filter(pk=due.pk).update(registrar_deadline=T0)
    RegistrarReport.objects.create(
        case=due, registrar=due.domain.registrar, text=script, filed_by="user:x", filed_at=T0
    )
    pages = {
        "analyst": ["/incidents/", "/cases/", f"/cases/{due.pk}/", "/escalation/", f"/requests/{built.pk}/"],
        "operator": ["/registry/", "/registry/reports/"],
    }
    seen = []
    for name, paths in pages.items():
        for path in paths:
            seen.append(login(name).get(path).content.decode())
    seen.append(Client().get("/suspended/", {"q": due.domain_id}).content.decode())
    seen.append(Client().get(f"/owner/{owner_token(due)}/").content.decode())
    for text in seen:
        assert "<script>alert" not in text and "<img src=x" not in text
    everything = "".join(seen)
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in everything  # shown, as text
    assert "&lt;img src=x onerror=alert(1)&gt;" in everything


def test_malformed_ids_in_forms_are_not_found_never_a_crash(world: World) -> None:
    bad = ["abc", "1;drop", "99999999999999999999999", "١٢", ""]
    analyst, operator, registrar = login("analyst"), login("operator"), login("registrar-x")
    for value in bad:
        assert operator.post("/registry/", {"item": value, "outcome": "suspended"}).status_code == 404
        assert registrar.post("/registrar/", {"case": value, "text": "x"}).status_code == 404
    answer = analyst.post("/incidents/", {"incident": bad, "action": "confirm"}, follow=True)
    assert answer.status_code == 200 and "0 cases confirmed" in answer.content.decode()
    built = analyst.post("/escalation/", {"kind": "escalation", "case": bad}, follow=True)
    assert built.status_code == 200 and "Choose at least one case." in built.content.decode()
