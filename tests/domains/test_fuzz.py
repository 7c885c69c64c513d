"""Fuzzing: the contact checks never raise, whatever text a registry record holds."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zonewarden.domains.registrant_checks import (
    MAX_DOMAIN_LENGTH,
    ContactData,
    MailHostResult,
    check_contact,
    email_problem,
    placeholder_reason,
)

# No example database: the run must not write a .hypothesis folder into the project.
FUZZ = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
CODES = {
    "email.missing",
    "email.malformed",
    "email.no_mail_host",
    "email.bounced",
    "phone.missing",
    "phone.invalid",
    "name.missing",
    "name.placeholder",
}
LABELS = st.one_of(
    st.text(min_size=1, max_size=12),
    st.sampled_from(
        ["kz", "қаз", "пример", "xn--e1afmkfd", "mail-ok", "-x", "a_b", "123", "ПОЧТА", "例え", "ß"]
    ),
)
EMAILS = st.one_of(
    st.text(max_size=80),
    st.builds(
        lambda local, labels: f"{local}@{'.'.join(labels)}",
        st.text(min_size=0, max_size=20),
        st.lists(LABELS, min_size=0, max_size=4),
    ),
)
PHONES = st.one_of(
    st.text(max_size=40), st.from_regex(r"\+?[0-9 ().\-]{0,25}(ext\. ?[0-9]{1,4})?", fullmatch=True)
)


class AbsentEverywhere:
    """A checker that says no domain takes mail, and checks what it is asked."""

    def lookup(self, domain: str) -> MailHostResult:
        assert domain.isascii() and 0 < len(domain) <= MAX_DOMAIN_LENGTH
        return MailHostResult(domain, "absent", "no records")


@FUZZ
@given(
    st.builds(
        ContactData,
        name=st.text(max_size=40),
        organization=st.text(max_size=40),
        email=EMAILS,
        phone=PHONES,
        street=st.text(max_size=40),
        city=st.text(max_size=40),
        country=st.one_of(st.text(max_size=3), st.sampled_from(["KZ", "ru", "US", "XX", ""])),
    ),
    st.booleans(),
)
def test_check_contact_never_raises_on_random_fields(contact: ContactData, bounced: bool) -> None:
    findings = check_contact(contact, dns=AbsentEverywhere(), bounced=bounced)

    assert {finding.code for finding in findings} <= CODES
    assert all(finding.message.endswith(".") for finding in findings)
    assert all(
        finding.field == finding.code.split(".")[0] for finding in findings if finding.field != "organization"
    )


@FUZZ
@given(EMAILS)
def test_a_sound_email_always_yields_an_ascii_a_label(email: str) -> None:
    problem, a_label = email_problem(email)

    assert (problem is None) == (a_label is not None)
    if a_label is not None:
        assert a_label.isascii() and "." in a_label and len(a_label) <= MAX_DOMAIN_LENGTH


@FUZZ
@given(st.text(max_size=60))
def test_placeholder_reason_never_raises(name: str) -> None:
    reason = placeholder_reason(name)

    assert reason is None or isinstance(reason, str)
