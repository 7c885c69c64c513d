"""`zonewarden doctor`: is this deployment able to do its work? One function per check.

Each check returns (status, message): `ok`, `warn` (works, but look at it) or `fail` (something
zonewarden needs does not work), and a sentence an operator can act on. The checks talk to the
real servers — the database, the SMTP server, the DNS servers — but change nothing: no mail is
sent, and the DNS probe is an UPDATE whose prerequisite can never hold.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import ipaddress
import smtplib
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import dns.tsig
import dns.update
import holidays
from django.conf import settings
from django.core import checks as django_checks
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.utils import DNS_NAME
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django.utils.module_loading import import_string

from zonewarden import clock

Status = Literal["ok", "warn", "fail"]
OK: Status = "ok"
WARN: Status = "warn"
FAIL: Status = "fail"
Finding = tuple[Status, str]
_RANK: dict[Status, int] = {OK: 0, WARN: 1, FAIL: 2}

SINK_BACKEND = "zonewarden.notices.sink.SinkBackend"
# settings.py's stand-in when ZONEWARDEN_SECRET_KEY is not set (the embedded mode only).
EMBEDDED_SECRET_KEY = "zonewarden-embedded-insecure-key-set-ZONEWARDEN_SECRET_KEY"  # noqa: S105
SYSTEM_RESOLV_CONF = "/etc/resolv.conf"


@dataclass(frozen=True)
class Result:
    name: str
    status: Status
    message: str


def worst(statuses: Iterable[Status]) -> Status:
    """Return the most serious of the statuses (ok when there are none)."""
    return max(statuses, key=_RANK.__getitem__, default=OK)


def _combine(findings: Sequence[Finding]) -> Finding:
    return worst(status for status, _ in findings), "; ".join(message for _, message in findings)


def _age(delta: dt.timedelta) -> str:
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 120:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h {minutes % 60} min"
    return f"{hours // 24} days {hours % 24} h"


def _moment(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M:%S %Z")


def _endpoint(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


# --- settings ---------------------------------------------------------------------------------


def _first_sentence(text: str) -> str:
    return str(text).partition(". ")[0].rstrip(".")


def tsig_problems() -> list[str]:
    """List what keeps the rfc2136 publisher from signing its UPDATEs (empty: nothing)."""
    problems = []
    name = settings.ZONEWARDEN_DNS_TSIG_NAME
    secret = settings.ZONEWARDEN_DNS_TSIG_SECRET
    if not name:
        problems.append("rfc2136 publishes without a key: set ZONEWARDEN_DNS_TSIG_NAME (and its secret)")
    if not secret:
        problems.append("rfc2136 publishes without a key: set ZONEWARDEN_DNS_TSIG_SECRET (base64)")
        return problems
    try:
        decoded = base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError) as exc:
        problems.append(f"ZONEWARDEN_DNS_TSIG_SECRET is not base64 ({exc})")
        return problems
    try:
        dns.tsig.get_context(dns.tsig.Key(name or "key.", decoded, settings.ZONEWARDEN_DNS_TSIG_ALGORITHM))
    except (NotImplementedError, dns.exception.DNSException, ValueError):
        problems.append(
            f"ZONEWARDEN_DNS_TSIG_ALGORITHM={settings.ZONEWARDEN_DNS_TSIG_ALGORITHM!r} is not a TSIG "
            "algorithm (use hmac-sha256, hmac-sha512, …)"
        )
    return problems


def check_settings() -> Finding:
    """Run Django's system checks (with the deployment checks in production) and zonewarden's own."""
    from zonewarden.publish.publishers import PUBLISHERS, server

    failures: list[str] = []
    warnings: list[str] = []
    for message in django_checks.run_checks(include_deployment_checks=settings.PRODUCTION):
        text = f"{message.id}: {_first_sentence(message.msg)}"
        if message.level >= django_checks.ERROR:
            failures.append(text)
        elif message.level >= django_checks.WARNING:
            warnings.append(text)

    publishers = list(settings.ZONEWARDEN_PUBLISHERS)
    unknown = [name for name in publishers if name not in PUBLISHERS]
    if unknown:
        failures.append(
            f"ZONEWARDEN_PUBLISHERS names unknown publishers {', '.join(unknown)} "
            f"(known: {', '.join(sorted(PUBLISHERS))})"
        )
    if not publishers:
        warnings.append("ZONEWARDEN_PUBLISHERS is empty: suspensions are recorded but reach no DNS")
    if "rfc2136" in publishers:
        failures += tsig_problems()
        try:
            server()
        except ValueError:
            failures.append(f"ZONEWARDEN_DNS_SERVER={settings.ZONEWARDEN_DNS_SERVER!r} is not address:port")
    try:
        configured_nameservers()
    except ValueError as exc:
        failures.append(str(exc))

    languages = dict(settings.LANGUAGES)
    for language in [*settings.ZONEWARDEN_NOTICE_LANGUAGES, settings.ZONEWARDEN_LETTER_LANGUAGE]:
        if language not in languages:
            failures.append(
                f"language {language!r} (ZONEWARDEN_NOTICE_LANGUAGES / ZONEWARDEN_LETTER_LANGUAGE) "
                f"is none of {', '.join(languages)}"
            )
    if settings.PRODUCTION:
        if settings.SECRET_KEY == EMBEDDED_SECRET_KEY:
            failures.append("ZONEWARDEN_SECRET_KEY is the embedded mode's public key: set a secret one")
        base_url = settings.ZONEWARDEN_BASE_URL
        if base_url.startswith("http://") or "127.0.0.1" in base_url or "localhost" in base_url:
            warnings.append(
                f"ZONEWARDEN_BASE_URL={base_url}: the links in notices should be the https:// "
                "address owners reach this system at"
            )
    if settings.ZONEWARDEN_CLOCK is not None:
        warnings.append(
            f"ZONEWARDEN_CLOCK replays time ({settings.ZONEWARDEN_CLOCK}): deadlines do not run on the real time"
        )

    if failures:
        return FAIL, "; ".join(failures + warnings)
    if warnings:
        return WARN, "; ".join(warnings)
    scope = "" if settings.PRODUCTION else " (ZONEWARDEN_PRODUCTION is off: no deployment checks)"
    return OK, f"Django's system checks and zonewarden's settings found nothing to fix{scope}"


# --- database ---------------------------------------------------------------------------------


def check_database() -> Finding:
    """Check that the database answers a query and has every migration applied."""
    connection = connections[DEFAULT_DB_ALIAS]
    where = f"{connection.display_name} database {connection.settings_dict['NAME']!s}"
    if connection.settings_dict.get("HOST"):
        where += (
            f" on {connection.settings_dict['HOST']}:{connection.settings_dict.get('PORT') or 'default port'}"
        )
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - whatever the driver raises, the database is out of reach
        return FAIL, f"cannot reach the {where}: {str(exc).strip() or type(exc).__name__}"
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = [f"{migration.app_label}.{migration.name}" for migration, _ in plan]
        listed = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        return FAIL, f"the {where} lacks {len(names)} migration(s) ({listed}): run `zonewarden migrate`"
    ours = {app for app, _ in executor.loader.graph.nodes}
    unknown = sorted(
        f"{app}.{name}"
        for app, name in executor.loader.applied_migrations
        if app in ours and (app, name) not in executor.loader.graph.nodes
    )
    if unknown:
        return WARN, (
            f"the {where} has migrations this zonewarden does not know ({', '.join(unknown[:5])}): "
            "was it migrated by a newer version?"
        )
    return OK, f"the {where} answers and has every migration applied"


# --- mail -------------------------------------------------------------------------------------


def check_mail() -> Finding:
    """Check where mail goes: the SMTP server must greet us (EHLO, STARTTLS, login — no mail sent)."""
    backend_path = settings.EMAIL_BACKEND
    try:
        backend_class = import_string(backend_path)
    except ImportError as exc:
        return FAIL, f"EMAIL_BACKEND {backend_path!r} (ZONEWARDEN_EMAIL_BACKEND) cannot be imported: {exc}"
    if isinstance(backend_class, type) and issubclass(backend_class, SMTPBackend):
        return probe_smtp(SMTPBackend(fail_silently=False))
    status = WARN if settings.PRODUCTION else OK
    if backend_path == SINK_BACKEND:
        tail = ": in production set ZONEWARDEN_SMTP_HOST" if settings.PRODUCTION else ""
        return status, (
            "no ZONEWARDEN_SMTP_HOST: notices go to the embedded mail sink (/mail/) and reach nobody" + tail
        )
    return (
        status,
        f"mail goes to {backend_path} (ZONEWARDEN_EMAIL_BACKEND), not an SMTP server doctor can check",
    )


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


def probe_smtp(backend: SMTPBackend) -> Finding:
    """Connect to the backend's SMTP server, EHLO, STARTTLS and log in as configured, then QUIT."""
    # connection_class and ssl_context are what Django's backend itself connects with (the stubs
    # do not list them), so the probe takes the path a notice takes up to the first MAIL FROM.
    smtp: Any = backend
    where = f"SMTP server {backend.host}:{backend.port}"
    status: Status = OK
    steps = []
    params: dict[str, Any] = {"local_hostname": DNS_NAME.get_fqdn()}
    if backend.timeout is not None:
        params["timeout"] = backend.timeout
    if backend.use_ssl:
        params["context"] = smtp.ssl_context
    try:
        connection = smtp.connection_class(backend.host, backend.port, **params)
    except (OSError, smtplib.SMTPException) as exc:
        return FAIL, f"cannot connect to the {where}: {exc}: notices wait in the outbox until it answers"
    try:
        code, reply = connection.ehlo()
        if code != 250:
            return FAIL, f"the {where} answered EHLO with {code} {_text(reply)}"
        steps.append(f"greets as {_text(reply).splitlines()[0]}")
        if backend.use_tls:
            connection.starttls(context=smtp.ssl_context)
            connection.ehlo()
            steps.append("STARTTLS done")
        if backend.username and backend.password:
            connection.login(backend.username, backend.password)
            steps.append(f"logged in as {backend.username}")
        elif backend.username:
            status = WARN
            steps.append(f"no login: ZONEWARDEN_SMTP_USER={backend.username} has no password")
    except smtplib.SMTPAuthenticationError as exc:
        return (
            FAIL,
            f"the {where} refused the login of {backend.username}: {exc.smtp_code} {_text(exc.smtp_error)}",
        )
    except smtplib.SMTPNotSupportedError as exc:
        return FAIL, f"the {where} does not offer what is configured: {exc}"
    except (OSError, smtplib.SMTPException) as exc:
        return FAIL, f"the {where} broke off the conversation: {exc or type(exc).__name__}"
    finally:
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            connection.close()
    return status, f"the {where} answers: {', '.join(steps)} (no mail sent)"


