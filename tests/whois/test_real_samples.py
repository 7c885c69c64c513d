"""Conformance: real whois.nic.kz answers from the shared fixtures parse to the expected values.

The answers are not copied into the project (see SOURCES.md next to them); without the shared
folder these tests are skipped.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from zonewarden.whois.parser import NameServer, WhoisRecord, parse_kz_whois

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "real" / "whois-kz"
UTC = dt.UTC

pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=f"real WHOIS samples not found at {REAL}")


def parse(file_name: str, query: str) -> WhoisRecord:
    """Parse one real answer as the answer to `query`."""
    return parse_kz_whois((REAL / file_name).read_text(encoding="utf-8"), query)


def test_current_layout_nic_kz() -> None:
    record = parse("01_current-format_nic.kz_registered_recorded-2026-10-10.txt", "nic.kz")

    assert record.found is True
    assert record.domain == "nic.kz"
    assert record.registrar == "KAZNIC"
    assert record.registrar_created == "KAZNIC"
    assert record.statuses == ("ok",)
    assert record.nameservers == (
        NameServer("ns.nic.kz", ("194.0.21.5", "2001:678:98:1::5")),
        NameServer("ns.relcom.kz", ("80.241.0.65",)),
        NameServer("ns1.nic.kz", ("185.79.212.7", "2a01:7640:9000::7")),
    )
    assert record.created == dt.datetime(1999, 8, 17, 21, 34, 57, tzinfo=UTC)
    assert record.modified == dt.datetime(2022, 12, 5, 17, 28, 31, tzinfo=UTC)
    assert record.admin.email == "pg@nic.kz"
    assert record.admin.name == "Gussev, Pavel M."
    assert record.admin.phone == "+77222600006"
    assert record.registrant.city == "Semey"
    assert record.registrant.postal_code == "071400"


def test_current_layout_nothing_found() -> None:
    record = parse("02_current-format_notfound.txt", "absent-name.kz")

    assert record.found is False
    assert record.domain == "absent-name.kz"
    assert record.registrar is None
    assert record.statuses == ()


def test_legacy_layout_google_kz() -> None:
    record = parse("03_legacy-format_google.kz_status_registered.txt", "google.kz")

    assert record.found is True
    assert record.registrar == "KAZNIC"
    assert record.registrar_created == "KAZNIC"
    assert record.statuses == ("ok",)
    assert record.nameservers == (
        NameServer("ns1.google.com", ("216.239.32.10",)),
        NameServer("ns2.google.com", ("216.239.34.10",)),
    )
    assert record.created == dt.datetime(1999, 6, 7, 13, 1, 43, tzinfo=UTC)
    assert record.modified == dt.datetime(2012, 11, 28, 3, 16, 59, tzinfo=UTC)
    assert record.admin.email == "ccops@markmonitor.com"
    assert record.admin.phone == "+1.6502530000"  # the server pads it with a space
    assert record.registrant.country == "US"


def test_legacy_layout_tabu_kz_with_three_statuses_and_zoneless_times() -> None:
    record = parse("04_legacy-format_tabu.kz_status_multiple.txt", "tabu.kz")

    assert record.found is True
    assert record.registrar == "HOSTER.KZ"
    assert record.registrar_created == "HOSTER.KZ"
    assert record.statuses == ("clientDeleteProhibited", "clientRenewProhibited", "clientTransferProhibited")
    assert record.nameservers == (
        NameServer("ns1.regi.kz", ("212.154.192.96",)),
        NameServer("ns2.regi.kz", ("95.57.119.96",)),
    )
    # `2010-10-04 17:24:09.0` names no zone: Almaty time, +06:00 in 2010.
    assert record.to_json()["created"] == "2010-10-04T17:24:09+06:00"
    assert record.to_json()["modified"] == "2010-10-04T17:32:58+06:00"
    assert record.admin.email == "kohaner@gmail.com"
    assert record.registrant.state is None
    assert record.registrant.country == "UZ"


def test_legacy_layout_pedamotor_kz_with_blank_last_modified() -> None:
    record = parse("05_legacy-format_pedamotor.kz_last-modified-blank.txt", "pedamotor.kz")

    assert record.found is True
    assert record.registrar == "ICPS"
    assert record.statuses == ("clientTransferProhibited", "clientRenewProhibited")
    assert record.nameservers == (
        NameServer("ns.ps.kz", ("195.210.46.2",)),
        NameServer("ns1.ps.kz", ("195.93.152.9",)),
    )
    assert record.created == dt.datetime(2010, 9, 13, 6, 40, 28, tzinfo=UTC)
    assert record.modified is None
    assert record.admin.email == "eas_kz@mail.ru"
    assert record.registrant.organization == "NUR-LIGHT TOO"


def test_legacy_layout_kaz_football_kz_with_ipv6_and_a_registrar_transfer() -> None:
    record = parse("06_legacy-format_kaz-football.kz_three-ns-ipv6.txt", "kaz-football.kz")

    assert record.found is True
    assert record.registrar == "ICPS"
    assert record.registrar_created == "KAZNIC"
    assert record.statuses == ("clientTransferProhibited", "clientRenewProhibited")
    assert record.nameservers == (
        NameServer("ns1.ps.kz", ("195.210.46.194", "2a00:5da0:0:1::194")),
        NameServer("ns2.ps.kz", ("195.210.46.2", "2a00:5da0:1000::2")),
        NameServer("ns3.ps.kz", ("2a00:ab00:1108:177::4", "92.53.88.26")),
    )
    assert record.created == dt.datetime(2010, 5, 21, 6, 34, 24, tzinfo=UTC)
    assert record.modified == dt.datetime(2018, 3, 9, 17, 51, 21, tzinfo=UTC)
    assert record.admin.email == "alexel@host.kz"


def test_legacy_layout_nothing_found() -> None:
    record = parse("07_legacy-format_notfound.txt", "absent-name.kz")

    assert record.found is False
    assert record.domain == "absent-name.kz"
    assert record.nameservers == ()
    assert record.created is None
