"""Escalation and the registry's decisions through the API: who may build a letter, who decides."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.api.conftest import T0, World
from zonewarden.cases import workflow
from zonewarden.cases.models import Case, State
from zonewarden.registry.models import RegistryRequest, RequestItem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("defaults")]


@pytest.fixture
def due(make_case: Callable[..., Case]) -> Case:
    case = workflow.record_notice_sent(
        workflow.confirm(make_case(T0), actor="user:analyst", at=T0), number=1, actor="system:worker", at=T0
    )
    Case.objects.filter(pk=case.pk).update(escalation_due_at=T0)
    return Case.objects.get(pk=case.pk)


def test_an_analyst_builds_an_escalation_and_the_registry_decides(world: World, due: Case) -> None:
    built = world.clients["analyst"].post(
        "/api/requests/", {"kind": "escalation", "cases": [due.pk]}, format="json"
    )
    assert built.status_code == 201, built.content
    body = built.json()
    assert body["kind"] == "escalation" and body["number"].endswith("-0001")
    assert [item["case"] for item in body["items"]] == [due.pk]
    assert Case.objects.get(pk=due.pk).state == State.ESCALATED

    operator = world.clients["operator"]
    queue = operator.get("/api/request-items/", {"open": "true", "kind": "escalation"}).json()["results"]
    assert [row["case"] for row in queue] == [due.pk]
    item = queue[0]["id"]
    no_reason = operator.post(f"/api/request-items/{item}/decide/", {"outcome": "withdrawn"}, format="json")
    assert no_reason.status_code == 400 and "reason" in str(no_reason.json())
    decided = operator.post(f"/api/request-items/{item}/decide/", {"outcome": "suspended"}, format="json")
    assert decided.status_code == 200 and decided.json()["outcome"] == "suspended"
    again = operator.post(f"/api/request-items/{item}/decide/", {"outcome": "suspended"}, format="json")
    assert again.status_code == 400 and "already" in str(again.json())
    assert Case.objects.get(pk=due.pk).state == State.SUSPENDED
    assert operator.get("/api/request-items/", {"open": "true"}).json()["results"] == []


def test_a_case_that_is_not_due_refuses_the_whole_request(world: World, due: Case) -> None:
    answer = world.clients["analyst"].post(
        "/api/requests/", {"kind": "escalation", "cases": [due.pk, world.recorded.pk]}, format="json"
    )
    assert answer.status_code == 400
    assert f"Case {world.recorded.pk}" in str(answer.json()["cases"])
    assert RegistryRequest.objects.count() == 0 and Case.objects.get(pk=due.pk).state == State.NOTIFYING
    missing = world.clients["analyst"].post(
        "/api/requests/", {"kind": "escalation", "cases": [999999]}, format="json"
    )
    assert missing.status_code == 400 and "999999" in str(missing.json())


def test_only_the_cert_builds_and_only_the_registry_decides(world: World, due: Case) -> None:
    for name in ("auditor", "operator", "registrar-x"):
        refused = world.clients[name].post(
            "/api/requests/", {"kind": "escalation", "cases": [due.pk]}, format="json"
        )
        assert refused.status_code == 403, name
    world.clients["lead"].post("/api/requests/", {"kind": "escalation", "cases": [due.pk]}, format="json")
    item = RequestItem.objects.get(case=due)
    for name in ("analyst", "auditor"):
        answer = world.clients[name].post(
            f"/api/request-items/{item.pk}/decide/", {"outcome": "suspended"}, format="json"
        )
        assert answer.status_code == 403, name
    # A registrar does not even see the registry's queue.
    assert world.clients["registrar-x"].get(f"/api/request-items/{item.pk}/").status_code in (403, 404)
    assert RequestItem.objects.get(pk=item.pk).outcome == ""
