"""record_unreliable: the contact is marked, its open cases get the ground once and every piece of evidence."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import almaty
from zonewarden.cases import workflow
from zonewarden.cases.audit import verify_chain
from zonewarden.cases.models import Case, CaseEvent, LegalGround, Policy, State
from zonewarden.domains.models import Contact, Domain
from zonewarden.domains.unreliable import record_unreliable

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("defaults")]
T0 = almaty(2026, 4, 1, 11)
T1 = almaty(2026, 4, 2, 9)
GROUND = "unreliable-registrant"


def grounds(case: Case) -> list[str]:
    return list(case.grounds.values_list("code", flat=True))


def test_the_contact_is_marked_and_each_open_case_of_its_names_gets_the_ground_with_the_evidence(
    make_domain: Callable[..., Domain], make_case: Callable[..., Case]
) -> None:
    first = make_case(T0)
    contact = first.domain.registrant
    assert contact is not None
    # The same contact is the administrative contact of a second name with its own open case.
    other_domain = make_domain()
    Domain.objects.filter(pk=other_domain.pk).update(admin_contact=contact)
    second = make_case(T0, domain=Domain.objects.get(pk=other_domain.pk))

    touched = record_unreliable(
        contact,
        reason="a notice to the contact's address bounced",
        evidence={"status": "5.1.1", "diagnostic": "user unknown"},
        actor="system:worker",
        at=T1,
    )

    assert sorted(case.pk for case in touched) == sorted([first.pk, second.pk])
    assert Contact.objects.get(pk=contact.pk).unreliable is True
    for case in (first, second):
        assert grounds(case) == [GROUND]
        event = case.events.get(action="registrant.unreliable")
        assert event.actor == "system:worker"
        assert event.at == T1
        assert event.detail == {
            "contact": contact.handle,
            "reason": "a notice to the contact's address bounced",
            "evidence": {"status": "5.1.1", "diagnostic": "user unknown"},
        }
        added = case.events.get(action="case.ground_added")
        assert added.grounds == GROUND
        assert added.detail["evidence"] == f"a notice to the contact's address bounced ({contact.handle})"
    assert verify_chain().ok


def test_closed_cases_and_other_contacts_cases_are_left_alone(
    make_domain: Callable[..., Domain], make_case: Callable[..., Case]
) -> None:
    closed = workflow.reject(make_case(T0), actor="user:analyst", reason="false positive", at=T0)
    contact = closed.domain.registrant
    assert contact is not None
    stranger = make_case(T0)  # another name, another contact

    touched = record_unreliable(contact, reason="placeholder name", evidence={}, actor="system:test", at=T1)

    assert touched == []
    assert Contact.objects.get(pk=contact.pk).unreliable is True
    assert not closed.events.filter(action="registrant.unreliable").exists()
    assert grounds(closed) == []
    assert grounds(stranger) == []
    assert not stranger.events.filter(action="registrant.unreliable").exists()


def test_recording_again_adds_the_evidence_but_not_the_ground_a_second_time(
    make_case: Callable[..., Case],
) -> None:
    case = make_case(T0)
    contact = case.domain.registrant
    assert contact is not None

    record_unreliable(contact, reason="first", evidence={"n": 1}, actor="system:test", at=T0)
    record_unreliable(contact, reason="second", evidence={"n": 2}, actor="system:test", at=T1)

    assert grounds(case) == [GROUND]
    assert case.events.filter(action="case.ground_added").count() == 1
    details = list(case.events.filter(action="registrant.unreliable").values_list("detail", flat=True))
    assert [detail["evidence"] for detail in details] == [{"n": 1}, {"n": 2}]


def test_given_cases_are_the_only_ones_touched(
    make_domain: Callable[..., Domain], make_case: Callable[..., Case]
) -> None:
    chosen = make_case(T0)
    contact = chosen.domain.registrant
    assert contact is not None
    other_domain = make_domain()
    Domain.objects.filter(pk=other_domain.pk).update(registrant=contact)
    other = make_case(T0, domain=Domain.objects.get(pk=other_domain.pk))

    touched = record_unreliable(
        contact, reason="hard bounce", evidence={}, actor="system:test", at=T1, cases=[chosen]
    )

    assert touched == [chosen]
    assert grounds(chosen) == [GROUND]
    assert grounds(other) == []


def test_the_ground_is_the_one_the_policy_names(make_case: Callable[..., Case]) -> None:
    LegalGround.objects.create(
        code="para-16-1-2022", reference="paragraph 16, sub-paragraph 1 (as amended 2022)", text_en="…"
    )
    policy = Policy.current()
    policy.unreliable_registrant_ground_id = "para-16-1-2022"
    policy.save()
    case = make_case(T0)
    assert case.domain.registrant is not None

    record_unreliable(case.domain.registrant, reason="x", evidence={}, actor="system:test", at=T1)

    assert grounds(case) == ["para-16-1-2022"]


def test_a_closed_case_named_explicitly_is_refused_and_nothing_is_stored(
    make_case: Callable[..., Case],
) -> None:
    closed = workflow.reject(make_case(T0), actor="user:analyst", reason="out of scope", at=T0)
    contact = closed.domain.registrant
    assert contact is not None
    events_before = CaseEvent.objects.count()

    with pytest.raises(workflow.InvalidTransition):
        record_unreliable(contact, reason="x", evidence={}, actor="system:test", at=T1, cases=[closed])

    assert CaseEvent.objects.count() == events_before
    assert Contact.objects.get(pk=contact.pk).unreliable is False
    assert Case.objects.get(pk=closed.pk).state == State.REJECTED