# --- DNS publishing ---------------------------------------------------------------------------


def probe_zone(zone: str) -> Finding:
    """Check that the authoritative server serves `zone` and accepts our key's UPDATEs (changing nothing)."""
    # The publisher's own key and server, so the probe signs exactly as a suspension would.
    from zonewarden.publish.publishers import PublishError, _keyring, server

    try:
        host, port = server()
    except ValueError:
        return FAIL, f"ZONEWARDEN_DNS_SERVER={settings.ZONEWARDEN_DNS_SERVER!r} is not address:port"
    where = _endpoint(host, port)
    timeout = settings.ZONEWARDEN_DNS_TIMEOUT
    origin = dns.name.from_text(zone.strip("."))
    label = origin.to_text()
    try:
        answer = dns.query.udp(dns.message.make_query(origin, "SOA"), host, port=port, timeout=timeout)
    except (OSError, dns.exception.DNSException) as exc:
        return (
            FAIL,
            f"{label}: no answer from the DNS server {where} within {timeout} s ({exc or type(exc).__name__})",
        )
    soa = answer.get_rrset(answer.answer, origin, dns.rdataclass.IN, dns.rdatatype.SOA)
    if answer.rcode() != dns.rcode.NOERROR or not answer.flags & dns.flags.AA or soa is None:
        said = dns.rcode.to_text(answer.rcode()) + (
            "" if answer.flags & dns.flags.AA else ", not authoritative"
        )
        return FAIL, f"{label}: the DNS server {where} does not serve this zone (it answered {said})"
    serial = soa[0].serial
    try:
        keyring, keyname, algorithm = _keyring()
    except PublishError as exc:
        return FAIL, f"{label}: {exc}"
    key = f"key {keyname.to_text(omit_final_dot=True)}" if keyname else "no key (unsigned)"
    update = dns.update.UpdateMessage(
        origin, keyring=keyring, keyname=keyname, keyalgorithm=algorithm or dns.tsig.default_algorithm
    )
    # The prerequisite "the zone's apex does not exist" never holds (the SOA is there): a server
    # that authorises us answers YXDOMAIN, and the UPDATE carries no change to apply anyway.
    update.absent(origin)
    try:
        response = dns.query.tcp(update, host, port=port, timeout=timeout)
    except dns.tsig.PeerBadSignature:
        return FAIL, (
            f"{label}: {where} rejected the signature of {key} (BADSIG): ZONEWARDEN_DNS_TSIG_SECRET "
            "is not the secret the server has for this key"
        )
    except dns.tsig.PeerBadKey:
        return FAIL, f"{label}: {where} does not know {key} or does not let it update this zone (BADKEY)"
    except dns.tsig.PeerBadTime:
        return (
            FAIL,
            f"{label}: {where} rejected {key} because this machine's clock differs from its own (BADTIME)",
        )
    except dns.tsig.PeerError as exc:
        return FAIL, f"{label}: {where} rejected {key} ({type(exc).__name__})"
    except (OSError, EOFError, dns.exception.Timeout) as exc:
        return (
            FAIL,
            f"{label}: no answer from {where} to an UPDATE within {timeout} s ({exc or type(exc).__name__})",
        )
    except dns.exception.DNSException as exc:
        return FAIL, f"{label}: {where} answered our signed UPDATE with a message we cannot trust: {exc}"
    code = response.rcode()
    if code == dns.rcode.YXDOMAIN:
        return OK, f"{label}: {where} serves it (SOA serial {serial}) and accepts UPDATEs signed with {key}"
    text = dns.rcode.to_text(code)
    if code in (dns.rcode.NOTAUTH, dns.rcode.REFUSED):
        return (
            FAIL,
            f"{label}: {where} refuses UPDATEs signed with {key} ({text}): look at its ACL for the zone",
        )
    if code == dns.rcode.NOERROR:
        return (
            FAIL,
            f"{label}: {where} reported an UPDATE whose prerequisite cannot hold as applied: it ignores prerequisites",
        )
    return FAIL, f"{label}: {where} answered {text} to an UPDATE signed with {key}"


