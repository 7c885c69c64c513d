"""Registrant-data findings land on the case with their evidence, once."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import almaty
from zonewarden.cases import workflow
from zonewarden.cases.models import Case, Policy
from zonewarden.domains.models import Contact
from zonewarden.domains.registrant_review import review_registrant
from zonewarden.jobs.queue import run_due_jobs

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("defaults")]
T0 = almaty(2026, 4, 1, 11)


def test_findings_add_the_ground_with_their_evidence_once(
    make_domain: Callable[..., object], make_case: Callable[..., Case]
) -> None:
    domain = make_domain(email="not-an-address")
    Contact.objects.filter(pk=domain.admin_contact_id).update(name="test test", phone="12345")  # type: ignore[attr-defined]
    case = make_case(T0, domain=domain)
    case.domain.refresh_from_db()
    findings = review_registrant(case, actor="system:worker", at=T0, dns=False)
    codes = {finding.code for finding in findings}
    assert any(code.startswith("email.") for code in codes) and any(
        code.startswith("phone.") for code in codes
    )
    assert list(case.grounds.values_list("code", flat=True)) == [
        Policy.current().unreliable_registrant_ground_id
    ]
    event = case.events.get(action="registrant.unreliable")
    recorded = {finding["code"] for finding in event.detail["evidence"]["findings"]}
    assert recorded == codes
    review_registrant(case, actor="system:worker", at=T0, dns=False)
    assert case.events.filter(action="registrant.unreliable").count() == 1


def test_clean_data_adds_nothing(make_domain: Callable[..., object], make_case: Callable[..., Case]) -> None:
    domain = make_domain(email="owner@example.kz")
    Contact.objects.filter(pk=domain.admin_contact_id).update(
        name="Ерлан Серікұлы", phone="+77011234567", country="KZ"
    )  # type: ignore[attr-defined]
    case = make_case(T0, domain=domain)
    case.domain.refresh_from_db()
    assert review_registrant(case, actor="system:worker", at=T0, dns=False) == []
    assert not case.grounds.exists()


def test_the_first_notice_is_preceded_by_the_review(
    make_domain: Callable[..., object], make_case: Callable[..., Case]
) -> None:
    case = workflow.confirm(make_case(T0, domain=make_domain(email="nobody@")), actor="user:analyst", at=T0)
    run_due_jobs(T0, worker="t")
    assert case.events.filter(action="registrant.unreliable").exists()
