"""What each role may see and do through the API — enforced in the queries, not in templates."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.api.conftest import World
from zonewarden.registry.models import RegistrarReport

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("defaults")]


def ids(response: object) -> set[int]:
    return {row["id"] for row in response.json()["results"]}  # type: ignore[attr-defined]


def test_anonymous_callers_are_refused() -> None:
    assert APIClient().get("/api/cases/").status_code == 401


def test_analysts_leads_and_auditors_see_every_case(world: World) -> None:
    every = {world.case_a.pk, world.case_b.pk, world.recorded.pk}
    for name in ("analyst", "lead", "auditor"):
        assert ids(world.clients[name].get("/api/cases/")) == every, name


def test_the_registry_sees_the_names_it_was_asked_about_only(world: World) -> None:
    # Suspended without a request in this fixture: the operator sees none of them.
    assert ids(world.clients["operator"].get("/api/cases/")) == set()


def test_a_registrar_sees_only_its_own_suspended_names(world: World) -> None:
    mine = world.clients["registrar-x"]
    assert ids(mine.get("/api/cases/")) == {world.case_a.pk}
    assert mine.get(f"/api/cases/{world.case_b.pk}/").status_code == 404  # another registrar's, by id
    assert mine.get(f"/api/cases/{world.case_b.pk}/events/").status_code == 404
    assert ids(mine.get("/api/incidents/")) <= {i.pk for i in world.case_a.incidents.all()}
    assert mine.get("/api/requests/").status_code == 403  # the registry's letters are not for registrars


def test_a_registrar_files_a_report_for_its_own_name_only(world: World) -> None:
    mine = world.clients["registrar-x"]
    answer = mine.post(
        "/api/registrar-reports/", {"case": world.case_a.pk, "text": "account locked"}, format="json"
    )
    assert answer.status_code == 201, answer.content
    refused = mine.post("/api/registrar-reports/", {"case": world.case_b.pk, "text": "x"}, format="json")
    assert refused.status_code == 400 and "case" in refused.json()
    assert RegistrarReport.objects.filter(case=world.case_b).count() == 0


def test_an_auditor_reads_but_changes_nothing(world: World) -> None:
    auditor = world.clients["auditor"]
    assert auditor.get("/api/incidents/").status_code == 200
    answer = auditor.post(
        "/api/incidents/", {"url": "http://new.kz/x", "category": "phishing"}, format="json"
    )
    assert answer.status_code == 403
    assert (
        auditor.post(
            "/api/registrar-reports/", {"case": world.case_a.pk, "text": "x"}, format="json"
        ).status_code
        == 403
    )


def test_an_analyst_reports_an_incident_through_the_api(world: World) -> None:
    analyst = world.clients["analyst"]
    answer = analyst.post(
        "/api/incidents/", {"url": "hxxp://fresh-phish[.]kz/login", "category": "phishing"}, format="json"
    )
    assert answer.status_code == 201 and answer.json()["new"] == 1
    listed = analyst.get("/api/incidents/", {"domain": "fresh-phish.kz"}).json()["results"]
    assert [row["url"] for row in listed] == ["http://fresh-phish.kz/login"]
    bad = analyst.post(
        "/api/incidents/", {"url": "javascript:alert(1)", "category": "phishing"}, format="json"
    )
    assert bad.status_code == 400


def test_case_lists_and_filters(world: World) -> None:
    analyst = world.clients["analyst"]
    assert ids(analyst.get("/api/cases/", {"state": "suspended"})) == {world.case_a.pk, world.case_b.pk}
    events = analyst.get(f"/api/cases/{world.case_a.pk}/events/").json()["results"]
    assert [event["action"] for event in events][:2] == ["case.opened", "case.confirmed"]
    stats = analyst.get("/api/stats/").json()
    assert stats["cases_by_state"] == {"suspended": 2, "recorded": 1}


def test_the_schema_and_its_documentation_are_served() -> None:
    client = APIClient()
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200 and schema.json()["openapi"].startswith("3.")
    assert "/api/cases/{id}/events/" in schema.json()["paths"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()