def probe_folder(folder: Path) -> Finding:
    """Check that the zone files' folder exists (or can be made) and takes a new file."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".zonewarden-doctor-", suffix=".tmp"):
            pass
    except OSError as exc:
        return FAIL, f"zone files cannot be written to {folder}: {exc.strerror or exc}"
    return OK, f"zone files are written to {folder} (writable)"


def check_publishing() -> Finding:
    """Check that every configured publisher can reach the DNS: server and key, or the files' folder."""
    publishers = set(settings.ZONEWARDEN_PUBLISHERS)
    findings: list[Finding] = []
    if "rfc2136" in publishers:
        findings += [probe_zone(zone) for zone in settings.ZONEWARDEN_ZONES]
    if publishers & {"zonefile", "rpz"}:
        findings.append(probe_folder(Path(settings.ZONEWARDEN_ZONEFILE_DIR)))
    if not findings:
        return WARN, "no publisher configured (ZONEWARDEN_PUBLISHERS): suspensions reach no DNS"
    return _combine(findings)


# --- the checker's resolver -------------------------------------------------------------------


def parse_nameserver(entry: str) -> tuple[str, int]:
    """Return (address, port) of `address`, `address:port` or `[IPv6]:port`; ValueError names the entry."""
    text = entry.strip()
    port = "53"
    if text.startswith("["):
        address, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"ZONEWARDEN_CHECK_NAMESERVERS entry {entry!r}: write IPv6 as [::1]:53")
        port = rest[1:] or port
    elif text.count(":") == 1:
        address, port = text.split(":")
    else:
        address = text
    try:
        ipaddress.ip_address(address)
    except ValueError:
        raise ValueError(
            f"ZONEWARDEN_CHECK_NAMESERVERS entry {entry!r}: {address!r} is not an IP address"
        ) from None
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"ZONEWARDEN_CHECK_NAMESERVERS entry {entry!r}: {port!r} is not a port")
    return address, int(port)


