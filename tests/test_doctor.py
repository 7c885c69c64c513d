"""`zonewarden doctor` against real loopback servers: Knot, aiosmtpd and the suite's database."""

from __future__ import annotations

import datetime as dt
import io
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from tests.conftest import almaty
from tests.knot import SECRET, Knot, knot  # noqa: F401 - knot is the fixture
from tests.smtpserver import Handler, SMTPServer, free_port, smtp_server
from zonewarden import clock, doctor
from zonewarden.jobs import heartbeat
from zonewarden.workdays.models import ExtraDay

if TYPE_CHECKING:
    from pytest_django import Settings

pytestmark = pytest.mark.django_db
NOW = almaty(2024, 6, 3, 10)  # the holidays package knows 2024's and 2025's transfers
WRONG_SECRET = "d3Jvbmctc2VjcmV0LTAxMjM0NTY3ODlhYmNkZWYwMTI="
NAMES = ["settings", "database", "mail", "publishing", "resolver", "worker", "calendar"]


def free_udp_port() -> int:
    """A loopback UDP port nothing listens on (bound for a moment, then let go)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp(settings: Settings) -> Iterator[SMTPServer]:
    with smtp_server() as server:
        for name, value in server.settings().items():
            setattr(settings, name, value)
        yield server


@pytest.fixture
def knot_settings(knot: Knot, settings: Settings, tmp_path: Path) -> Knot:  # noqa: F811
    for name, value in knot.settings().items():
        setattr(settings, name, value)
    settings.ZONEWARDEN_ZONES = ["kz"]
    settings.ZONEWARDEN_ZONEFILE_DIR = str(tmp_path / "zones")
    settings.ZONEWARDEN_DNS_TIMEOUT = 1
    return knot


@pytest.fixture
def everything_green(smtp: SMTPServer, knot_settings: Knot, settings: Settings) -> Iterator[None]:
    settings.ZONEWARDEN_CHECK_DNS = True
    settings.ZONEWARDEN_CHECK_NAMESERVERS = [f"127.0.0.1:{knot_settings.port}"]
    heartbeat.start("host:1", NOW - dt.timedelta(seconds=30))
    with clock.frozen(NOW):
        yield


_system_nameservers = doctor.system_nameservers


@pytest.fixture(autouse=True)
def _never_the_system_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    """No DNS query may leave the machine: a test that forgets its loopback nameservers fails."""

    def refuse(filename: str = doctor.SYSTEM_RESOLV_CONF) -> list[tuple[str, int]]:
        raise AssertionError("a test asked for the system's resolver")

    monkeypatch.setattr(doctor, "system_nameservers", refuse)


def doctor_output(*args: str) -> tuple[str, CommandError | None]:
    out = io.StringIO()
    try:
        call_command("doctor", *args, stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


# --- the command ------------------------------------------------------------------------------


def test_a_healthy_deployment_is_all_ok_and_exits_0(everything_green: None) -> None:
    output, error = doctor_output()
    assert error is None
    lines = output.splitlines()
    assert [line.split()[:2] for line in lines] == [["ok", name] for name in NAMES]
    assert "accepts UPDATEs signed with key zonewarden" in output
    assert "worker host:1 alive: last beat 30 s ago" in output


def test_a_failed_check_exits_1_and_the_others_still_run(everything_green: None, settings: Settings) -> None:
    settings.EMAIL_PORT = free_port()  # nothing listens there
    output, error = doctor_output()
    assert error is not None and error.returncode == 1
    assert str(error) == "1 of 7 checks failed: mail"
    assert [line.split()[0] for line in output.splitlines()] == ["ok", "ok", "fail", "ok", "ok", "ok", "ok"]


def test_warnings_alone_exit_0(everything_green: None, settings: Settings) -> None:
    settings.ZONEWARDEN_CHECK_DNS = False
    output, error = doctor_output()
    assert error is None
    assert "warn  resolver" in output


def test_the_process_exit_status_is_1_on_a_failure(settings: Settings, capsys: Any, tmp_path: Path) -> None:
    from zonewarden.cases.management.commands.doctor import Command

    settings.ZONEWARDEN_CHECK_DNS = False
    settings.ZONEWARDEN_ZONEFILE_DIR = str(tmp_path)
    with pytest.raises(SystemExit) as exited:  # no worker has ever run
        Command().run_from_argv(["zonewarden", "doctor"])
    assert exited.value.code == 1
    assert "CommandError: " in capsys.readouterr().err


def test_json_is_one_object_of_checks_and_ok(everything_green: None, settings: Settings) -> None:
    output, error = doctor_output("--json")
    document = json.loads(output)
    assert error is None and document["ok"] is True
    assert set(document) == {"checks", "ok"}
    assert [check["name"] for check in document["checks"]] == NAMES
    assert all(set(check) == {"name", "status", "message"} for check in document["checks"])
    settings.ZONEWARDEN_DNS_TSIG_SECRET = WRONG_SECRET
    output, error = doctor_output("--json")
    document = json.loads(output)
    assert error is not None and document["ok"] is False
    assert {c["name"]: c["status"] for c in document["checks"]}["publishing"] == "fail"


def test_a_check_that_breaks_is_a_failure_and_the_rest_go_on() -> None:
    def broken() -> doctor.Finding:
        raise RuntimeError("surprise")

    results = doctor.run([("broken", broken), ("fine", lambda: (doctor.OK, "fine"))])
    assert results == [
        doctor.Result("broken", "fail", "the check itself broke: RuntimeError: surprise"),
        doctor.Result("fine", "ok", "fine"),
    ]


# --- settings ---------------------------------------------------------------------------------


def test_the_test_settings_are_sound() -> None:
    assert doctor.check_settings()[0] == "ok"


def test_settings_name_unknown_publishers_and_a_missing_or_broken_tsig_key(settings: Settings) -> None:
    settings.ZONEWARDEN_PUBLISHERS = ["rfc2136", "bind9"]
    settings.ZONEWARDEN_DNS_TSIG_NAME = ""
    settings.ZONEWARDEN_DNS_TSIG_SECRET = "not base64!"
    status, message = doctor.check_settings()
    assert status == "fail"
    assert "unknown publishers bind9 (known: rfc2136, rpz, zonefile)" in message
    assert "set ZONEWARDEN_DNS_TSIG_NAME" in message
    assert "ZONEWARDEN_DNS_TSIG_SECRET is not base64" in message
    settings.ZONEWARDEN_PUBLISHERS = ["rfc2136"]
    settings.ZONEWARDEN_DNS_TSIG_NAME = "zonewarden"
    settings.ZONEWARDEN_DNS_TSIG_SECRET = ""
    assert doctor.check_settings() == (
        "fail",
        "rfc2136 publishes without a key: set ZONEWARDEN_DNS_TSIG_SECRET (base64)",
    )
    settings.ZONEWARDEN_DNS_TSIG_SECRET = SECRET
    settings.ZONEWARDEN_DNS_TSIG_ALGORITHM = "hmac-md4"
    assert "'hmac-md4' is not a TSIG algorithm" in doctor.check_settings()[1]


def test_a_django_system_check_error_fails_and_a_warning_warns(settings: Settings) -> None:
    settings.LANGUAGE_CODE = "de"  # not among LANGUAGES: translation.E004
    status, message = doctor.check_settings()
    assert status == "fail" and "translation.E004" in message
    settings.LANGUAGE_CODE = "en"
    settings.PRODUCTION = True  # the deployment checks join in: these settings lack HSTS
    status, message = doctor.check_settings()
    assert status == "fail"
    assert "ZONEWARDEN_SECRET_KEY is the embedded mode's public key: set a secret one" in message
    settings.SECRET_KEY = "a-deployment's-own-secret-" + "".join(chr(65 + n) for n in range(40))
    status, message = doctor.check_settings()
    assert status == "warn"
    assert "security.W004: You have not set a value for the SECURE_HSTS_SECONDS setting;" in message
    assert "security.W004" in message
    assert "ZONEWARDEN_BASE_URL=http://127.0.0.1:8000" in message


def test_bad_checker_nameservers_are_a_settings_failure(settings: Settings) -> None:
    settings.ZONEWARDEN_CHECK_NAMESERVERS = ["127.0.0.1", "resolver.example"]
    status, message = doctor.check_settings()
    assert status == "fail"
    assert "ZONEWARDEN_CHECK_NAMESERVERS entry 'resolver.example'" in message


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("127.0.0.1", ("127.0.0.1", 53)),
        (" 127.0.0.2:5353 ", ("127.0.0.2", 5353)),
        ("[::1]:5300", ("::1", 5300)),
        ("[::1]", ("::1", 53)),
        ("::1", ("::1", 53)),
    ],
)
def test_nameserver_entries(entry: str, expected: tuple[str, int]) -> None:
    assert doctor.parse_nameserver(entry) == expected


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ("ns1.example", "is not an IP address"),
        ("[::1", "write IPv6 as [::1]:53"),
        ("[::1]53", "write IPv6 as [::1]:53"),
        ("127.0.0.1:99999", "is not a port"),
        ("127.0.0.1:dns", "is not a port"),
    ],
)
def test_bad_nameserver_entries_are_named(entry: str, complaint: str) -> None:
    with pytest.raises(ValueError) as refused:
        doctor.parse_nameserver(entry)
    assert str(refused.value).startswith(f"ZONEWARDEN_CHECK_NAMESERVERS entry {entry!r}: ")
    assert complaint in str(refused.value)


def test_the_system_nameservers_come_from_resolv_conf(tmp_path: Path) -> None:
    conf = tmp_path / "resolv.conf"
    conf.write_text("search example\nnameserver 127.0.0.53\nnameserver ::1\n", encoding="utf-8")
    assert _system_nameservers(str(conf)) == [("127.0.0.53", 53), ("::1", 53)]


# --- database ---------------------------------------------------------------------------------


def test_the_database_answers_and_is_migrated() -> None:
    status, message = doctor.check_database()
    assert status == "ok" and message.endswith("answers and has every migration applied")
    assert connection.display_name in message


def test_an_unapplied_migration_fails_and_says_to_migrate() -> None:
    loader = MigrationLoader(connection)
    [(app, latest)] = [node for node in loader.graph.leaf_nodes() if node[0] == "jobs"]
    MigrationRecorder(connection).record_unapplied(app, latest)  # rolled back with the test
    status, message = doctor.check_database()
    assert status == "fail"
    assert f"lacks 1 migration(s) (jobs.{latest}): run `zonewarden migrate`" in message


def test_a_migration_this_version_does_not_know_warns() -> None:
    MigrationRecorder(connection).record_applied("jobs", "9999_from_the_future")
    status, message = doctor.check_database()
    assert status == "warn" and "jobs.9999_from_the_future" in message


# --- mail -------------------------------------------------------------------------------------


def test_the_smtp_server_greets_and_no_mail_is_sent(smtp: SMTPServer) -> None:
    status, message = doctor.check_mail()
    assert status == "ok"
    assert message.startswith(f"the SMTP server 127.0.0.1:{smtp.port} answers: greets as ")
    assert message.endswith("(no mail sent)")
    assert smtp.received == []


def test_an_smtp_port_with_nothing_listening_fails(smtp: SMTPServer, settings: Settings) -> None:
    port = free_port()
    settings.EMAIL_PORT = port
    status, message = doctor.check_mail()
    assert status == "fail"
    assert message.startswith(f"cannot connect to the SMTP server 127.0.0.1:{port}: ")
    assert "refused" in message.lower()


@pytest.fixture
def smtp_with_login(settings: Settings) -> Iterator[int]:
    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        right = auth_data.login == b"cert" and auth_data.password == b"right"
        return AuthResult(success=right, handled=False, auth_data=auth_data)

    port = free_port()
    controller = Controller(
        Handler(), hostname="127.0.0.1", port=port, authenticator=authenticate, auth_require_tls=False
    )
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    settings.EMAIL_HOST_USER = "cert"
    try:
        yield port
    finally:
        controller.stop()


def test_the_smtp_login_is_tried_and_a_refusal_names_the_user(
    smtp_with_login: int, settings: Settings
) -> None:
    settings.EMAIL_HOST_PASSWORD = "right"
    status, message = doctor.check_mail()
    assert status == "ok" and "logged in as cert" in message
    settings.EMAIL_HOST_PASSWORD = "wrong"
    status, message = doctor.check_mail()
    assert status == "fail"
    assert message.startswith(f"the SMTP server 127.0.0.1:{smtp_with_login} refused the login of cert: 535")
    settings.EMAIL_HOST_PASSWORD = ""
    assert doctor.check_mail()[0] == "warn"


def test_the_embedded_sink_is_ok_except_in_production(settings: Settings) -> None:
    settings.EMAIL_BACKEND = doctor.SINK_BACKEND
    status, message = doctor.check_mail()
    assert status == "ok" and "embedded mail sink" in message
    settings.PRODUCTION = True
    assert doctor.check_mail()[0] == "warn"


# --- DNS publishing ---------------------------------------------------------------------------


@pytest.mark.dns
def test_knot_serves_the_zone_and_accepts_the_key_and_nothing_changes(
    knot_settings: Knot, settings: Settings
) -> None:
    zone_before = (knot_settings.folder / "zones" / "kz.zone").read_text(encoding="utf-8")
    assert knot_settings.serial() == 1
    status, message = doctor.check_publishing()
    assert status == "ok", message
    assert (
        f"kz.: 127.0.0.1:{knot_settings.port} serves it (SOA serial 1) and accepts UPDATEs signed with key zonewarden"
        in message
    )
    assert "zone files are written to" in message
    assert knot_settings.serial() == 1
    assert knot_settings.nameservers("shop.kz") == ["ns1.shop.kz"]
    assert (knot_settings.folder / "zones" / "kz.zone").read_text(encoding="utf-8") == zone_before
    assert list(Path(settings.ZONEWARDEN_ZONEFILE_DIR).iterdir()) == []  # the probe file is gone


@pytest.mark.dns
def test_a_wrong_tsig_secret_fails_naming_the_key(knot_settings: Knot, settings: Settings) -> None:
    settings.ZONEWARDEN_DNS_TSIG_SECRET = WRONG_SECRET
    status, message = doctor.check_publishing()
    assert status == "fail"
    assert "rejected the signature of key zonewarden (BADSIG)" in message
    assert knot_settings.serial() == 1


@pytest.mark.dns
def test_a_key_the_server_does_not_know_fails(knot_settings: Knot, settings: Settings) -> None:
    settings.ZONEWARDEN_DNS_TSIG_NAME = "someone-else"
    status, message = doctor.check_publishing()
    assert status == "fail"
    assert "does not know key someone-else or does not let it update this zone (BADKEY)" in message


@pytest.mark.dns
def test_a_zone_knot_does_not_serve_fails_and_names_it(knot_settings: Knot, settings: Settings) -> None:
    settings.ZONEWARDEN_ZONES = ["kz", "xn--80ao21a"]
    status, message = doctor.check_publishing()
    assert status == "fail"
    assert "kz.: 127.0.0.1" in message and "accepts UPDATEs" in message
    assert (
        f"xn--80ao21a.: the DNS server 127.0.0.1:{knot_settings.port} does not serve this zone "
        "(it answered REFUSED, not authoritative)"
    ) in message


def test_a_dns_server_with_nothing_listening_fails(settings: Settings, tmp_path: Path) -> None:
    port = free_udp_port()
    settings.ZONEWARDEN_PUBLISHERS = ["rfc2136"]
    settings.ZONEWARDEN_DNS_SERVER = f"127.0.0.1:{port}"
    settings.ZONEWARDEN_DNS_TSIG_NAME, settings.ZONEWARDEN_DNS_TSIG_SECRET = "zonewarden", SECRET
    settings.ZONEWARDEN_ZONES = ["kz"]
    settings.ZONEWARDEN_DNS_TIMEOUT = 1
    assert doctor.check_publishing() == (
        "fail",
        f"kz.: no answer from the DNS server 127.0.0.1:{port} within 1 s (The DNS operation timed out.)",
    )


def test_a_zone_file_folder_that_cannot_be_written_fails(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    settings.ZONEWARDEN_PUBLISHERS = ["zonefile", "rpz"]
    settings.ZONEWARDEN_ZONEFILE_DIR = str(tmp_path / "a-file" / "zones")
    status, message = doctor.check_publishing()
    assert status == "fail"
    assert message == f"zone files cannot be written to {tmp_path / 'a-file' / 'zones'}: Not a directory"


# --- the checker's resolver -------------------------------------------------------------------


@pytest.mark.dns
def test_a_nameserver_that_answers_is_ok(knot: Knot, settings: Settings) -> None:  # noqa: F811
    settings.ZONEWARDEN_CHECK_DNS = True
    settings.ZONEWARDEN_CHECK_NAMESERVERS = [f"127.0.0.1:{knot.port}"]
    settings.ZONEWARDEN_ZONES = ["kz", "xn--80ao21a"]
    assert doctor.check_resolver() == (
        "ok",
        f"the checker's resolver (ZONEWARDEN_CHECK_NAMESERVERS) answers: 127.0.0.1:{knot.port} answered "
        "NOERROR for kz. SOA (serial 1)",
    )
    settings.ZONEWARDEN_ZONES = ["xn--80ao21a"]  # any answer counts, a refusal too
    status, message = doctor.check_resolver()
    assert status == "ok" and "answered REFUSED for xn--80ao21a. SOA" in message


@pytest.mark.dns
def test_one_silent_nameserver_of_two_warns(knot: Knot, settings: Settings) -> None:  # noqa: F811
    silent = free_udp_port()
    settings.ZONEWARDEN_CHECK_DNS = True
    settings.ZONEWARDEN_CHECK_NAMESERVERS = f"127.0.0.1:{knot.port}, 127.0.0.1:{silent}"
    settings.ZONEWARDEN_DNS_TIMEOUT = 1
    status, message = doctor.check_resolver()
    assert status == "warn"
    assert f"127.0.0.1:{silent} did not answer within 1 s" in message


def test_a_resolver_with_nothing_listening_fails(settings: Settings) -> None:
    silent = free_udp_port()
    settings.ZONEWARDEN_CHECK_DNS = True
    settings.ZONEWARDEN_CHECK_NAMESERVERS = [f"127.0.0.1:{silent}"]
    settings.ZONEWARDEN_DNS_TIMEOUT = 1
    assert doctor.check_resolver() == (
        "fail",
        f"the checker's resolver (ZONEWARDEN_CHECK_NAMESERVERS) does not answer: 127.0.0.1:{silent} did "
        "not answer within 1 s: re-checks cannot resolve any name",
    )


def test_no_dns_lookups_for_the_checker_is_a_warning(settings: Settings) -> None:
    settings.ZONEWARDEN_CHECK_DNS = False
    status, message = doctor.check_resolver()
    assert status == "warn" and "ZONEWARDEN_CHECK_HOSTS" in message


# --- worker -----------------------------------------------------------------------------------


def test_no_worker_ever_fails_and_says_how_to_start_one() -> None:
    status, message = doctor.check_worker()
    assert status == "fail" and "no worker has ever run" in message and "`zonewarden worker`" in message


def test_a_worker_is_alive_within_two_ticks(settings: Settings) -> None:
    settings.ZONEWARDEN_TICK_SECONDS = 60
    heartbeat.start("host:1", NOW - dt.timedelta(seconds=119))
    with clock.frozen(NOW):
        assert doctor.check_worker() == ("ok", "worker host:1 alive: last beat 119 s ago")
    with clock.frozen(NOW + dt.timedelta(minutes=3)):
        assert doctor.check_worker() == (
            "fail",
            "no worker is alive: the last beat, from host:1 at 2024-06-03 09:58:01 +05, is 4 min old "
            "(alive means within 2 min): it died or hangs; start `zonewarden worker`",
        )
    settings.ZONEWARDEN_TICK_SECONDS = 600  # a slower tick waits longer
    with clock.frozen(NOW + dt.timedelta(minutes=3)):
        assert doctor.check_worker()[0] == "ok"


def test_a_stopped_worker_fails_naming_when_it_stopped() -> None:
    heartbeat.start("host:1", NOW - dt.timedelta(hours=3))
    heartbeat.stop("host:1", NOW - dt.timedelta(hours=2))
    with clock.frozen(NOW):
        assert doctor.check_worker() == (
            "fail",
            "no worker is running: the last one, host:1, stopped at 2024-06-03 08:00:00 +05 (2 h 0 min ago): "
            "start `zonewarden worker`",
        )


def test_a_worker_that_stopped_within_two_ticks_is_a_warning(settings: Settings) -> None:
    settings.ZONEWARDEN_TICK_SECONDS = 60
    heartbeat.start("host:1", NOW - dt.timedelta(seconds=30))
    heartbeat.stop("host:1", NOW - dt.timedelta(seconds=20))
    with clock.frozen(NOW):
        assert doctor.check_worker() == (
            "warn",
            "no worker is running now: the last one, host:1, stopped cleanly 20 s ago; "
            "run `zonewarden worker` as a service",
        )


# --- calendar ---------------------------------------------------------------------------------


def test_years_whose_transfers_the_package_knows_are_ok() -> None:
    with clock.frozen(NOW):
        status, message = doctor.check_calendar()
    assert status == "ok"
    assert "2024: " in message and "2025: " in message and "from the holidays package" in message


def test_next_year_without_transfers_warns_until_the_decree_is_entered() -> None:
    ExtraDay.objects.create(date=dt.date(2040, 1, 2), kind=ExtraDay.Kind.DAY_OFF)
    with clock.frozen(almaty(2040, 11, 2, 10)):
        status, message = doctor.check_calendar()
        assert status == "warn"
        assert message.startswith("2041: no transfer days known yet")
        assert "`zonewarden workdays off|on`" in message
        assert "2040: " in message and "1 administrator's extra day(s)" in message
        call_command("workdays", "on", "2041-01-05", "--note", "decree", stdout=io.StringIO())
        assert doctor.check_calendar()[0] == "ok"


def test_this_year_without_transfers_says_to_enter_this_years_decree() -> None:
    with clock.frozen(almaty(2040, 3, 2, 10)):
        status, message = doctor.check_calendar()
    assert status == "warn"
    assert message.startswith(
        "2040: no transfer days known — enter this year's transfer decree with `zonewarden workdays off|on`"
    )


def test_a_year_without_any_holidays_fails(settings: Settings) -> None:
    with clock.frozen(almaty(1900, 6, 1)):
        status, message = doctor.check_calendar()
    assert status == "fail" and "knows no KZ holidays for 1900" in message
    settings.ZONEWARDEN_CALENDAR_COUNTRY = "XX"
    with clock.frozen(NOW):
        assert doctor.check_calendar()[0] == "fail"
