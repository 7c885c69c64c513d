"""`zonewarden registry import`: the registry's data in, idempotent, bad rows reported, the rest kept."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from zonewarden.domains.models import Contact, Domain, Registrar
from zonewarden.domains.registry_import import import_registry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("defaults")]

HEADER = (
    "domain,registrar,registrar_name,registrant_handle,registrant_name,registrant_organization,registrant_email,"
    "registrant_phone,registrant_street,registrant_city,registrant_postal_code,registrant_country,admin_handle,"
    "admin_name,admin_organization,admin_email,admin_phone,nameservers,statuses,created\n"
)
ROWS = [
    'tulpar-sauda.kz,ps-kz,PS.KZ,R1,Tulpar LLP,Tulpar,owner@tulpar.kz,+77011234567,Abai 1,Almaty,050000,KZ,A1,Erlan,Tulpar,admin@tulpar.kz,+77011234567,"ns1.tulpar-sauda.kz/192.0.2.1,2001:db8::1 ns2.hoster.kz",clientTransferProhibited,2015-03-01T10:00:00+05:00\n',
    "Мысал.Қаз,kaznic,KazNIC,R2,Мысал,,erlan@мысал.қаз,,,,,KZ,R2,Мысал,,erlan@мысал.қаз,,ns.hoster.kz,,\n",
    "example.com,ps-kz,PS.KZ,R3,X,,x@example.com,,,,,,,,,,,,,\n",  # outside the zones
    "bad..name.kz,ps-kz,PS.KZ,R4,X,,x@x.kz,,,,,,,,,,,,,\n",
    "late.kz,ps-kz,PS.KZ,R5,X,,x@x.kz,,,,,,,,,,,,,yesterday\n",
    "short.kz,ps-kz\n",
]


def test_a_csv_goes_in_and_bad_rows_are_reported_with_their_line() -> None:
    report = import_registry((HEADER + "".join(ROWS)).encode())
    assert (report.read, report.created, report.rejected) == (6, 2, 4)
    lines = {row["line"]: row["reason"] for row in report.rejected_rows}
    assert "outside the zones" in lines[4]
    assert "bad..name.kz" in lines[5]
    assert "not an ISO 8601" in lines[6]
    assert "the row has 2 fields where the header has 20" == lines[7]
    domain = Domain.objects.get(pk="tulpar-sauda.kz")
    assert domain.notice_email == "admin@tulpar.kz" and domain.registrar == Registrar.objects.get(
        code="ps-kz"
    )
    assert domain.nameservers == [
        {"name": "ns1.tulpar-sauda.kz", "addresses": ["192.0.2.1", "2001:db8::1"]},
        {"name": "ns2.hoster.kz", "addresses": []},
    ]
    assert domain.statuses == ["clientTransferProhibited"]
    idn = Domain.objects.get(pk="xn--80awbu3c.xn--80ao21a")
    assert idn.unicode_name == "мысал.қаз" and idn.notice_email == "erlan@мысал.қаз"


def test_the_same_file_twice_changes_nothing_and_a_change_is_an_update() -> None:
    data = (HEADER + ROWS[0]).encode()
    import_registry(data)
    again = import_registry(data)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    changed = import_registry((HEADER + ROWS[0].replace("clientTransferProhibited", "serverHold")).encode())
    assert (changed.updated, changed.unchanged) == (1, 0)
    assert Domain.objects.get(pk="tulpar-sauda.kz").statuses == ["serverHold"]
    assert Contact.objects.count() == 2


def test_json_arrays_and_lines_with_nested_contacts() -> None:
    record = {
        "domain": "shop.com.kz",
        "registrar": "hoster",
        "registrant": {"handle": "H1", "name": "Shop", "email": "s@shop.com.kz"},
        "admin": {"handle": "H2", "name": "Admin", "email": "a@shop.com.kz"},
        "nameservers": [{"name": "ns.hoster.kz", "addresses": ["192.0.2.7"]}],
        "statuses": ["ok"],
        "created": "2020-01-01T00:00:00Z",
    }
    report = import_registry(json.dumps([record]).encode())
    assert report.created == 1 and Domain.objects.get(pk="shop.com.kz").notice_email == "a@shop.com.kz"
    lines = (json.dumps(record) + "\nnot json\n" + json.dumps({"domain": ""})).encode()
    again = import_registry(lines, fmt="json")
    assert (again.unchanged, again.rejected) == (1, 2)
    assert [row["line"] for row in again.rejected_rows] == [2, 3]


def test_a_file_that_is_not_the_registrys_data_is_refused_whole(tmp_path: Path) -> None:
    bad = tmp_path / "x.csv"
    bad.write_bytes(b"name,owner\nx.kz,y\n")
    with pytest.raises(CommandError, match="names no domain column"):
        call_command("registry", "import", str(bad), stdout=StringIO())
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command("registry", "import", str(bad), stdout=StringIO())
    assert not Domain.objects.exists()


def test_the_command_prints_the_json_counts_last(tmp_path: Path) -> None:
    path = tmp_path / "registry.csv"
    path.write_text(HEADER + "".join(ROWS), encoding="utf-8")
    out = StringIO()
    call_command("registry", "import", str(path), "--json", stdout=out)
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["created"] == 2 and result["rejected"] == 4 and len(result["rejected_rows"]) == 4