def configured_nameservers() -> list[tuple[str, int]]:
    """Return the checker's nameservers from ZONEWARDEN_CHECK_NAMESERVERS (empty: use the system's)."""
    raw: object = getattr(settings, "ZONEWARDEN_CHECK_NAMESERVERS", [])
    entries: Iterable[object] = raw.split(",") if isinstance(raw, str) else raw  # type: ignore[assignment]
    found = []
    for entry in entries:
        if isinstance(entry, tuple) and len(entry) == 2:  # already parsed by the settings
            found.append((str(entry[0]), int(entry[1])))
        elif str(entry).strip():
            found.append(parse_nameserver(str(entry)))
    return found


def system_nameservers(filename: str = SYSTEM_RESOLV_CONF) -> list[tuple[str, int]]:
    """Return the nameservers of the system's resolver configuration (no query is sent)."""
    resolver = dns.resolver.Resolver(filename=filename, configure=True)
    return [(str(address), resolver.port) for address in resolver.nameservers]


def ask_nameserver(address: str, port: int, zone: str) -> tuple[bool, str]:
    """Ask one nameserver for the zone's SOA: (answered, what it said)."""
    where = _endpoint(address, port)
    timeout = settings.ZONEWARDEN_DNS_TIMEOUT
    origin = dns.name.from_text(zone.strip("."))
    try:
        answer = dns.query.udp(dns.message.make_query(origin, "SOA"), address, port=port, timeout=timeout)
    except dns.exception.Timeout:
        return False, f"{where} did not answer within {timeout} s"
    except (OSError, dns.exception.DNSException) as exc:
        return False, f"{where} did not answer ({exc or type(exc).__name__})"
    soa = answer.get_rrset(answer.answer, origin, dns.rdataclass.IN, dns.rdatatype.SOA)
    serial = f" (serial {soa[0].serial})" if soa is not None else ""
    return True, f"{where} answered {dns.rcode.to_text(answer.rcode())} for {origin.to_text()} SOA{serial}"


