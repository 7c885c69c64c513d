"""Checks behind the legal ground "unreliable information about the registrant".

Each check yields a `Finding`: evidence for an analyst, not a verdict. The checks lean towards
not accusing anyone: WHOIS privacy wordings are not placeholders, a phone is read with the
contact's own country when it has one, and a DNS failure on our side is "unknown", never a finding.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from typing import Literal, Protocol

import dns.exception
import dns.name
import dns.resolver
import idna
import phonenumbers

MAX_ADDRESS_LENGTH = 254  # RFC 5321: a path holds at most 256 octets, angle brackets included
MAX_LOCAL_LENGTH = 64
MAX_DOMAIN_LENGTH = 253
MAX_LABEL_LENGTH = 63

Verdict = Literal["found", "absent", "unknown"]


@dataclasses.dataclass
class ContactData:
    """The contact data a registry holds, as registered."""

    name: str = ""
    organization: str = ""
    email: str = ""
    phone: str = ""
    street: str = ""
    city: str = ""
    country: str = ""


@dataclasses.dataclass(frozen=True)
class Finding:
    """One reason to doubt a contact's data, with what shows it."""

    code: str
    field: str
    value: str
    message: str
    evidence: dict[str, object] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class MailHostResult:
    """What DNS says about where mail for a domain goes."""

    domain: str
    verdict: Verdict
    detail: str
    mx_hosts: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()


class MailDomainChecker(Protocol):
    """Anything that can tell whether a domain (an A-label) has a mail host."""

    def lookup(self, domain: str) -> MailHostResult:
        """Return what is known about the domain's mail hosts."""
        ...


class DnsMailDomainChecker:
    """Look mail hosts up in DNS with dnspython, caching each domain's answer."""

    def __init__(self, resolver: dns.resolver.Resolver | None = None, timeout: float = 5.0) -> None:
        self.resolver = resolver if resolver is not None else dns.resolver.Resolver()
        self.timeout = timeout
        self._cache: dict[str, MailHostResult] = {}

    def lookup(self, domain: str) -> MailHostResult:
        """Return the domain's MX hosts, else its A/AAAA addresses (RFC 5321 implicit MX)."""
        key = domain.strip().rstrip(".").lower()
        cached = self._cache.get(key)
        if cached is None:
            # Unknown answers are cached too: asking again in the same run would only wait again.
            cached = self._cache[key] = self._resolve(key)
        return cached

    def _resolve(self, domain: str) -> MailHostResult:
        """Ask DNS, without the cache."""
        try:
            answer = self._query(domain, "MX")
        except dns.resolver.NXDOMAIN:
            return MailHostResult(domain, "absent", "the domain does not exist (NXDOMAIN)")
        except dns.exception.DNSException as error:
            return MailHostResult(domain, "unknown", f"the MX lookup failed ({_dns_error(error)})")
        if answer.rrset:
            records = sorted(answer.rrset, key=lambda record: (record.preference, str(record.exchange)))
            hosts = tuple(record.exchange.to_text(omit_final_dot=True) for record in records)
            if all(record.exchange == dns.name.root for record in records):
                return MailHostResult(domain, "absent", "the domain publishes a null MX: it accepts no mail")
            return MailHostResult(domain, "found", f"MX {', '.join(hosts)}", mx_hosts=hosts)

        addresses: list[str] = []
        failures: list[str] = []
        for rdtype in ("A", "AAAA"):
            try:
                answer = self._query(domain, rdtype)
            except dns.resolver.NXDOMAIN:
                return MailHostResult(domain, "absent", "the domain does not exist (NXDOMAIN)")
            except dns.exception.DNSException as error:
                failures.append(f"the {rdtype} lookup failed ({_dns_error(error)})")
                continue
            if answer.rrset:
                addresses.extend(record.to_text() for record in answer.rrset)
        if addresses:
            return MailHostResult(
                domain, "found", "no MX; mail goes to its address records", addresses=tuple(addresses)
            )
        if failures:
            return MailHostResult(domain, "unknown", "; ".join(failures))
        return MailHostResult(domain, "absent", "the domain has no MX, A or AAAA records")

    def _query(self, domain: str, rdtype: str) -> dns.resolver.Answer:
        """Resolve one record type of an absolute name, answering empty rather than raising NoAnswer."""
        return self.resolver.resolve(
            dns.name.from_text(domain), rdtype, lifetime=self.timeout, search=False, raise_on_no_answer=False
        )


def _dns_error(error: dns.exception.DNSException) -> str:
    """Name a DNS failure briefly."""
    if isinstance(error, dns.exception.Timeout):
        return "timeout"
    if isinstance(error, dns.resolver.NoNameservers):
        return "no server answered (SERVFAIL or refused)"
    return type(error).__name__


