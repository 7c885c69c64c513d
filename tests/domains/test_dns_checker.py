"""The DNS mail-host check against a tiny real DNS server on 127.0.0.1, started by the tests.

No packet leaves the machine: every resolver here is built with configure=False and points at
the test's own server.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Iterator

import dns.message
import dns.rcode
import dns.rdatatype
import dns.resolver
import dns.rrset
import pytest

from zonewarden.domains.registrant_checks import ContactData, DnsMailDomainChecker, check_contact

ZONE: dict[tuple[str, str], list[str]] = {
    ("mail-ok.test.", "MX"): ["10 mx1.mail-ok.test.", "20 mx2.mail-ok.test."],
    ("mx1.mail-ok.test.", "A"): ["192.0.2.1"],
    ("a-only.test.", "A"): ["192.0.2.2"],
    ("aaaa-only.test.", "AAAA"): ["2001:db8::2"],
    ("no-records.test.", "TXT"): ['"v=spf1 -all"'],
    ("null-mx.test.", "MX"): ["0 ."],
    ("xn--e1afmkfd.test.", "MX"): ["10 mx1.mail-ok.test."],
}
SERVFAIL = {"broken.test."}


class TinyDnsServer:
    """Answer UDP DNS queries on 127.0.0.1 from ZONE in a thread: NXDOMAIN for unknown names."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.05)  # wake up often enough to notice the stop flag
        self.port: int = self.socket.getsockname()[1]
        self.names = {name for name, _ in ZONE}
        self.queries: list[tuple[str, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> TinyDnsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.socket.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                wire, client = self.socket.recvfrom(4096)
            except TimeoutError:
                continue
            self.socket.sendto(self.answer(dns.message.from_wire(wire)).to_wire(), client)

    def answer(self, query: dns.message.Message) -> dns.message.Message:
        """Build the response to one query."""
        response = dns.message.make_response(query)
        question = query.question[0]
        name = question.name.to_text().lower()
        rdtype = dns.rdatatype.to_text(question.rdtype)
        self.queries.append((name, rdtype))
        if name in SERVFAIL:
            response.set_rcode(dns.rcode.SERVFAIL)
        elif name not in self.names:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif values := ZONE.get((name, rdtype)):
            response.answer.append(dns.rrset.from_text_list(name, 300, "IN", rdtype, values))
        return response  # an existing name without this type: NOERROR and no answer


def resolver_at(port: int) -> dns.resolver.Resolver:
    """Return a resolver that asks only 127.0.0.1 on the given port."""
    resolver = dns.resolver.Resolver(configure=False)
    resolver.port = port
    resolver.nameservers = ["127.0.0.1"]
    return resolver


@pytest.fixture
def server() -> Iterator[TinyDnsServer]:
    with TinyDnsServer() as running:
        yield running


@pytest.fixture
def checker(server: TinyDnsServer) -> DnsMailDomainChecker:
    return DnsMailDomainChecker(resolver_at(server.port), timeout=2.0)


def contact(email: str) -> ContactData:
    """Return an otherwise sound contact with the given e-mail address."""
    return ContactData(name="Даурен Ахметов", email=email, phone="+7.7172123456", country="KZ")


def test_a_domain_with_mx_records_has_a_mail_host(checker: DnsMailDomainChecker) -> None:
    result = checker.lookup("mail-ok.test")

    assert result.verdict == "found"
    assert result.mx_hosts == ("mx1.mail-ok.test", "mx2.mail-ok.test")
    assert check_contact(contact("admin@mail-ok.test"), dns=checker) == []


@pytest.mark.parametrize(
    ("domain", "address"), [("a-only.test", "192.0.2.2"), ("aaaa-only.test", "2001:db8::2")]
)
def test_a_domain_without_mx_but_with_an_address_has_a_mail_host(
    checker: DnsMailDomainChecker, domain: str, address: str
) -> None:
    result = checker.lookup(domain)

    assert result.verdict == "found"
    assert result.addresses == (address,)
    assert check_contact(contact(f"admin@{domain}"), dns=checker) == []


def test_a_domain_that_does_not_exist_is_a_no_mail_host_finding(checker: DnsMailDomainChecker) -> None:
    (finding,) = check_contact(contact("admin@nowhere.test"), dns=checker)

    assert finding.code == "email.no_mail_host"
    assert finding.evidence["answer"] == "the domain does not exist (NXDOMAIN)"
    assert "'nowhere.test'" in finding.message


def test_a_domain_with_no_mx_a_or_aaaa_is_a_no_mail_host_finding(
    checker: DnsMailDomainChecker, server: TinyDnsServer
) -> None:
    (finding,) = check_contact(contact("admin@no-records.test"), dns=checker)

    assert finding.code == "email.no_mail_host"
    assert finding.evidence["answer"] == "the domain has no MX, A or AAAA records"
    assert server.queries == [
        ("no-records.test.", "MX"),
        ("no-records.test.", "A"),
        ("no-records.test.", "AAAA"),
    ]


def test_a_null_mx_is_a_no_mail_host_finding(checker: DnsMailDomainChecker) -> None:
    (finding,) = check_contact(contact("admin@null-mx.test"), dns=checker)

    assert finding.code == "email.no_mail_host"
    assert "null MX" in finding.message


def test_an_idn_domain_is_looked_up_by_its_a_label(
    checker: DnsMailDomainChecker, server: TinyDnsServer
) -> None:
    assert check_contact(contact("info@пример.test"), dns=checker) == []
    assert server.queries == [("xn--e1afmkfd.test.", "MX")]


def test_a_servfail_is_unknown_and_no_finding(checker: DnsMailDomainChecker) -> None:
    assert checker.lookup("broken.test").verdict == "unknown"
    assert check_contact(contact("admin@broken.test"), dns=checker) == []


def test_answers_are_cached_per_domain(checker: DnsMailDomainChecker, server: TinyDnsServer) -> None:
    for email in ("a@nowhere.test", "b@NOWHERE.test", "c@nowhere.test"):
        check_contact(contact(email), dns=checker)
    checker.lookup("nowhere.test.")

    assert server.queries == [("nowhere.test.", "MX")]


def test_a_resolver_timeout_is_unknown_and_no_finding() -> None:
    # A server that never answers: the socket is bound, but nothing reads it.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        checker = DnsMailDomainChecker(resolver_at(silent.getsockname()[1]), timeout=0.3)
        started = time.monotonic()

        result = checker.lookup("mail-ok.test")
        findings = check_contact(contact("admin@mail-ok.test"), dns=checker)

    assert result.verdict == "unknown"
    assert "timeout" in result.detail
    assert findings == []
    assert time.monotonic() - started < 2.0  # the second check came from the cache


def test_the_checker_does_not_change_the_resolver_it_is_given(server: TinyDnsServer) -> None:
    resolver = resolver_at(server.port)
    before = (resolver.lifetime, resolver.timeout, list(resolver.nameservers), resolver.port)

    DnsMailDomainChecker(resolver, timeout=0.5).lookup("mail-ok.test")

    assert (resolver.lifetime, resolver.timeout, list(resolver.nameservers), resolver.port) == before


def test_a_contact_with_every_problem_reports_the_dns_finding_in_its_place(
    checker: DnsMailDomainChecker,
) -> None:
    bad = dataclasses.replace(contact("admin@nowhere.test"), name="test", phone="")

    codes = [finding.code for finding in check_contact(bad, dns=checker, bounced=True)]

    assert codes == ["email.no_mail_host", "email.bounced", "phone.missing", "name.placeholder"]
