"""Checks through real DNS: the suite's Knot on loopback answers, sites listen on 127.0.0.2 and .3.

Names are put in Knot's kz. zone by signed dynamic UPDATE. The loopback range is allow-listed only
in the tests that need it. A safety net stops any connection to an address off loopback before a
packet is sent, and records every address aiohttp was handed, so a test can say nothing connected.
The last tests take the production default, the system's resolver, with `localhost` from
/etc/hosts: the regression tests for the crash in aiohttp 3.14's resolver.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import aiohappyeyeballs
import dns.message
import dns.query
import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from tests.checks.webserver import Answer, WebServer, web_server
from tests.conftest import almaty
from tests.knot import Knot
from zonewarden.checks.models import Check
from zonewarden.checks.resolver import GuardedResolver
from zonewarden.checks.service import check_url
from zonewarden.checks.service import fetch as check_fetch

pytestmark = [pytest.mark.dns]
PAGES = Path(__file__).parent / "pages"
ALLOWED, OTHER = "127.0.0.2", "127.0.0.3"


@pytest.fixture(scope="module")
def site() -> Iterator[WebServer]:
    with web_server(ALLOWED, OTHER) as server:
        server.answers["/login.php"] = Answer((PAGES / "phish_login.html").read_bytes())
        yield server


@pytest.fixture(autouse=True)
def connections(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every address aiohttp is handed to connect to; one off loopback is stopped before any packet."""
    handed: list[str] = []
    real = aiohappyeyeballs.start_connection

    async def loopback_only(addr_infos: list[Any], **kwargs: Any) -> socket.socket:
        targets = [str(info[4][0]) for info in addr_infos]
        handed.extend(targets)
        outside = [target for target in targets if not ipaddress.ip_address(target).is_loopback]
        if outside:
            raise OSError(f"the test's safety net stopped a connection to {outside}")
        return await real(addr_infos, **kwargs)

    # aiohttp's connector calls it through the module, so this is what every connection passes.
    monkeypatch.setattr(aiohappyeyeballs, "start_connection", loopback_only)
    return handed


def knot_answer(knot: Knot, name: str) -> list[str]:
    response = dns.query.udp(dns.message.make_query(name + ".", "A"), "127.0.0.1", port=knot.port, timeout=2)
    return sorted(item.address for rrset in response.answer for item in rrset)