def check_resolver() -> Finding:
    """Check that the resolver the re-checks use answers a query (any DNS answer counts)."""
    if not settings.ZONEWARDEN_CHECK_DNS:
        return WARN, (
            "ZONEWARDEN_CHECK_DNS is off: re-checks resolve only the names in ZONEWARDEN_CHECK_HOSTS "
            "and find every other site unreachable"
        )
    try:
        nameservers = configured_nameservers()
    except ValueError as exc:
        return FAIL, str(exc)
    source = "ZONEWARDEN_CHECK_NAMESERVERS"
    if not nameservers:
        source = SYSTEM_RESOLV_CONF
        try:
            nameservers = system_nameservers()
        except (OSError, dns.exception.DNSException) as exc:
            return (
                FAIL,
                f"no nameserver in {SYSTEM_RESOLV_CONF} and none in ZONEWARDEN_CHECK_NAMESERVERS ({exc})",
            )
    zone = settings.ZONEWARDEN_ZONES[0]
    results = [ask_nameserver(address, port, zone) for address, port in nameservers]
    said = "; ".join(text for _, text in results)
    answered = sum(1 for ok, _ in results if ok)
    if answered == len(results):
        return OK, f"the checker's resolver ({source}) answers: {said}"
    if answered:
        return WARN, f"some of the checker's nameservers ({source}) are silent: {said}"
    return (
        FAIL,
        f"the checker's resolver ({source}) does not answer: {said}: re-checks cannot resolve any name",
    )


# --- worker -----------------------------------------------------------------------------------


