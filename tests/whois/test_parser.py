"""The .kz WHOIS parser on the project's own invented answers, in both server layouts."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from zonewarden.whois.parser import (
    AdminContact,
    NameServer,
    Registrant,
    WhoisRecord,
    parse_kz_whois,
    parse_whois_time,
    to_alabel,
)

SAMPLES = Path(__file__).resolve().parent / "samples"
UTC = dt.UTC
PLUS5 = dt.timezone(dt.timedelta(hours=5))
PLUS6 = dt.timezone(dt.timedelta(hours=6))


def sample(name: str) -> str:
    """Return one of the invented answers in tests/whois/samples."""
    return (SAMPLES / name).read_text(encoding="utf-8")


def test_current_layout_gives_registrant_admin_registrars_and_times() -> None:
    record = parse_kz_whois(sample("current_statuses_ipv6.txt"), "tulpar-sauda.kz")

    assert record.found is True
    assert record.domain == "tulpar-sauda.kz"
    assert record.registrar == "PS.KZ"
    assert record.registrar_created == "HOSTER.KZ"
    assert record.registrant == Registrant(
        name="Serikbayev Arman",
        organization="Tulpar Sauda LLP",
        street="Abai ave. 10, office 5",
        city="Almaty",
        state=None,
        postal_code="050000",
        country="KZ",
    )
    assert record.admin == AdminContact(
        name="Serikbayev Arman",
        organization="Tulpar Sauda LLP",
        phone="+77010000000",
        fax=None,
        email="admin@tulpar-sauda.kz",
    )
    assert record.created == dt.datetime(2019, 4, 2, 8, 15, tzinfo=UTC)
    assert record.modified == dt.datetime(2025, 6, 30, 23, 59, 59, tzinfo=UTC)


def test_status_explanation_continued_on_an_indented_line_is_not_taken_for_a_status() -> None:
    record = parse_kz_whois(sample("current_statuses_ipv6.txt"), "tulpar-sauda.kz")

    assert "name" not in record.statuses
    assert record.statuses[0] == "clientTransferProhibited"


def test_several_statuses_on_one_line_are_all_read_and_urls_are_dropped() -> None:
    record = parse_kz_whois(sample("current_statuses_ipv6.txt"), "tulpar-sauda.kz")

    assert record.statuses == ("clientTransferProhibited", "clientDeleteProhibited", "clientRenewProhibited")


def test_ipv4_and_ipv6_addresses_are_listed_with_their_name_server() -> None:
    record = parse_kz_whois(sample("current_statuses_ipv6.txt"), "tulpar-sauda.kz")

    assert record.nameservers == (
        NameServer("ns1.tulpar-hosting.kz", ("192.0.2.53", "2001:db8:10::53")),
        NameServer("ns2.tulpar-hosting.kz", ("2001:db8:20::53",)),
    )


def test_unicode_domain_in_the_answer_matches_a_unicode_query_and_comes_out_as_a_label() -> None:
    record = parse_kz_whois(sample("current_unicode_zoneless.txt"), "МЫСАЛ.ҚАЗ")

    assert record.found is True
    assert record.domain == "xn--80awbu3c.xn--80ao21a"
    assert record.statuses == ("serverHold",)
    assert record.admin.email == "erlan@мысал.қаз"
    assert record.registrant.organization == "«Мысал» ЖШС"


def test_unicode_name_server_is_given_as_its_a_label() -> None:
    record = parse_kz_whois(sample("current_unicode_zoneless.txt"), "xn--80awbu3c.xn--80ao21a")

    assert record.nameservers == (NameServer(to_alabel("нс1.мысал.қаз"), ("203.0.113.10",)),)


def test_times_without_a_zone_are_almaty_time_plus6_before_march_2024_and_plus5_after() -> None:
    record = parse_kz_whois(sample("current_unicode_zoneless.txt"), "мысал.қаз")

    assert record.to_json()["created"] == "2023-11-20T10:00:00+06:00"
    assert record.to_json()["modified"] == "2024-03-15T09:30:00+05:00"


def test_legacy_layout_gives_contacts_name_servers_and_misspelt_registrars() -> None:
    record = parse_kz_whois(sample("legacy_blank_modified.txt"), "dala-kitap.kz")

    assert record.found is True
    assert record.registrar == "HOSTER.KZ"
    assert record.registrar_created == "KAZNIC"
    assert record.registrant.name == "Ospanova Dana"
    assert record.registrant.organization == "Dala Kitap"
    assert record.registrant.city == "Shymkent"
    assert record.admin == AdminContact(
        name="Ospanova Dana", organization=None, phone="+7-7252-000000", fax=None, email="dana@dala-kitap.kz"
    )
    assert record.nameservers == (
        NameServer("ns1.dala-host.kz", ("2001:db8:aa::1", "198.51.100.7")),
        NameServer("ns2.dala-host.kz", ("198.51.100.8",)),
        NameServer("ns3.dala-host.kz", ("2001:db8:bb::3",)),
    )


def test_legacy_statuses_continue_on_indented_lines_until_the_blank_line() -> None:
    record = parse_kz_whois(sample("legacy_blank_modified.txt"), "dala-kitap.kz")

    assert record.statuses == ("clientDeleteProhibited", "clientUpdateProhibited", "clientTransferProhibited")


def test_blank_last_modified_is_null_and_an_old_zoneless_time_is_almaty_plus6() -> None:
    record = parse_kz_whois(sample("legacy_blank_modified.txt"), "dala-kitap.kz")

    assert record.modified is None
    assert record.created == dt.datetime(2009, 2, 10, 12, tzinfo=PLUS6)
    assert record.to_json()["created"] == "2009-02-10T12:00:00+06:00"


@pytest.mark.parametrize("name", ["current_notfound.txt", "legacy_notfound.txt"])
def test_nothing_found_answers_in_both_layouts_are_not_found(name: str) -> None:
    raw = sample(name)

    record = parse_kz_whois(raw, "no-such-name.kz")

    assert record == WhoisRecord(found=False, domain="no-such-name.kz", raw=raw)


def test_an_html_page_is_not_found() -> None:
    record = parse_kz_whois(sample("hostile_html.txt"), "tulpar-sauda.kz")

    assert record.found is False
    assert record.nameservers == ()


def test_garbage_fields_are_dropped_and_the_first_domain_line_wins() -> None:
    record = parse_kz_whois(sample("hostile_garbage.txt"), "tulpar-sauda.kz")

    assert record.found is True
    assert record.domain == "tulpar-sauda.kz"
    assert record.nameservers == (NameServer("ns1.tulpar-hosting.kz", ()),)
    assert record.statuses == ()
    assert record.created is None  # 30 February, hour 25, GMT+99
    assert record.modified is None  # a zone we do not know is not guessed at
    assert record.registrar is None
    assert record.registrant == Registrant()


def test_an_answer_about_another_name_is_not_found_and_lends_it_no_contacts() -> None:
    record = parse_kz_whois(sample("current_statuses_ipv6.txt"), "other-name.kz")

    assert record.found is False
    assert record.domain == "other-name.kz"
    assert record.admin.email is None
    assert record.registrar is None


def test_control_characters_are_taken_out_of_fields_but_kept_in_raw() -> None:
    raw = sample("current_statuses_ipv6.txt").replace(
        "admin@tulpar-sauda.kz", "admin@\x00tulpar-sauda.kz\x1b[2J"
    )

    record = parse_kz_whois(raw, "tulpar-sauda.kz")

    assert record.admin.email == "admin@tulpar-sauda.kz[2J"
    assert record.raw == raw


def test_crlf_line_ends_read_like_lf() -> None:
    raw = sample("legacy_blank_modified.txt").replace("\n", "\r\n")

    record = parse_kz_whois(raw, "dala-kitap.kz")

    assert record.statuses == ("clientDeleteProhibited", "clientUpdateProhibited", "clientTransferProhibited")
    assert record.registrar == "HOSTER.KZ"


def test_status_names_come_out_in_epp_spelling_and_a_registry_status_of_its_own_is_kept() -> None:
    upper = "Domain Name: tulpar-sauda.kz\nDomain status: CLIENTHOLD - held\n"
    own = "Domain Name: tulpar-sauda.kz\nDomain status: frozenByCourt - court order 12/2026, see\n"

    assert parse_kz_whois(upper, "tulpar-sauda.kz").statuses == ("clientHold",)
    assert parse_kz_whois(own, "tulpar-sauda.kz").statuses == ("frozenByCourt",)


def test_to_json_has_exactly_the_contract_keys_and_survives_json_dumps() -> None:
    data = parse_kz_whois(sample("current_statuses_ipv6.txt"), "tulpar-sauda.kz").to_json()

    assert list(data) == [
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
    ]
    assert list(data["registrant"]) == [
        "name",
        "organization",
        "street",
        "city",
        "state",
        "postal_code",
        "country",
    ]
    assert list(data["admin"]) == ["name", "organization", "phone", "fax", "email"]
    assert data["nameservers"][0] == {
        "name": "ns1.tulpar-hosting.kz",
        "addresses": ["192.0.2.53", "2001:db8:10::53"],
    }
    assert data["created"] == "2019-04-02T08:15:00+00:00"
    assert json.loads(json.dumps(data)) == data


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1999-08-17 21:34:57 (GMT+0:00)", dt.datetime(1999, 8, 17, 21, 34, 57, tzinfo=UTC)),
        ("2025-01-02 03:04:05 (GMT+5:00)", dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=PLUS5)),
        ("2025-01-02 03:04:05 (UTC)", dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2025-01-02T03:04:05Z", dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)),
        (
            "2025-01-02 03:04:05 -03:30",
            dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.timezone(-dt.timedelta(hours=3.5))),
        ),
        ("2010-10-04 17:24:09.0", dt.datetime(2010, 10, 4, 17, 24, 9, tzinfo=PLUS6)),
        ("2024-02-29 23:59:59", dt.datetime(2024, 2, 29, 23, 59, 59, tzinfo=PLUS6)),
        ("2024-03-01 00:00:00", dt.datetime(2024, 3, 1, tzinfo=PLUS5)),
        ("", None),
        ("   ", None),
        ("yesterday", None),
        ("2024-13-01 00:00:00", None),
        ("2024-01-01 00:00:00 (MSK)", None),
        ("2024-01-01 00:00:00 (GMT+15:00)", None),
        ("2024-01-01 00:00:00 (GMT+5:75)", None),
        ("２０２４-01-01 00:00:00", None),
    ],
)
def test_whois_times_are_read_with_the_zone_the_answer_gives(
    value: str, expected: dt.datetime | None
) -> None:
    parsed = parse_whois_time(value)

    assert parsed == expected
    # Equal datetimes may differ in offset; the offset the answer gave must be kept too.
    assert (parsed and parsed.utcoffset()) == (expected and expected.utcoffset())


@pytest.mark.parametrize(
    ("name", "alabel"),
    [
        ("мысал.қаз", "xn--80awbu3c.xn--80ao21a"),
        ("NIC.KZ.", "nic.kz"),
        ("  tulpar-sauda.kz\n", "tulpar-sauda.kz"),
        ("XN--80AWBU3C.XN--80AO21A", "xn--80awbu3c.xn--80ao21a"),
    ],
)
def test_names_are_converted_to_lower_case_a_labels(name: str, alabel: str) -> None:
    assert to_alabel(name) == alabel


@pytest.mark.parametrize(
    "name",
    [
        "",
        "   ",
        ".",
        "a..kz",
        "foo bar.kz",
        "-bad.kz",
        "x" * 64 + ".kz",
        "nic.kz\r\nevil.kz",
        "a" * 5000,
        "xn--zz.kz",
    ],
)
def test_invalid_names_raise_value_error_with_a_clear_message(name: str) -> None:
    with pytest.raises(ValueError, match=r"domain name"):
        to_alabel(name)


def test_addresses_written_on_the_name_server_line_are_listed_with_it() -> None:
    raw = (
        "Domain Name: tulpar-sauda.kz\nName Server list\nName Server: NS1.Tulpar.KZ.\t192.0.2.1 2001:db8::1\n"
    )

    record = parse_kz_whois(raw, "tulpar-sauda.kz")

    assert record.nameservers == (NameServer("ns1.tulpar.kz", ("192.0.2.1", "2001:db8::1")),)


def test_an_indented_registrar_line_ends_the_status_block_instead_of_being_lost() -> None:
    raw = "Domain Name: tulpar-sauda.kz\nDomain status : ok - \n                Current Registar: ICPS\n"

    record = parse_kz_whois(raw, "tulpar-sauda.kz")

    assert record.statuses == ("ok",)
    assert record.registrar == "ICPS"
