"""The checks behind "unreliable information about the registrant", without DNS."""

from __future__ import annotations

import dataclasses

import pytest

from zonewarden.domains.registrant_checks import (
    ContactData,
    Finding,
    MailHostResult,
    check_contact,
    email_problem,
    placeholder_reason,
)

GOOD = ContactData(
    name="Даурен Ахметов",
    organization="ТОО «Тулпар Сауда»",
    email="d.akhmetov@tulpar-sauda.kz",
    phone="+7.7172123456",
    street="пр. Мангилик Ел, 55",
    city="Астана",
    country="KZ",
)


def codes(contact: ContactData, **options: object) -> list[str]:
    """Return the codes of the findings for a contact."""
    return [finding.code for finding in check_contact(contact, **options)]  # type: ignore[arg-type]


def test_a_sound_contact_has_no_findings() -> None:
    assert check_contact(GOOD) == []


def test_findings_are_frozen() -> None:
    finding = check_contact(dataclasses.replace(GOOD, email=""))[0]

    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.code = "other"  # type: ignore[misc]


# --- E-mail --------------------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["", "   "])
def test_a_missing_email_is_a_finding(email: str) -> None:
    (finding,) = check_contact(dataclasses.replace(GOOD, email=email))

    assert finding == Finding("email.missing", "email", email, "The contact's e-mail address is missing.")


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        ("admin example.kz", "white space"),
        ("admin@exa mple.kz", "white space"),
        ("admin\u200b@example.kz", "invisible"),
        ("admin.example.kz", "no '@'"),
        ("admin@@example.kz", "2 '@' signs"),
        ("a@b@example.kz", "2 '@' signs"),
        ("@example.kz", "nothing comes before"),
        ("admin@", "nothing comes after"),
        (".admin@example.kz", "dot"),
        ("admin.@example.kz", "dot"),
        ("ad..min@example.kz", "dot"),
        ('"admin"@example.kz', "contains '\"'"),
        ("admin(x)@example.kz", "contains '('"),
        ("admin@localhost", "has no dot"),
        ("admin@example..kz", "empty label"),
        ("admin@.example.kz", "empty label"),
        ("admin@example.kz.", "empty label"),
        ("admin@-example.kz", "invalid label"),
        ("admin@example-.kz", "invalid label"),
        ("admin@exa_mple.kz", "invalid label"),
        ("admin@" + "a" * 64 + ".kz", "invalid label"),
        ("admin@[192.0.2.1]", "IP address"),
        ("admin@192.0.2.1", "IP address"),
        ("admin@example.123", "numeric label"),
        ("a" * 65 + "@example.kz", "longer than 64 octets"),
        ("admin@" + ".".join(["a" * 60] * 5) + ".kz", "longer than 254"),
        ("admin@пример☃.kz", "internationalised"),
        ("admin@\u0301пример.kz", "internationalised"),
    ],
)
def test_a_malformed_email_is_a_finding_that_says_why(email: str, reason: str) -> None:
    (finding,) = check_contact(dataclasses.replace(GOOD, email=email))

    assert finding.code == "email.malformed"
    assert finding.field == "email"
    assert finding.value == email
    assert reason in finding.message
    assert repr(email) in finding.message
    assert str(finding.evidence["reason"]) in finding.message


@pytest.mark.parametrize(
    ("email", "a_label"),
    [
        ("admin@example.kz", "example.kz"),
        ("Admin@EXAMPLE.KZ", "example.kz"),
        ("first.last+notices@mail.example.kz", "mail.example.kz"),
        ("o'brien@example.com", "example.com"),
        ("info@пример.қаз", "xn--e1afmkfd.xn--80ao21a"),
        ("info@ПРИМЕР.kz", "xn--e1afmkfd.kz"),
        ("info@xn--e1afmkfd.xn--80ao21a", "xn--e1afmkfd.xn--80ao21a"),
        ("иван@почта.kz", "xn--80a1acny.kz"),  # RFC 6531 allows a non-ASCII local part
        ("  admin@example.kz  ", "example.kz"),  # surrounding blanks are a typing slip, not a false address
    ],
)
def test_a_sound_email_including_idn_has_no_finding(email: str, a_label: str) -> None:
    assert codes(dataclasses.replace(GOOD, email=email)) == []
    assert email_problem(email.strip()) == (None, a_label)


def test_a_hard_bounce_is_a_finding() -> None:
    (finding,) = check_contact(GOOD, bounced=True)

    assert finding.code == "email.bounced"
    assert finding.value == GOOD.email
    assert GOOD.email in finding.message


class FixedChecker:
    """A mail domain checker that gives one verdict and records what it was asked."""

    def __init__(self, verdict: str) -> None:
        self.verdict = verdict
        self.asked: list[str] = []

    def lookup(self, domain: str) -> MailHostResult:
        self.asked.append(domain)
        return MailHostResult(domain, self.verdict, "the domain does not exist (NXDOMAIN)")  # type: ignore[arg-type]


def test_a_domain_without_mail_host_is_a_finding_with_the_dns_answer_as_evidence() -> None:
    checker = FixedChecker("absent")

    (finding,) = check_contact(dataclasses.replace(GOOD, email="info@пример.қаз"), dns=checker)

    assert checker.asked == ["xn--e1afmkfd.xn--80ao21a"]
    assert finding.code == "email.no_mail_host"
    assert finding.evidence == {
        "domain": "пример.қаз",
        "a_label": "xn--e1afmkfd.xn--80ao21a",
        "answer": "the domain does not exist (NXDOMAIN)",
    }
    assert "'пример.қаз'" in finding.message and "NXDOMAIN" in finding.message