def check_contact(
    contact: ContactData,
    *,
    dns: MailDomainChecker | None = None,
    bounced: bool = False,
    default_region: str = "KZ",
) -> list[Finding]:
    """Return the findings that make a contact's data look unreliable, most important first."""
    findings: list[Finding] = []
    findings.extend(_email_findings(contact.email, dns))
    if bounced:
        findings.append(
            Finding(
                code="email.bounced",
                field="email",
                value=contact.email,
                message=f"Mail to the contact's e-mail address {contact.email!r} bounced permanently (hard bounce).",
                evidence={"bounced": True},
            )
        )
    findings.extend(_phone_findings(contact.phone, contact.country, default_region))
    findings.extend(_name_findings(contact.name, contact.organization))
    return findings


# --- E-mail --------------------------------------------------------------------------------------

_ATEXT = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~")
_LDH_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")


def _email_findings(email: str, checker: MailDomainChecker | None) -> list[Finding]:
    """Check that an address is there, well formed and, if asked, that its domain takes mail."""
    address = email.strip()
    if not address:
        return [Finding("email.missing", "email", email, "The contact's e-mail address is missing.")]
    problem, a_label = email_problem(address)
    if problem is not None:
        return [
            Finding(
                "email.malformed",
                "email",
                email,
                f"The contact's e-mail address {email!r} is malformed: {problem}.",
                {"reason": problem},
            )
        ]
    if checker is None or a_label is None:
        return []
    result = checker.lookup(a_label)
    if result.verdict != "absent":
        return []  # found, or unknown because DNS failed on our side: nothing to hold against anyone
    domain = address.rsplit("@", 1)[1]
    return [
        Finding(
            "email.no_mail_host",
            "email",
            email,
            f"The domain {domain!r} of the contact's e-mail address {email!r} cannot receive mail: {result.detail}.",
            {"domain": domain, "a_label": a_label, "answer": result.detail},
        )
    ]


def email_problem(address: str) -> tuple[str | None, str | None]:
    """Return (what is wrong with the address or None, its domain as an A-label when it is sound)."""
    if any(char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Cs") for char in address):
        return "it contains white space, control or invisible characters", None
    if "@" not in address:
        return "it has no '@'", None
    if address.count("@") > 1:
        return f"it has {address.count('@')} '@' signs instead of one", None
    if len(address) > MAX_ADDRESS_LENGTH:
        return f"it is longer than {MAX_ADDRESS_LENGTH} characters", None
    local, domain = address.split("@")
    local_problem = _local_part_problem(local)
    if local_problem is not None:
        return local_problem, None
    return _domain_problem(domain)


def _local_part_problem(local: str) -> str | None:
    """Return what is wrong with the part before the '@', or None."""
    if not local:
        return "nothing comes before the '@'"
    if len(local.encode("utf-8", "surrogatepass")) > MAX_LOCAL_LENGTH:
        return f"the part before the '@' is longer than {MAX_LOCAL_LENGTH} octets"
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return "the part before the '@' has a leading, trailing or doubled dot"
    for char in local:
        if char == "." or char in _ATEXT:
            continue
        # RFC 6531 allows non-ASCII letters and digits; quoted forms and other symbols we do not accept.
        if ord(char) > 127 and unicodedata.category(char)[0] in "LMN":
            continue
        return f"the part before the '@' contains {char!r}"
    return None


def _domain_problem(domain: str) -> tuple[str | None, str | None]:
    """Return (what is wrong with the domain or None, its A-label)."""
    if not domain:
        return "nothing comes after the '@'", None
    if domain.startswith("[") or _is_ip_like(domain):
        return "it names an IP address instead of a domain", None
    if "." not in domain:
        return f"the domain {domain!r} has no dot", None
    labels = domain.split(".")
    if any(not label for label in labels):
        return f"the domain {domain!r} has an empty label (a leading, trailing or doubled dot)", None
    a_labels: list[str] = []
    for label in labels:
        if label.isascii():
            a_label = label.lower()
        else:
            try:
                a_label = idna.encode(label, uts46=True).decode("ascii")
            except (idna.IDNAError, UnicodeError, ValueError):
                return f"the domain {domain!r} is not a valid internationalised name", None
        if len(a_label) > MAX_LABEL_LENGTH or not _LDH_LABEL.fullmatch(a_label):
            return f"the domain {domain!r} has an invalid label {label!r}", None
        a_labels.append(a_label)
    if a_labels[-1].isdigit():
        return f"the domain {domain!r} ends in a numeric label", None
    joined = ".".join(a_labels)
    if len(joined) > MAX_DOMAIN_LENGTH:
        return f"the domain is longer than {MAX_DOMAIN_LENGTH} characters", None
    return None, joined


def _is_ip_like(domain: str) -> bool:
    """Tell whether a domain is a dotted-quad IP address."""
    return bool(re.fullmatch(r"\d{1,3}(?:\.\d{1,3}){3}", domain))


# --- Phone ---------------------------------------------------------------------------------------


def _phone_findings(phone: str, country: str, default_region: str) -> list[Finding]:
    """Check that a phone number is there and is a possible, valid number."""
    value = phone.strip()
    if not value:
        return [Finding("phone.missing", "phone", phone, "The contact's phone number is missing.")]
    # A number written without its country code is read in the contact's own country, if known.
    region = (
        country.strip().upper()
        if country.strip().upper() in phonenumbers.SUPPORTED_REGIONS
        else default_region
    )
    evidence: dict[str, object] = {"region": region}
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as error:
        reason = _PARSE_ERRORS.get(error.error_type, "it cannot be read as a phone number")
        evidence["reason"] = reason
    else:
        if phonenumbers.is_valid_number(number):
            return []
        reason = "it is not a valid number in any numbering plan"
        evidence["reason"] = reason
        evidence["parsed"] = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return [
        Finding(
            "phone.invalid",
            "phone",
            phone,
            f"The contact's phone number {phone!r} is invalid: {reason}.",
            evidence,
        )
    ]


_PARSE_ERRORS: dict[int, str] = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "its country code is missing or unknown",
    phonenumbers.NumberParseException.NOT_A_NUMBER: "it is not a phone number",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "it is too short after the international prefix",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "it is too short",
    phonenumbers.NumberParseException.TOO_LONG: "it is too long",
}