def check_worker() -> Finding:
    """Check that a worker beat within two tick periods."""
    from zonewarden.jobs.heartbeat import alive_within, alive_workers, last_heartbeat

    now = clock.now()
    within = alive_within()
    alive = alive_workers(now, within)
    if alive:
        latest = alive[0]
        others = f" and {len(alive) - 1} more" if len(alive) > 1 else ""
        return OK, f"worker {latest.name}{others} alive: last beat {_age(now - latest.beat_at)} ago"
    last = last_heartbeat()
    if last is None:
        return FAIL, (
            "no worker has ever run on this database: start `zonewarden worker` (or `zonewarden serve`); "
            "without it no notice is sent and no case moves on"
        )
    if last.stopped_at is not None and now - last.stopped_at <= within:
        # A worker was alive within the window (`worker --once`, a restart): nothing is stuck yet.
        return WARN, (
            f"no worker is running now: the last one, {last.name}, stopped cleanly "
            f"{_age(now - last.stopped_at)} ago; run `zonewarden worker` as a service"
        )
    if last.stopped_at is not None:
        return FAIL, (
            f"no worker is running: the last one, {last.name}, stopped at {_moment(last.stopped_at)} "
            f"({_age(now - last.stopped_at)} ago): start `zonewarden worker`"
        )
    return FAIL, (
        f"no worker is alive: the last beat, from {last.name} at {_moment(last.beat_at)}, is "
        f"{_age(now - last.beat_at)} old (alive means within {_age(within)}): it died or hangs; "
        "start `zonewarden worker`"
    )


# --- calendar ---------------------------------------------------------------------------------


def check_calendar() -> Finding:
    """Check that the calendar knows this year's and next year's holidays and transfers."""
    from zonewarden.workdays.models import ExtraDay

    country = settings.ZONEWARDEN_CALENDAR_COUNTRY
    this_year = clock.today().year
    notes: list[str] = []
    missing: list[str] = []
    for year in (this_year, this_year + 1):
        try:
            known = holidays.country_holidays(country, years=year)
        except NotImplementedError:
            return (
                FAIL,
                f"the holidays package does not know the country {country!r} (ZONEWARDEN_CALENDAR_COUNTRY)",
            )
        if not known:
            return FAIL, (
                f"the holidays package knows no {country} holidays for {year}: upgrade it "
                "(pip install --upgrade holidays) or enter the year's days off with `zonewarden workdays off`"
            )
        # A government transfer moves a day off onto a weekday and makes a weekend day a working
        # day; the package lists those weekend days (for the years it knows the decrees of).
        from_package = sum(1 for day in getattr(known, "weekend_workdays", ()) if day.year == year)
        from_admin = ExtraDay.objects.filter(date__year=year).count()
        if from_package or from_admin:
            parts = []
            if from_package:
                parts.append(f"{from_package} worked weekend day(s) from the holidays package")
            if from_admin:
                parts.append(f"{from_admin} administrator's extra day(s)")
            notes.append(f"{year}: {len(known)} holidays, transfers known ({' and '.join(parts)})")
        elif year == this_year:
            missing.append(
                f"{year}: no transfer days known — enter this year's transfer decree with `zonewarden workdays off|on`"
            )
        else:
            missing.append(
                f"{year}: no transfer days known yet — once the government publishes next year's transfer "
                "decree, enter it with `zonewarden workdays off|on`"
            )
    if missing:
        return WARN, "; ".join(missing + notes)
    return OK, f"{country} calendar: " + "; ".join(notes)


CHECKS: list[tuple[str, Callable[[], Finding]]] = [
    ("settings", check_settings),
    ("database", check_database),
    ("mail", check_mail),
    ("publishing", check_publishing),
    ("resolver", check_resolver),
    ("worker", check_worker),
    ("calendar", check_calendar),
]


def run(checks: Sequence[tuple[str, Callable[[], Finding]]] = CHECKS) -> list[Result]:
    """Run every check; a check that breaks is a failure of its own, never the end of the others."""
    results = []
    for name, check in checks:
        try:
            status, message = check()
        except DatabaseError as exc:
            status, message = FAIL, f"cannot read what it needs from the database: {str(exc).strip()}"
        except Exception as exc:  # noqa: BLE001 - doctor reports what broke and goes on
            status, message = FAIL, f"the check itself broke: {type(exc).__name__}: {exc}"
        results.append(Result(name, status, message))
    return results
