"""`zonewarden whois` against a real TCP WHOIS server on loopback: the JSON contract, the cache, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from zonewarden.domains.models import Domain, WhoisAnswer
from zonewarden.whois.testserver import WhoisTestServer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("defaults")]
SAMPLES = Path(__file__).resolve().parent / "samples"
REGISTERED = (SAMPLES / "current_statuses_ipv6.txt").read_text(encoding="utf-8")
UNICODE = (SAMPLES / "current_unicode_zoneless.txt").read_text(encoding="utf-8")
LEGACY = (SAMPLES / "legacy_blank_modified.txt").read_text(encoding="utf-8")
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
        WhoisTestServer({"tulpar-sauda.kz": REGISTERED, IDN: UNICODE, "dala-kitap.kz": LEGACY}) as running,
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


def test_the_json_keys_and_values_are_the_contract(server: WhoisTestServer) -> None:
    answer = whois("tulpar-sauda.kz")

    assert set(answer) == CONTRACT
    assert answer == {
        "found": True,
        "domain": "tulpar-sauda.kz",
        "registrar": "PS.KZ",
        "registrar_created": "HOSTER.KZ",
        "registrant": {
            "name": "Serikbayev Arman",
            "organization": "Tulpar Sauda LLP",
            "street": "Abai ave. 10, office 5",
            "city": "Almaty",
            "state": None,
            "postal_code": "050000",
            "country": "KZ",
        },
        "admin": {
            "name": "Serikbayev Arman",
            "organization": "Tulpar Sauda LLP",
            "phone": "+77010000000",
            "fax": None,
            "email": "admin@tulpar-sauda.kz",
        },
        "nameservers": [
            {"name": "ns1.tulpar-hosting.kz", "addresses": ["192.0.2.53", "2001:db8:10::53"]},
            {"name": "ns2.tulpar-hosting.kz", "addresses": ["2001:db8:20::53"]},
        ],
        "statuses": ["clientTransferProhibited", "clientDeleteProhibited", "clientRenewProhibited"],
        "created": "2019-04-02T08:15:00+00:00",
        "modified": "2025-06-30T23:59:59+00:00",
        "raw": REGISTERED,
    }


def test_status_lines_continued_on_indented_lines_and_a_blank_modified_date(server: WhoisTestServer) -> None:
    answer = whois("dala-kitap.kz")

    assert answer["statuses"] == [
        "clientDeleteProhibited",
        "clientUpdateProhibited",
        "clientTransferProhibited",
    ]
    assert answer["modified"] is None
    assert answer["created"] == "2009-02-10T12:00:00+06:00"
    assert answer["registrar"] == "HOSTER.KZ" and answer["registrar_created"] == "KAZNIC"


def test_unicode_names_are_converted_and_nothing_found_is_an_answer(server: WhoisTestServer) -> None:
    assert whois("Мысал.Қаз")["domain"] == IDN
    assert server.queries[-1] == IDN
    missing = whois("no-such-name.kz")
    assert set(missing) == CONTRACT
    assert missing["found"] is False and missing["domain"] == "no-such-name.kz"
    assert missing["registrar"] is None and missing["nameservers"] == [] and missing["statuses"] == []


def test_answers_are_cached_with_their_time_and_fresh_asks_again(server: WhoisTestServer) -> None:
    whois("tulpar-sauda.kz")
    whois("tulpar-sauda.kz")
    assert server.queries == ["tulpar-sauda.kz"]

    whois("tulpar-sauda.kz", "--fresh")

    assert server.queries == ["tulpar-sauda.kz", "tulpar-sauda.kz"]
    stored = WhoisAnswer.objects.filter(domain="tulpar-sauda.kz").order_by("fetched_at")
    assert stored.count() == 2
    assert all(answer.raw == REGISTERED for answer in stored)
    assert stored[0].fetched_at <= stored[1].fetched_at


def test_update_brings_the_stored_domain_up_to_date(server: WhoisTestServer) -> None:
    whois("tulpar-sauda.kz")
    assert not Domain.objects.filter(pk="tulpar-sauda.kz").exists()  # a look-up alone changes nothing

    out = StringIO()
    call_command("whois", "tulpar-sauda.kz", "--update", stdout=out)

    assert "the stored domain was brought up to date" in out.getvalue()
    stored = Domain.objects.get(pk="tulpar-sauda.kz")
    assert stored.notice_email == "admin@tulpar-sauda.kz"
    assert stored.registrar is not None and stored.registrar.name == "PS.KZ"
    assert server.queries == ["tulpar-sauda.kz"]  # the stored answer was used


def test_the_human_output_names_the_server_and_whether_the_answer_was_stored(server: WhoisTestServer) -> None:
    first, second = StringIO(), StringIO()
    call_command("whois", "tulpar-sauda.kz", stdout=first)
    call_command("whois", "tulpar-sauda.kz", stdout=second)

    assert f"127.0.0.1:{server.port}" in first.getvalue()
    assert "admin@tulpar-sauda.kz" in first.getvalue()
    assert "stored answer" not in first.getvalue() and "stored answer" in second.getvalue()
    missing = StringIO()
    call_command("whois", "no-such-name.kz", stdout=missing)
    assert "no-such-name.kz: nothing found" in missing.getvalue()


def test_a_server_that_does_not_answer_in_time_is_a_clear_error() -> None:
    with (
        WhoisTestServer({}, delay=5) as slow,
        override_settings(ZONEWARDEN_WHOIS_TIMEOUT=0.3, ZONEWARDEN_WHOIS_INTERVAL=0.0),
    ):
        out = StringIO()
        with pytest.raises(
            CommandError,
            match=rf"WHOIS server 127\.0\.0\.1:{slow.port} did not finish answering within 0.3 s",
        ):
            call_command("whois", "x.kz", "--server", f"127.0.0.1:{slow.port}", "--json", stdout=out)
    assert "did not finish answering" in json.loads(out.getvalue())["error"]
    assert not WhoisAnswer.objects.exists()


def test_a_bad_name_or_server_is_refused_before_any_query() -> None:
    with pytest.raises(CommandError, match="not a valid domain name"):
        call_command("whois", "not a name!", stdout=StringIO())
    with pytest.raises(CommandError, match="port must be a number"):
        call_command("whois", "x.kz", "--server", "127.0.0.1:port", stdout=StringIO())
    with pytest.raises(CommandError, match=r"no WHOIS server is configured for \.com"):
        call_command("whois", "example.com", stdout=StringIO())