@pytest.mark.django_db
@pytest.mark.usefixtures("defaults")
def test_a_name_in_the_dns_pointing_at_an_allowed_server_is_fetched_and_judged(
    test_nameserver: Knot, site: WebServer, connections: list[str]
) -> None:
    test_nameserver.put("phish-a.kz", ALLOWED)
    before = len(site.reached)
    out = StringIO()
    with override_settings(ZONEWARDEN_CHECK_ALLOW=[f"{ALLOWED}/32"]):
        call_command("check", "--url", site.url("/login.php", "phish-a.kz"), "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert (result["verdict"], result["status"], result["credential_form"]) == ("present", 200, True)
    assert result["addresses"] == [ALLOWED]
    assert site.reached[before:] == [ALLOWED] and connections == [ALLOWED]


@pytest.mark.django_db
def test_an_incident_is_rechecked_by_id_through_the_dns(
    test_nameserver: Knot, site: WebServer, make_domain: Any, make_case: Any
) -> None:
    case = make_case(almaty(2026, 4, 1, 11), domain=make_domain("phish-b.kz"))
    incident = case.incidents.get()
    incident.url = site.url("/login.php", "phish-b.kz")
    incident.save(update_fields=["url"])
    test_nameserver.put("phish-b.kz", ALLOWED)
    out = StringIO()
    with override_settings(ZONEWARDEN_CHECK_ALLOW=[f"{ALLOWED}/32"]):
        call_command("check", str(incident.pk), "--json", stdout=out)
    [result] = json.loads(out.getvalue())
    assert (result["incident"], result["verdict"]) == (incident.pk, "present")
    assert Check.objects.get(incident=incident).addresses == [ALLOWED]


@pytest.mark.django_db
@pytest.mark.usefixtures("defaults")
def test_a_name_resolving_to_loopback_is_refused_when_not_allow_listed(
    test_nameserver: Knot, site: WebServer, connections: list[str]
) -> None:
    test_nameserver.put("loop.kz", ALLOWED)
    before = len(site.hits)
    errors = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("check", "--url", site.url("/login.php", "loop.kz"), stdout=StringIO(), stderr=errors)
    assert exit_info.value.code == 3
    assert "refused loop.kz: 127.0.0.2 is a loopback address" in errors.getvalue()
    assert connections == [] and len(site.hits) == before


def test_a_private_record_is_refused_before_any_connection(
    test_nameserver: Knot, connections: list[str]
) -> None:
    test_nameserver.put("intranet.kz", "10.0.0.1")
    # Loopback allowed or not, a private address never is.
    with override_settings(ZONEWARDEN_CHECK_ALLOW=["127.0.0.0/8"]):
        [result] = check_fetch(["http://intranet.kz/admin"])
    assert result.refused == "refused intranet.kz: 10.0.0.1 is a private address"
    assert result.status is None and result.addresses == ["10.0.0.1"]
    assert connections == []  # aiohttp was never handed the address: no packet went to 10.0.0.1


def test_of_an_allowed_and_a_refused_record_only_the_allowed_one_is_reached(
    test_nameserver: Knot, site: WebServer, connections: list[str]
) -> None:
    test_nameserver.put("mixed.kz", ALLOWED, OTHER)
    before = len(site.reached)
    with override_settings(ZONEWARDEN_CHECK_ALLOW=[f"{ALLOWED}/32"]):
        results = check_fetch([site.url(f"/login.php?n={number}", "mixed.kz") for number in range(6)])
    assert [result.status for result in results] == [200] * 6
    assert site.reached[before:] == [ALLOWED] * 6
    assert set(connections) == {ALLOWED}
    # The evidence names the address the answer came from first, then the refused one.
    assert results[0].addresses == [ALLOWED, OTHER]


def test_a_record_changed_between_check_and_connect_is_not_looked_up_again(
    test_nameserver: Knot, site: WebServer, connections: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    test_nameserver.put("rebind.kz", ALLOWED)
    lookups: list[str] = []
    real = GuardedResolver.resolve

    async def rebinding(self: GuardedResolver, host: str, port: int = 0, family: int = 0) -> Any:
        answers = await real(self, host, port, family)  # type: ignore[arg-type]
        lookups.append(host)
        # The attacker's move, after the guard vetted the answer and before aiohttp connects.
        await asyncio.to_thread(test_nameserver.put, "rebind.kz", OTHER)
        return answers

    monkeypatch.setattr(GuardedResolver, "resolve", rebinding)
    before = len(site.reached)
    with override_settings(ZONEWARDEN_CHECK_ALLOW=[f"{ALLOWED}/32"]):
        [result] = check_fetch([site.url("/login.php", "rebind.kz")])
        assert knot_answer(test_nameserver, "rebind.kz") == [OTHER]  # the record did change
        assert result.status == 200 and site.reached[before:] == [ALLOWED]
        assert lookups == ["rebind.kz"] and connections == [ALLOWED]
        # The next fetch looks the name up afresh and vets the new address: refused.
        [again] = check_fetch([site.url("/login.php", "rebind.kz")])
    assert again.refused == "refused rebind.kz: 127.0.0.3 is a loopback address"
    assert site.reached[before:] == [ALLOWED] and connections == [ALLOWED]


def test_a_redirect_to_another_name_is_resolved_and_vetted_again(
    test_nameserver: Knot, site: WebServer, connections: list[str]
) -> None:
    test_nameserver.put("hop-a.kz", ALLOWED)
    test_nameserver.put("hop-b.kz", OTHER)
    site.answers["/hop"] = Answer(status=302, headers={"Location": site.url("/login.php", "hop-b.kz")})
    before = len(site.reached)
    with override_settings(ZONEWARDEN_CHECK_ALLOW=[f"{ALLOWED}/32"]):
        [refused] = check_fetch([site.url("/hop", "hop-a.kz")])
    assert refused.refused == "refused hop-b.kz: 127.0.0.3 is a loopback address"
    assert refused.redirects == [{"url": site.url("/hop", "hop-a.kz"), "status": 302}]
    assert site.reached[before:] == [ALLOWED] and connections == [ALLOWED]
    with override_settings(ZONEWARDEN_CHECK_ALLOW=[f"{ALLOWED}/32", f"{OTHER}/32"]):
        [followed] = check_fetch([site.url("/hop", "hop-a.kz")])
    assert followed.status == 200 and followed.addresses == [OTHER]
    assert site.reached[before:] == [ALLOWED, ALLOWED, OTHER]


@pytest.mark.django_db
@pytest.mark.usefixtures("defaults")
def test_a_name_that_does_not_exist_is_unreachable(test_nameserver: Knot, connections: list[str]) -> None:
    with override_settings(ZONEWARDEN_CHECK_ALLOW=["127.0.0.0/8"]):
        check = check_url("http://no-such-name.kz/login.php")
    assert check.verdict == "unreachable"
    assert check.reason == "no-such-name.kz does not resolve: no such name (NXDOMAIN)"
    assert connections == []


@pytest.mark.django_db
@pytest.mark.usefixtures("defaults")
def test_a_nameserver_that_does_not_answer_makes_the_name_unreachable_in_time(
    connections: list[str],
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        silent = probe.getsockname()[1]
    started = time.monotonic()
    with override_settings(ZONEWARDEN_CHECK_NAMESERVERS=[f"127.0.0.1:{silent}"], ZONEWARDEN_CHECK_TIMEOUT=1):
        check = check_url("http://phish-a.kz/login.php")
    assert time.monotonic() - started < 3
    assert check.verdict == "unreachable"
    assert check.reason == "phish-a.kz does not resolve: no answer from the nameservers within 0.5 s"
    assert connections == []


@pytest.mark.django_db
@pytest.mark.usefixtures("defaults")
def test_a_nameserver_answering_garbage_makes_the_name_unreachable(connections: list[str]) -> None:
    hostile = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    hostile.bind(("127.0.0.1", 0))
    hostile.settimeout(5)

    def answer_garbage() -> None:
        # The query's id, the flags of an answer, then bytes that are no DNS message.
        with contextlib.suppress(OSError):
            while True:
                query, peer = hostile.recvfrom(512)
                hostile.sendto(query[:2] + b"\x81\x80\x00\x01\x00\x05" + b"\xff" * 40, peer)

    threading.Thread(target=answer_garbage, daemon=True).start()
    try:
        with override_settings(
            ZONEWARDEN_CHECK_NAMESERVERS=[f"127.0.0.1:{hostile.getsockname()[1]}"], ZONEWARDEN_CHECK_TIMEOUT=2
        ):
            check = check_url("http://phish-a.kz/login.php")
    finally:
        hostile.close()
    assert check.verdict == "unreachable" and check.reason.startswith("phish-a.kz does not resolve: ")
    assert connections == []


# --- the default: no nameservers configured, the system's resolver ------------------------------


def require_localhost_from_the_hosts_file() -> None:
    """Skip (fail under CI) unless `localhost` is answered by /etc/hosts, before any DNS server."""
    hosts = Path("/etc/hosts").read_text(encoding="utf-8") if Path("/etc/hosts").exists() else ""
    nsswitch = Path("/etc/nsswitch.conf")
    order = (
        next(
            (
                line.split()[1:]
                for line in nsswitch.read_text(encoding="utf-8").splitlines()
                if line.startswith("hosts:")
            ),
            ["files", "dns"],  # glibc's own default without the file
        )
        if nsswitch.exists()
        else ["files", "dns"]
    )
    named = any("localhost" in line.split("#")[0].split()[1:] for line in hosts.splitlines())
    if not named or order[:1] != ["files"]:
        reason = "localhost would be looked up in the DNS here (not in /etc/hosts, or files not first)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and {reason}")
        print(f"skipping: {reason}")
        pytest.skip(reason)


@pytest.mark.django_db
@pytest.mark.usefixtures("defaults")
def test_the_system_resolver_refuses_localhost_clearly(connections: list[str]) -> None:
    require_localhost_from_the_hosts_file()
    errors = StringIO()
    with (
        override_settings(ZONEWARDEN_CHECK_NAMESERVERS=[]),
        pytest.raises(SystemExit) as exit_info,
    ):
        call_command("check", "--url", "http://localhost:9/", stdout=StringIO(), stderr=errors)
    assert exit_info.value.code == 3
    assert "refused localhost: 127.0.0.1 is a loopback address" in errors.getvalue()
    assert Check.objects.get(url="http://localhost:9/").verdict == "refused"
    assert connections == []


@pytest.fixture
def database_url(transactional_db: None, defaults: None, tmp_path: Path) -> str:
    """The test database for a command run as its own process (SQLite's in-memory one, copied to a file)."""
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        path = tmp_path / "zonewarden.sqlite3"
        with sqlite3.connect(path) as target:
            connection.connection.backup(target)
        target.close()
        return f"sqlite:///{path}"
    settings = connection.settings_dict
    return f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"


def zonewarden(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = Path(sys.executable).parent / "zonewarden"  # the installed entry point, as an operator runs it
    return subprocess.run(
        [str(command), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def production_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ZONEWARDEN_")}
    env.pop("PYTEST_VERSION", None)  # the settings as a real installation reads them
    return {**env, "DATABASE_URL": database_url, "ZONEWARDEN_VAR_DIR": str(tmp_path), **extra}


def test_the_installed_command_refuses_loopback_with_the_default_resolver(
    database_url: str, tmp_path: Path
) -> None:
    require_localhost_from_the_hosts_file()
    env = production_env(database_url, tmp_path)  # no ZONEWARDEN_CHECK_NAMESERVERS: getaddrinfo
    for url, reason in [
        ("http://localhost:9/", "refused localhost: 127.0.0.1 is a loopback address"),
        ("http://127.0.0.1:9/", "refused 127.0.0.1: 127.0.0.1 is a loopback address"),
    ]:
        done = zonewarden("check", "--url", url, env=env)
        assert done.returncode == 3, done.stdout + done.stderr
        assert reason in done.stderr and "Traceback" not in done.stderr


def test_the_installed_command_judges_a_page_through_the_configured_nameserver(
    test_nameserver: Knot, site: WebServer, database_url: str, tmp_path: Path
) -> None:
    test_nameserver.put("phish-c.kz", ALLOWED)
    env = production_env(
        database_url,
        tmp_path,
        ZONEWARDEN_CHECK_NAMESERVERS=f"127.0.0.1:{test_nameserver.port}",
        ZONEWARDEN_CHECK_ALLOW=f"{ALLOWED}/32",
    )
    before = len(site.reached)
    done = zonewarden("check", "--url", site.url("/login.php", "phish-c.kz"), "--json", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert (result["verdict"], result["addresses"]) == ("present", [ALLOWED])
    assert site.reached[before:] == [ALLOWED]