# --- Names ---------------------------------------------------------------------------------------

# Legitimate ways of withholding a name (WHOIS privacy): never placeholders.
_PRIVACY = frozenset(
    {
        "private person",
        "private individual",
        "частное лицо",
        "физическое лицо",
        "жеке тұлға",
        "redacted for privacy",
        "data protected",
        "whois privacy",
        "privacy protected",
        "not disclosed",
    }
)
# Whole values that stand for "no name".
_PLACEHOLDER_VALUES = frozenset(
    {
        "n a",
        "na",
        "none",
        "null",
        "nil",
        "unknown",
        "no name",
        "noname",
        "name",
        "нет",
        "нету",
        "не указано",
        "неизвестно",
        "имя",
        "фио",
        "иванов иван иванович",
        "иванов иван",
        "иван иванов",
        "ivanov ivan ivanovich",
        "ivanov ivan",
        "ivan ivanov",
        "вася пупкин",
        "пупкин василий",
        "john doe",
        "jane doe",
    }
)
# Words that, alone or only with each other and digits, make a test or keyboard-mash value.
_PLACEHOLDER_WORDS = frozenset(
    {
        "test",
        "tests",
        "testing",
        "tester",
        "тест",
        "тестовый",
        "asdf",
        "asdfg",
        "asdfgh",
        "asd",
        "qwe",
        "qwerty",
        "qwertyuiop",
        "zxcv",
        "йцукен",
        "фыва",
        "xxx",
        "aaa",
        "sample",
        "example",
        "dummy",
        "fake",
    }
)
# Values an individual's record puts in the organization field to say "none": not a placeholder there.
_NO_ORGANIZATION = frozenset({"", "n a", "na", "none", "нет", "не указано", "private person", "частное лицо"})


def _name_findings(name: str, organization: str) -> list[Finding]:
    """Check the name, or the organization when there is no personal name."""
    if name.strip():
        field, value = "name", name
    elif _key(organization) not in _NO_ORGANIZATION:
        field, value = "organization", organization
    else:
        return [
            Finding(
                "name.missing",
                "name",
                name,
                "The contact has neither a name nor an organization.",
                {"organization": organization},
            )
        ]
    reason = placeholder_reason(value)
    if reason is None:
        return []
    return [
        Finding(
            "name.placeholder",
            field,
            value,
            f"The contact's {field} {value!r} looks like a placeholder: {reason}.",
            {"reason": reason},
        )
    ]


def _key(value: str) -> str:
    """Normalise a value for comparison: case-folded, ё as е, punctuation as single spaces."""
    folded = unicodedata.normalize("NFKC", value).casefold().replace("ё", "е")
    return " ".join(re.sub(r"[\W_]+", " ", folded).split())


def placeholder_reason(value: str) -> str | None:
    """Return why a name looks like a placeholder, or None when it may be real."""
    key = _key(value)
    if key in _PRIVACY:
        return None
    letters = [char for char in key if char.isalpha()]
    if not letters:
        return "it is digits only" if any(char.isdigit() for char in key) else "it has no letters"
    if len(letters) > 1 and len(set(letters)) == 1:
        return "it is one character repeated"
    if len(letters) == 1 and ord(letters[0]) < 0x0530:
        # A lone Latin, Greek or Cyrillic letter is an initial at most; one CJK character may be a name.
        return "it is a single letter"
    if key in _PLACEHOLDER_VALUES:
        return "it is a stock stand-in for a name"
    words = [word.rstrip("0123456789") for word in key.split()]
    if all(not word or word in _PLACEHOLDER_WORDS for word in words):
        return "it is made of test or keyboard words"
    return None
