"""The parties' pages: what each role sees and does, and hostile text shown inert."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from tests.api import conftest as api_fixtures
from tests.api.conftest import World
from tests.conftest import almaty
from zonewarden import access
from zonewarden.cases import workflow
from zonewarden.cases.models import Case, State
from zonewarden.registry.models import RegistrarReport, RequestItem
from zonewarden.registry.service import build_request

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("defaults")]
world = api_fixtures.world  # the users in each role, and two registrars' suspended names
T0 = almaty(2026, 4, 1, 11)


def login(name: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=name))
    return client


def test_an_analyst_confirms_incidents_in_bulk(world: World, make_case: Callable[..., Case]) -> None:
    fresh = [make_case(T0) for _ in range(2)]
    analyst = login("analyst")
    page = analyst.get("/incidents/")
    assert page.status_code == 200 and fresh[0].domain_id in page.content.decode()
    ids = [str(case.incidents.get().pk) for case in fresh]
    answer = analyst.post("/incidents/", {"incident": ids, "action": "confirm"})
    assert answer.status_code == 302
    assert {case.state for case in Case.objects.filter(pk__in=[c.pk for c in fresh])} == {State.NOTIFYING}
    assert login("auditor").post("/incidents/", {"incident": ids, "action": "reject"}).status_code == 403


def test_a_registrar_sees_its_own_names_only_and_reports(world: World) -> None:
    mine = login("registrar-x")
    page = mine.get("/registrar/").content.decode()
    assert world.case_a.domain_id in page and world.case_b.domain_id not in page
    assert mine.get(f"/cases/{world.case_b.pk}/").status_code == 404
    assert mine.get(f"/cases/{world.case_a.pk}/").status_code == 200
    assert mine.post("/registrar/", {"case": world.case_b.pk, "text": "x"}).status_code == 404
    mine.post("/registrar/", {"case": world.case_a.pk, "text": "hosting locked"})
    assert RegistrarReport.objects.get().case == world.case_a
    assert mine.get("/dashboard/").status_code == 403


def test_the_registry_works_its_queue_on_the_page(world: World, make_case: Callable[..., Case]) -> None:
    case = workflow.confirm(make_case(T0), actor="user:analyst", at=T0)
    case = workflow.record_notice_sent(case, number=1, actor="system:worker", at=T0)
    Case.objects.filter(pk=case.pk).update(escalation_due_at=T0)
    build_request("escalation", [case], actor="user:lead", at=T0)
    operator = login("operator")
    assert case.domain_id in operator.get("/registry/").content.decode()
    item = RequestItem.objects.get(case=case)
    operator.post("/registry/", {"item": item.pk, "outcome": "suspended"})
    case.refresh_from_db()
    assert case.state == State.SUSPENDED
    assert (
        login("registrar-x")
        .post("/registry/", {"item": item.pk, "outcome": "rejected", "reason": "x"})
        .status_code
        == 403
    )


def test_hostile_text_from_feeds_and_whois_is_inert_on_the_pages(world: World) -> None:
    world.case_a.incidents.update(url=f"http://{world.case_a.domain_id}/<script>alert('url')</script>")
    world.case_a.domain.unicode_name = "<img src=x onerror=alert(1)>"
    world.case_a.domain.save()
    analyst = login("analyst")
    for path in ("/incidents/", f"/cases/{world.case_a.pk}/"):
        text = analyst.get(path).content.decode()
        assert "<script>alert('url')</script>" not in text and "&lt;script&gt;" in text, path
        assert "<img src=x" not in text, path


def test_the_front_page_sends_each_role_to_its_page(world: World) -> None:
    assert login("analyst").get("/").url == "/dashboard/"
    assert login("operator").get("/").url == "/registry/"
    assert login("registrar-x").get("/").url == "/registrar/"
    assert login("analyst").get("/dashboard/").status_code == 200
    assert Group.objects.filter(name=access.AUDITOR).exists()


@pytest.mark.parametrize(
    "path", ["/cases/", "/incidents/", "/api/cases/", "/api/incidents/", "/registry/", "/dashboard/"]
)
def test_list_pages_take_a_fixed_number_of_queries(
    world: World,
    make_case: Callable[..., Case],
    path: str,
    django_assert_max_num_queries: Callable[..., object],
) -> None:
    analyst = login("analyst") if not path.startswith("/api/") else None
    api = api_fixtures.client_for(User.objects.get(username="analyst")) if analyst is None else None
    client = analyst or api
    assert client is not None
    client.get(path)  # warm up: sessions, content types, permissions
    for _ in range(30):
        make_case(T0)
    with django_assert_max_num_queries(14):
        assert client.get(path).status_code == 200


def test_each_role_holds_exactly_its_powers(world: World) -> None:
    powers = {
        "cases.change_case": {"analyst", "lead"},
        "registry.add_registryrequest": {"analyst", "lead"},
        "cases.change_policy": {"lead"},
        "checks.change_verdictrule": {"lead"},
        "registry.change_requestitem": {"operator"},
        "registry.add_registrarreport": {"registrar-x", "registrar-y"},
        "intake.add_incident": {"analyst", "lead"},
    }
    everyone = {"analyst", "lead", "operator", "auditor", "registrar-x", "registrar-y"}
    for permission, holders in powers.items():
        for name in everyone:
            user = User.objects.get(username=name)
            assert access.may(user, permission) == (name in holders), (name, permission)
    auditor = User.objects.get(username="auditor")
    assert not any(
        access.may(auditor, f"{app}.{verb}_{model}")
        for app, model in [("cases", "case"), ("intake", "incident"), ("registry", "requestitem")]
        for verb in ("add", "change", "delete")
    )


def test_the_case_list_finds_names_by_part_unicode_too(world: World, make_domain: Callable[..., Any]) -> None:
    from zonewarden.cases.models import Case as CaseModel

    held = make_domain("xn--80aal3bk85c.kz")  # ақорда.kz
    CaseModel.objects.create(domain=held, state=State.RECORDED, opened_at=T0)
    analyst = login("analyst")
    found = analyst.get("/cases/", {"q": "ақорда"}).content.decode()
    assert "xn--80aal3bk85c.kz" in found and world.case_a.domain_id not in found
    part = world.case_a.domain_id.split(".")[0]
    assert world.case_a.domain_id in analyst.get("/cases/", {"q": part.upper()}).content.decode()
    hostile = analyst.get("/cases/", {"q": '"><script>x</script>'}).content.decode()
    assert "<script>x" not in hostile and "No cases." in hostile
