"""`zonewarden whois` against a real TCP WHOIS server on loopback: the JSON contract, the cache."""

from __future__ import annotations

import json
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from zonewarden.domains.models import Domain, WhoisAnswer
from zonewarden.domains.whois_lookup import apply_answer, lookup
from zonewarden.whois.testserver import WhoisTestServer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("defaults")]
SAMPLES = Path(__file__).resolve().parent / "samples"
REGISTERED = (SAMPLES / "current_statuses_ipv6.txt").read_text(encoding="utf-8")
UNICODE = (SAMPLES / "current_unicode_zoneless.txt").read_text(encoding="utf-8")
IDN = "xn--80awbu3c.xn--80ao21a"
CONTRACT = {
    "found",
    "domain",
    "registrar",
    "registrar_created",
    "registrant",
    "admin",
    "nameservers",
    "statuses",
    "created",
    "modified",
    "raw",
}


@pytest.fixture
def server() -> Iterator[WhoisTestServer]:
    with (
        WhoisTestServer({"tulpar-sauda.kz": REGISTERED, IDN: UNICODE}) as running,
        override_settings(
            ZONEWARDEN_WHOIS_SERVERS=[
                f"kz=127.0.0.1:{running.port}",
                f"xn--80ao21a=127.0.0.1:{running.port}",
            ],
            ZONEWARDEN_WHOIS_INTERVAL=0.0,
        ),
    ):
        yield running


def whois(*args: str) -> dict[str, object]:
    out = StringIO()
    call_command("whois", *args, "--json", stdout=out)
    return json.loads(out.getvalue())  # type: ignore[no-any-return]


def test_the_json_keys_are_the_contract(server: WhoisTestServer) -> None:
    answer = whois("tulpar-sauda.kz")
    assert set(answer) == CONTRACT
    assert answer["found"] is True and answer["domain"] == "tulpar-sauda.kz"
    assert answer["registrar"] == "PS.KZ" and answer["registrar_created"] == "HOSTER.KZ"
    assert answer["admin"]["email"] == "admin@tulpar-sauda.kz"  # type: ignore[index]
    assert "clientTransferProhibited" in answer["statuses"]  # type: ignore[operator]
    assert all(" " not in status for status in answer["statuses"])  # type: ignore[union-attr]
    assert answer["raw"] == REGISTERED


def test_unicode_names_are_converted_and_nothing_found_is_an_answer(server: WhoisTestServer) -> None:
    assert whois("Мысал.Қаз")["domain"] == IDN
    assert server.queries[-1] == IDN
    missing = whois("no-such-name.kz")
    assert missing["found"] is False and set(missing) == CONTRACT


def test_answers_are_cached_with_their_time_and_fresh_asks_again(server: WhoisTestServer) -> None:
    whois("tulpar-sauda.kz")
    whois("tulpar-sauda.kz")
    assert server.queries == ["tulpar-sauda.kz"]
    whois("tulpar-sauda.kz", "--fresh")
    assert server.queries == ["tulpar-sauda.kz", "tulpar-sauda.kz"]
    stored = WhoisAnswer.objects.filter(domain="tulpar-sauda.kz")
    assert stored.count() == 2 and stored.first().raw == REGISTERED  # type: ignore[union-attr]


def test_an_answer_updates_the_domain_and_its_notice_address(server: WhoisTestServer) -> None:
    domain = apply_answer(lookup("tulpar-sauda.kz"))
    assert domain is not None
    stored = Domain.objects.get(pk="tulpar-sauda.kz")
    assert stored.notice_email == "admin@tulpar-sauda.kz"
    assert stored.registrar is not None and stored.registrar.name == "PS.KZ"
    assert stored.nameservers and "clientTransferProhibited" in stored.statuses


def test_a_server_that_does_not_answer_is_a_clear_error() -> None:
    with (
        WhoisTestServer({}, delay=3) as slow,
        override_settings(ZONEWARDEN_WHOIS_TIMEOUT=1, ZONEWARDEN_WHOIS_INTERVAL=0.0),
    ):
        with pytest.raises(CommandError, match="127.0.0.1"):
            call_command("whois", "x.kz", "--server", f"127.0.0.1:{slow.port}", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("whois", "not a name!", stdout=StringIO())
