"""Registrant-data findings land on the case with their evidence and the ground, once."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from tests.conftest import almaty
from tests.domains.test_dns_checker import TinyDnsServer, resolver_at
from zonewarden.cases import workflow
from zonewarden.cases.models import Case, Policy
from zonewarden.domains import registrant_review
from zonewarden.domains.models import Contact, Domain
from zonewarden.domains.registrant_checks import DnsMailDomainChecker
from zonewarden.domains.registrant_review import check_contacts, review_contacts, review_registrant
from zonewarden.jobs.queue import run_due_jobs

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("defaults")]
T0 = almaty(2026, 4, 1, 11)
T1 = almaty(2026, 4, 2, 11)
SOUND = {
    "name": "Ерлан Серікұлы",
    "phone": "+77011234567",
    "country": "KZ",
    "email": "owner@mail-ok.test",
}  # mail-ok.test has MX records on the test DNS server


def domain_with(make_domain: Callable[..., Domain], **admin: str) -> Domain:
    """Return a name whose registrant is sound and whose administrative contact has `admin` on top."""
    domain = make_domain()
    registrant = Contact.objects.create(handle=f"reg-{domain.pk}", **SOUND)
    Contact.objects.filter(pk=domain.admin_contact_id).update(**{**SOUND, **admin})
    Domain.objects.filter(pk=domain.pk).update(registrant=registrant)
    return Domain.objects.get(pk=domain.pk)


def unreliable_events(case: Case) -> list[dict[str, object]]:
    return list(
        case.events.filter(action="registrant.unreliable").order_by("seq").values_list("detail", flat=True)
    )


def test_each_finding_is_on_the_timeline_with_its_evidence_and_the_case_gets_the_ground(
    make_domain: Callable[..., Domain], make_case: Callable[..., Case]
) -> None:
    domain = domain_with(make_domain, email="not-an-address", name="test test", phone="12345")
    case = make_case(T0, domain=domain)

    findings = review_registrant(case, actor="system:worker", at=T0, dns=False)

    assert [finding.code for finding in findings] == ["email.malformed", "phone.invalid", "name.placeholder"]
    assert list(case.grounds.values_list("code", flat=True)) == [
        Policy.current().unreliable_registrant_ground_id
    ]
    (detail,) = unreliable_events(case)
    assert detail["contact"] == domain.admin_contact.handle  # type: ignore[union-attr]
    evidence = detail["evidence"]
    assert evidence["role"] == "admin"  # type: ignore[index]
    assert evidence["findings"] == [  # type: ignore[index]
        {
            "code": finding.code,
            "field": finding.field,
            "value": finding.value,
            "message": finding.message,
            "evidence": finding.evidence,
        }
        for finding in findings
    ]
    assert evidence["findings"][0]["value"] == "not-an-address"  # type: ignore[index]
    assert Contact.objects.get(pk=domain.admin_contact_id).unreliable is True
    assert Contact.objects.get(pk=domain.registrant_id).unreliable is False


def test_reviewing_again_records_nothing_twice_and_only_new_findings_later(
    make_domain: Callable[..., Domain], make_case: Callable[..., Case]
) -> None:
    domain = domain_with(make_domain, email="not-an-address")
    case = make_case(T0, domain=domain)
    review_registrant(case, actor="system:worker", at=T0, dns=False)

    again = review_contacts(case, actor="system:worker", at=T0, dns=False)

    assert [f.code for review in again for f in review.findings] == ["email.malformed"]
    assert [f for review in again for f in review.recorded] == []
    assert len(unreliable_events(case)) == 1

    Contact.objects.filter(pk=domain.admin_contact_id).update(phone="12345")
    review_registrant(case, actor="system:worker", at=T1, dns=False)

    events = unreliable_events(case)
    assert len(events) == 2
    assert [f["code"] for f in events[1]["evidence"]["findings"]] == ["phone.invalid"]  # type: ignore[index]
    assert case.events.filter(action="case.ground_added").count() == 1


def test_clean_data_adds_nothing(make_domain: Callable[..., Domain], make_case: Callable[..., Case]) -> None:
    case = make_case(T0, domain=domain_with(make_domain))

    assert review_registrant(case, actor="system:worker", at=T0, dns=False) == []
    assert not case.grounds.exists()
    assert unreliable_events(case) == []


def test_one_contact_in_both_roles_is_checked_once(
    make_domain: Callable[..., Domain], make_case: Callable[..., Case]
) -> None:
    domain = make_domain(email="nobody@")  # the fixture's registrant is its administrative contact too
    case = make_case(T0, domain=domain)

    reviews = review_contacts(case, actor="system:worker", at=T0, dns=False)

    assert [review.role for review in reviews] == ["registrant+admin"]
    assert len(unreliable_events(case)) == 1


def test_a_registrant_made_from_whois_is_not_faulted_for_the_email_and_phone_whois_does_not_show(
    make_domain: Callable[..., Domain],
) -> None:
    domain = domain_with(make_domain)
    from_whois = Contact.objects.create(handle=f"whois:{domain.pk}:registrant", name="Tulpar Sauda LLP")
    Domain.objects.filter(pk=domain.pk).update(registrant=from_whois)
    same_from_registry = Contact.objects.create(handle="REG-1", name="Tulpar Sauda LLP")

    (registrant, admin) = check_contacts(Domain.objects.get(pk=domain.pk), dns=False)

    assert registrant.findings == []
    assert admin.findings == []
    Domain.objects.filter(pk=domain.pk).update(registrant=same_from_registry)
    (registrant, _) = check_contacts(Domain.objects.get(pk=domain.pk), dns=False)
    assert [f.code for f in registrant.findings] == ["email.missing", "phone.missing"]


def test_a_closed_case_gets_nothing_recorded(
    make_domain: Callable[..., Domain], make_case: Callable[..., Case]
) -> None:
    case = make_case(T0, domain=domain_with(make_domain, email="nobody@"))
    workflow.reject(case, actor="user:analyst", reason="false positive", at=T0)

    findings = review_registrant(case, actor="system:worker", at=T1, dns=False)

    assert [f.code for f in findings] == ["email.malformed"]
    assert unreliable_events(case) == []
    assert Contact.objects.get(pk=case.domain.admin_contact_id).unreliable is False


@pytest.fixture
def dns_server() -> Iterator[TinyDnsServer]:
    with TinyDnsServer() as running:
        yield running


def test_the_mail_domain_is_looked_up_only_when_asked(
    make_domain: Callable[..., Domain], make_case: Callable[..., Case], dns_server: TinyDnsServer
) -> None:
    case = make_case(T0, domain=domain_with(make_domain, email="admin@no-records.test"))

    assert review_registrant(case, actor="system:worker", at=T0, dns=False) == []
    assert dns_server.queries == []

    checker = DnsMailDomainChecker(resolver_at(dns_server.port), timeout=2.0)
    findings = review_registrant(case, actor="system:worker", at=T0, dns=checker)

    assert [f.code for f in findings] == ["email.no_mail_host"]
    (detail,) = unreliable_events(case)
    assert detail["evidence"]["findings"][0]["evidence"]["domain"] == "no-records.test"  # type: ignore[index]


def test_the_setting_turns_the_dns_check_on_when_the_caller_does_not_say(
    make_domain: Callable[..., Domain],
    make_case: Callable[..., Case],
    dns_server: TinyDnsServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The checker the setting builds asks the loopback server instead of the machine's resolvers.
    monkeypatch.setattr(
        registrant_review, "DnsMailDomainChecker", lambda: DnsMailDomainChecker(resolver_at(dns_server.port))
    )
    case = make_case(T0, domain=domain_with(make_domain, email="admin@null-mx.test"))

    with override_settings(ZONEWARDEN_CHECK_MAIL_DNS=False):
        assert review_registrant(case, actor="system:worker", at=T0) == []
    with override_settings(ZONEWARDEN_CHECK_MAIL_DNS=True):
        assert [f.code for f in review_registrant(case, actor="system:worker", at=T0)] == [
            "email.no_mail_host"
        ]
    assert ("null-mx.test.", "MX") in dns_server.queries


def test_the_first_notice_is_preceded_by_the_review(
    make_domain: Callable[..., Domain], make_case: Callable[..., Case]
) -> None:
    case = workflow.confirm(make_case(T0, domain=make_domain(email="nobody@")), actor="user:analyst", at=T0)
    run_due_jobs(T0, worker="t")
    assert case.events.filter(action="registrant.unreliable").exists()


# --- zonewarden registrant check -----------------------------------------------------------------


def registrant_check(*args: str) -> dict[str, object]:
    out = StringIO()
    call_command("registrant", "check", *args, "--json", stdout=out)
    return json.loads(out.getvalue())  # type: ignore[no-any-return]


def test_the_command_records_on_the_names_open_case(
    make_domain: Callable[..., Domain], make_case: Callable[..., Case]
) -> None:
    domain = domain_with(make_domain, email="nobody@")
    case = make_case(T0, domain=domain)

    result = registrant_check(domain.name)

    assert result["case"] == case.pk and result["recorded"] == 1
    assert result["findings"] == [
        {
            "contact": domain.admin_contact.handle,  # type: ignore[union-attr]
            "role": "admin",
            "code": "email.malformed",
            "field": "email",
            "value": "nobody@",
            "message": "The contact's e-mail address 'nobody@' is malformed: nothing comes after the '@'.",
            "evidence": {"reason": "nothing comes after the '@'"},
        }
    ]
    assert registrant_check("--case", str(case.pk))["recorded"] == 0
    assert case.grounds.count() == 1


def test_the_command_only_reports_for_a_name_without_an_open_case(make_domain: Callable[..., Domain]) -> None:
    domain = domain_with(make_domain, email="nobody@")
    out = StringIO()

    call_command("registrant", "check", domain.name.upper(), stdout=out)

    assert "email.malformed" in out.getvalue()
    assert "no open case: nothing was recorded" in out.getvalue()
    assert Contact.objects.get(pk=domain.admin_contact_id).unreliable is False


def test_the_command_accepts_a_unicode_name_and_refuses_what_it_cannot_find(
    make_domain: Callable[..., Domain],
) -> None:
    make_domain("xn--80awbu3c.xn--80ao21a")

    assert registrant_check("мысал.қаз")["domain"] == "xn--80awbu3c.xn--80ao21a"
    with pytest.raises(CommandError, match="unknown.kz is not a known name"):
        registrant_check("unknown.kz")
    with pytest.raises(CommandError, match="there is no case 999999"):
        registrant_check("--case", "999999")
    with pytest.raises(CommandError, match="one of the two"):
        registrant_check()