@pytest.mark.parametrize("verdict", ["found", "unknown"])
def test_a_found_or_unknown_mail_host_is_no_finding(verdict: str) -> None:
    assert check_contact(GOOD, dns=FixedChecker(verdict)) == []


def test_a_malformed_email_is_not_looked_up() -> None:
    checker = FixedChecker("absent")

    assert codes(dataclasses.replace(GOOD, email="admin@localhost"), dns=checker) == ["email.malformed"]
    assert checker.asked == []


def test_without_a_checker_no_lookup_is_made_and_no_mail_host_finding_comes() -> None:
    assert codes(dataclasses.replace(GOOD, email="admin@does-not-exist.invalid")) == []


# --- Phone ---------------------------------------------------------------------------------------


def test_a_missing_phone_is_a_finding() -> None:
    assert codes(dataclasses.replace(GOOD, phone=" ")) == ["phone.missing"]


@pytest.mark.parametrize(
    "phone", ["+7.7172123456", "+77222600006", "8 701 123 45 67", "+7 (727) 250-00-00", "+1.6502530000"]
)
def test_a_valid_phone_has_no_finding(phone: str) -> None:
    assert codes(dataclasses.replace(GOOD, phone=phone)) == []


@pytest.mark.parametrize(
    ("phone", "reason"),
    [
        ("123", "not a valid number"),
        ("+7.000", "not a valid number"),
        ("+7 000 000 00 00", "not a valid number"),
        ("phone", "not a phone number"),
        ("+999 1234567", "country code"),
        ("1" * 300, "too long"),
    ],
)
def test_an_invalid_phone_is_a_finding_that_says_why(phone: str, reason: str) -> None:
    (finding,) = check_contact(dataclasses.replace(GOOD, phone=phone))

    assert finding.code == "phone.invalid"
    assert finding.field == "phone"
    assert reason in finding.message
    assert finding.evidence["region"] == "KZ"


def test_a_number_without_country_code_is_read_in_the_contacts_country() -> None:
    american = dataclasses.replace(GOOD, phone="(650) 253-0000", country="US")

    assert codes(american) == []
    assert codes(dataclasses.replace(american, country="")) == ["phone.invalid"]
    assert codes(dataclasses.replace(american, country=""), default_region="US") == []


# --- Names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "test",
        "Test Test",
        "TEST123",
        "test 1",
        "asdf",
        "qwerty",
        "Йцукен",
        "xxx",
        "n/a",
        "N/A",
        "-",
        "---",
        "?",
        "нет",
        "тест",
        "Иванов Иван Иванович",
        "ИВАНОВ ИВАН ИВАНОВИЧ",
        "иванов  иван  иванович",
        "aaa",
        "ааа",
        "A",
        "1111",
        "12345",
    ],
)
def test_a_placeholder_name_is_a_finding(name: str) -> None:
    (finding,) = check_contact(dataclasses.replace(GOOD, name=name))

    assert finding.code == "name.placeholder"
    assert finding.field == "name"
    assert finding.value == name
    assert repr(name) in finding.message
    assert "placeholder" in finding.message


@pytest.mark.parametrize(
    "name",
    [
        "Private Person",
        "private person",
        "Частное лицо",
        "Жеке тұлға",
        "REDACTED FOR PRIVACY",
        "Даурен Ахметов",
        "Gussev, Pavel M.",
        "Иванов Пётр Сергеевич",
        "Qwerty Solutions TOO",
        "Test-Systems LLP",
        "Ли Вэй",
        "王",
        "Aaron Aaronson",
    ],
)
def test_a_plausible_name_or_whois_privacy_is_no_finding(name: str) -> None:
    assert placeholder_reason(name) is None
    assert codes(dataclasses.replace(GOOD, name=name)) == []


def test_without_a_personal_name_the_organization_is_checked() -> None:
    assert codes(dataclasses.replace(GOOD, name="")) == []

    (finding,) = check_contact(dataclasses.replace(GOOD, name="", organization="test"))

    assert (finding.code, finding.field, finding.value) == ("name.placeholder", "organization", "test")
    assert "organization 'test'" in finding.message


@pytest.mark.parametrize("organization", ["", "-", "n/a", "нет", "Частное лицо"])
def test_no_name_and_no_organization_is_a_missing_name(organization: str) -> None:
    (finding,) = check_contact(dataclasses.replace(GOOD, name=" ", organization=organization))

    assert finding.code == "name.missing"
    assert finding.field == "name"


def test_an_organization_saying_none_is_fine_beside_a_real_name() -> None:
    assert codes(dataclasses.replace(GOOD, organization="-")) == []


# --- Everything together ---------------------------------------------------------------------------


def test_all_findings_of_a_bad_contact_come_in_a_fixed_order() -> None:
    bad = ContactData(name="asdf", email="admin@localhost", phone="123")

    assert codes(bad, bounced=True) == [
        "email.malformed",
        "email.bounced",
        "phone.invalid",
        "name.placeholder",
    ]


def test_every_finding_message_is_a_sentence() -> None:
    bad = ContactData(name="", email="", phone="")

    for finding in check_contact(bad, bounced=True):
        assert finding.message[0].isupper() and finding.message.endswith(".")
