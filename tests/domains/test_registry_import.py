"""`zonewarden registry import`: the registry's data in, idempotent, bad rows reported, the rest kept."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from io import StringIO
from pathlib import Path

import idna
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import almaty
from zonewarden.cases.models import Case
from zonewarden.domains.models import Contact, Domain, Registrar
from zonewarden.domains.registry_import import ImportRefused, import_registry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("defaults")]

COLUMNS = (
    "domain,registrar,registrar_name,registrant_handle,registrant_name,registrant_organization,"
    "registrant_email,registrant_phone,registrant_street,registrant_city,registrant_postal_code,"
    "registrant_country,admin_handle,admin_name,admin_organization,admin_email,admin_phone,"
    "nameservers,statuses,created"
)
HEADER = COLUMNS + "\n"
TULPAR = (
    "tulpar-sauda.kz,ps-kz,PS.KZ,R1,Serikbayev Arman,Tulpar Sauda LLP,owner@tulpar-sauda.kz,"
    "+77011234567,Abai ave. 10,Almaty,050000,KZ,A1,Erlan Admin,Tulpar Sauda LLP,admin@tulpar-sauda.kz,"
    '+77011234568,"ns1.tulpar-hosting.kz/192.0.2.53,2001:DB8::53 ns2.tulpar-hosting.kz",'
    "clientTransferProhibited;clientDeleteProhibited,2019-04-02T08:15:00+00:00\n"
)
MYSAL = "Мысал.Қаз,kaznic,KazNIC,R2,Жұмабаев Ерлан,,erlan@мысал.қаз,,,,,kz,R2,,,,,нс1.мысал.қаз,,\n"
IDN = "xn--80awbu3c.xn--80ao21a"


def csv_file(*rows: str, header: str = HEADER) -> bytes:
    return (header + "".join(rows)).encode()


def reasons(report: object) -> dict[int, str]:
    return {row["line"]: row["reason"] for row in report.rejected_rows}  # type: ignore[attr-defined]


def test_a_csv_goes_in_with_registrars_contacts_name_servers_statuses_and_dates() -> None:
    report = import_registry(csv_file(TULPAR, MYSAL))

    assert report.counts() == {"read": 2, "created": 2, "updated": 0, "unchanged": 0, "rejected": 0}
    domain = Domain.objects.select_related("registrar", "registrant", "admin_contact").get(
        pk="tulpar-sauda.kz"
    )
    assert domain.registrar is not None
    assert (domain.registrar.code, domain.registrar.name) == ("ps-kz", "PS.KZ")
    assert domain.registrant is not None and domain.admin_contact is not None
    assert domain.registrant.handle == "R1"
    assert (domain.registrant.street, domain.registrant.city, domain.registrant.country) == (
        "Abai ave. 10",
        "Almaty",
        "KZ",
    )
    assert domain.notice_email == "admin@tulpar-sauda.kz"
    assert domain.nameservers == [
        {"name": "ns1.tulpar-hosting.kz", "addresses": ["192.0.2.53", "2001:db8::53"]},
        {"name": "ns2.tulpar-hosting.kz", "addresses": []},
    ]
    assert domain.statuses == ["clientTransferProhibited", "clientDeleteProhibited"]
    assert domain.created == dt.datetime(2019, 4, 2, 8, 15, tzinfo=dt.UTC)
    assert domain.registered is True


def test_a_unicode_name_is_stored_as_its_a_label() -> None:
    import_registry(csv_file(MYSAL))

    domain = Domain.objects.get(pk=IDN)
    assert domain.unicode_name == "мысал.қаз"
    assert domain.nameservers == [{"name": idna.encode("нс1.мысал.қаз").decode(), "addresses": []}]
    # One handle as registrant and as administrative contact is one contact.
    assert domain.registrant_id == domain.admin_contact_id
    assert Contact.objects.get(handle="R2").country == "KZ"


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("example.com,ps-kz,,R3,X,,x@example.com,,,,,,,,,,,,,\n", "example.com is outside the zones"),
        ("bad..name.kz,ps-kz,,R4,X,,,,,,,,,,,,,,,\n", "'bad..name.kz' is not a valid domain name"),
        ("kz,ps-kz,,R4,X,,,,,,,,,,,,,,,\n", "kz is a zone, not a registered name"),
        (
            "www.site.kz,ps-kz,,R4,X,,,,,,,,,,,,,,,\n",
            "www.site.kz is not a registered name: it lies under site.kz",
        ),
        (",ps-kz,,R4,X,,,,,,,,,,,,,,,\n", "the domain is empty"),
        ("late.kz,ps-kz,,R5,X,,,,,,,,,,,,,,,yesterday\n", "created: 'yesterday' is not an ISO 8601"),
        ("st.kz,ps-kz,,R5,X,,,,,,,,,,,,,,active,\n", "'active' is not an EPP status"),
        ("ns.kz,ps-kz,,R5,X,,,,,,,,,,,,,ns1.ns.kz/999.1.1.1,,\n", "'999.1.1.1' is not an IP address"),
        ("ns.kz,ps-kz,,R5,X,,,,,,,,,,,,,ns1/192.0.2.1,,\n", "name server 'ns1' is not a host name"),
        (
            "cc.kz,ps-kz,,R5,X,,,,,,,Kazakhstan,,,,,,,,\n",
            "registrant_country 'KAZAKHSTAN' is not a two-letter",
        ),
        ("nh.kz,ps-kz,,,Somebody,,,,,,,,,,,,,,,\n", "registrant_name given but registrant_handle is empty"),
        ("bad-reg.kz,ps kz,,R5,X,,,,,,,,,,,,,,,\n", "registrar code 'ps kz' may hold only"),
        ("long.kz,ps-kz,," + "R" * 65 + ",X,,,,,,,,,,,,,,,\n", "registrant_handle is longer than 64"),
        ("short.kz,ps-kz\n", "the row has 2 fields where the header has 20"),
    ],
)
def test_a_bad_row_is_rejected_with_its_line_and_reason_and_the_rest_goes_in(row: str, reason: str) -> None:
    report = import_registry(csv_file(TULPAR, row, MYSAL))

    assert report.counts() == {"read": 3, "created": 2, "updated": 0, "unchanged": 0, "rejected": 1}
    assert list(reasons(report)) == [3]
    assert reason in reasons(report)[3]
    assert set(Domain.objects.values_list("name", flat=True)) == {"tulpar-sauda.kz", IDN}


def test_a_name_twice_in_one_file_is_rejected_the_second_time() -> None:
    report = import_registry(csv_file(TULPAR, TULPAR.replace("clientTransferProhibited;", "")))

    assert report.counts() == {"read": 2, "created": 1, "updated": 0, "unchanged": 0, "rejected": 1}
    assert reasons(report) == {3: "tulpar-sauda.kz is on line 2 already"}
    assert Domain.objects.get(pk="tulpar-sauda.kz").statuses == [
        "clientTransferProhibited",
        "clientDeleteProhibited",
    ]


def test_the_same_file_twice_changes_nothing() -> None:
    data = csv_file(TULPAR, MYSAL)
    import_registry(data)
    stamps = dict(Domain.objects.values_list("name", "updated_at"))
    contacts = list(Contact.objects.order_by("pk").values())

    again = import_registry(data)

    assert again.counts() == {"read": 2, "created": 0, "updated": 0, "unchanged": 2, "rejected": 0}
    assert (again.contacts_created, again.contacts_updated, again.registrars_created) == (0, 0, 0)
    assert dict(Domain.objects.values_list("name", "updated_at")) == stamps
    assert list(Contact.objects.order_by("pk").values()) == contacts
    assert Registrar.objects.count() == 2


def test_a_changed_contact_counts_as_an_update_of_every_name_it_serves() -> None:
    shared = TULPAR.replace("tulpar-sauda.kz,", "tulpar-shop.kz,", 1)
    import_registry(csv_file(TULPAR, shared))

    moved = import_registry(
        csv_file(
            TULPAR.replace("admin@tulpar-sauda.kz", "it@tulpar-sauda.kz"),
            shared.replace("admin@tulpar-sauda.kz", "it@tulpar-sauda.kz"),
        )
    )

    assert moved.counts() == {"read": 2, "created": 0, "updated": 2, "unchanged": 0, "rejected": 0}
    assert moved.contacts_updated == 1
    assert {domain.notice_email for domain in Domain.objects.all()} == {"it@tulpar-sauda.kz"}


def test_a_column_the_file_lacks_leaves_the_stored_value_and_an_empty_value_clears_it() -> None:
    import_registry(csv_file(TULPAR))

    partial = import_registry(b"domain,registrar,nameservers\ntulpar-sauda.kz,hoster-kz,\n", fmt="csv")

    assert partial.counts()["updated"] == 1
    domain = Domain.objects.select_related("registrar").get(pk="tulpar-sauda.kz")
    assert domain.registrar is not None and domain.registrar.code == "hoster-kz"
    assert domain.registrar.name == "hoster-kz"  # a new registrar without a name is named by its code
    assert domain.nameservers == []  # given empty: cleared
    assert domain.statuses == ["clientTransferProhibited", "clientDeleteProhibited"]  # not given: kept
    assert domain.notice_email == "admin@tulpar-sauda.kz"
    assert domain.created is not None


def test_an_administrative_row_does_not_blank_the_address_the_same_handle_has_as_registrant() -> None:
    # H1 is the registrant of one name and the administrative contact of another; the admin
    # columns carry no address, so the address stays.
    rows = (
        "one.kz,ps-kz,,H1,Dana,,dana@one.kz,+77011234567,Tole bi 55,Shymkent,160000,KZ,H1,Dana,,dana@one.kz,,,,\n"
        "two.kz,ps-kz,,H2,Ospan,,ospan@two.kz,,,,,,H1,Dana,,dana@one.kz,,,,\n"
    )
    import_registry(csv_file(rows))
    again = import_registry(csv_file(rows))

    dana = Contact.objects.get(handle="H1")
    assert (dana.street, dana.city, dana.postal_code, dana.phone) == (
        "Tole bi 55",
        "Shymkent",
        "160000",
        "+77011234567",
    )
    assert again.counts()["unchanged"] == 2


def test_names_the_intake_added_bare_are_filled_in_and_counted_as_updated() -> None:
    Domain.objects.create(name="tulpar-sauda.kz", unicode_name="tulpar-sauda.kz")

    report = import_registry(csv_file(TULPAR))

    assert (report.created, report.updated) == (0, 1)
    assert Domain.objects.get(pk="tulpar-sauda.kz").notice_email == "admin@tulpar-sauda.kz"


def test_a_registrar_is_renamed_when_the_file_names_it_differently() -> None:
    import_registry(csv_file(TULPAR))

    report = import_registry(csv_file(TULPAR.replace(",PS.KZ,", ",PS Cloud Services,")))

    assert Registrar.objects.get(code="ps-kz").name == "PS Cloud Services"
    assert report.counts()["updated"] == 1


def test_times_without_a_zone_are_almaty_time_and_a_date_is_its_midnight() -> None:
    rows = (
        "naive.kz,ps-kz,,R1,X,,,,,,,,,,,,,,,2020-05-01T10:30:00\n"
        "date.kz,ps-kz,,R1,X,,,,,,,,,,,,,,,2020-05-01\n"
        "zulu.kz,ps-kz,,R1,X,,,,,,,,,,,,,,,2020-05-01T10:30:00Z\n"
    )
    import_registry(csv_file(rows))

    created = dict(Domain.objects.values_list("name", "created"))
    assert created["naive.kz"] == almaty(2020, 5, 1, 10, 30)
    assert created["date.kz"] == almaty(2020, 5, 1)
    assert created["zulu.kz"] == dt.datetime(2020, 5, 1, 10, 30, tzinfo=dt.UTC)


def test_semicolons_a_byte_order_mark_crlf_and_quoted_line_breaks_are_read() -> None:
    data = (
        "\ufeffdomain;registrar;registrant_handle;registrant_street;statuses\r\n"
        'one.kz;ps-kz;R1;"Abai 1\r\nflat 2";ok\r\n'
        "two.kz;ps-kz;R2;;bogus\r\n"
    ).encode()

    report = import_registry(data)

    assert report.created == 1
    assert reasons(report) == {4: "'bogus' is not an EPP status (e.g. ok, clientHold, serverHold)"}
    assert Contact.objects.get(handle="R1").street == "Abai 1\r\nflat 2"


def test_a_row_with_bytes_that_are_not_utf8_is_rejected_alone() -> None:
    data = csv_file(TULPAR) + b"bad.kz,ps-kz,,R9,\xc1\xf0\xe0\xf2,,,,,,,,,,,,,,,\n" + MYSAL.encode()

    report = import_registry(data)

    assert report.created == 2
    assert reasons(report) == {3: "registrant_name is not UTF-8 text"}


def test_a_file_in_another_encoding_stores_none_of_its_rows_that_it_garbles() -> None:
    data = (
        HEADER + "пример.kz,ps-kz,,R1,Иван,,,,,,,,,,,,,,,\nascii.kz,ps-kz,,R2,Ivan,,,,,,,,,,,,,,,\n"
    ).encode("cp1251")

    report = import_registry(data)

    assert reasons(report) == {2: "domain is not UTF-8 text"}
    assert list(Domain.objects.values_list("name", flat=True)) == ["ascii.kz"]


RECORD = {
    "domain": "shop.com.kz",
    "registrar": {"code": "HOSTER-KZ", "name": "Hoster.KZ"},
    "registrant": {"handle": "H1", "name": "Shop LLP", "email": "s@shop.com.kz", "country": "KZ"},
    "admin": {"handle": "H2", "name": "Admin", "email": "a@shop.com.kz", "phone": "+77011234567"},
    "nameservers": [{"name": "NS.Hoster.KZ", "addresses": ["192.0.2.7"]}, "ns2.hoster.kz/192.0.2.8"],
    "statuses": ["OK"],
    "created": "2020-01-01T00:00:00Z",
}


def test_a_json_array_with_nested_contacts_goes_in_and_bad_items_are_reported_by_line() -> None:
    text = "[\n" + json.dumps(RECORD) + ",\n  42,\n" + json.dumps({"domain": "x.example"}) + "\n]\n"

    report = import_registry(text.encode())

    assert report.format == "json"
    assert report.counts() == {"read": 3, "created": 1, "updated": 0, "unchanged": 0, "rejected": 2}
    assert reasons(report) == {
        3: "a number, not a JSON object",
        4: "x.example is outside the zones kz, xn--80ao21a",
    }
    domain = Domain.objects.select_related("registrar").get(pk="shop.com.kz")
    assert domain.registrar is not None and (domain.registrar.code, domain.registrar.name) == (
        "hoster-kz",
        "Hoster.KZ",
    )
    assert domain.notice_email == "a@shop.com.kz"
    assert domain.nameservers == [
        {"name": "ns.hoster.kz", "addresses": ["192.0.2.7"]},
        {"name": "ns2.hoster.kz", "addresses": ["192.0.2.8"]},
    ]
    assert domain.statuses == ["ok"]


def test_json_lines_and_flat_keys_are_read_and_a_bad_line_is_rejected_alone() -> None:
    flat = {"domain": "flat.kz", "registrar": "ps-kz", "admin_handle": "F1", "admin_email": "f@flat.kz"}
    text = json.dumps(RECORD) + "\n\nnot json\n" + json.dumps(flat) + "\n[1]\n"

    report = import_registry(text.encode(), fmt="json")

    assert report.counts() == {"read": 4, "created": 2, "updated": 0, "unchanged": 0, "rejected": 2}
    assert list(reasons(report)) == [3, 5]
    assert reasons(report)[5] == "a list, not a JSON object"
    assert Domain.objects.get(pk="flat.kz").notice_email == "f@flat.kz"


def test_a_json_array_cut_short_keeps_what_came_before_and_reports_the_rest() -> None:
    text = "[" + json.dumps(RECORD) + ",\n" + json.dumps({**RECORD, "domain": "two.kz"})[:30]

    report = import_registry(text.encode())

    assert report.created == 1
    assert list(reasons(report)) == [2]
    assert "the rest of the file cannot be read" in reasons(report)[2]


def test_one_pretty_printed_object_is_one_record() -> None:
    report = import_registry(json.dumps(RECORD, indent=2).encode())

    assert report.counts()["created"] == 1


@pytest.mark.parametrize(
    ("data", "fmt", "message"),
    [
        (b"name,owner\nx.kz,y\n", None, "header row has no 'domain' column"),
        (b"%PDF-1.7\n\x00\x01\x02binary", None, "contains NUL bytes"),
        (b"{not json at all\n", None, "not JSON"),
        (b"[oops, 2]", None, "not JSON"),
        (COLUMNS.encode() + b"\nx.kz\n", "json", "not JSON: it starts with 'domain,registrar"),
        (b"domain\nx.kz\n", "xml", "unknown format 'xml'"),
    ],
)
def test_a_file_that_is_not_csv_or_json_is_refused_whole(data: bytes, fmt: str | None, message: str) -> None:
    with pytest.raises(ImportRefused, match=message):
        import_registry(data, fmt=fmt)
    assert not Domain.objects.exists()
    assert not Contact.objects.exists()


def test_the_number_of_queries_does_not_grow_with_the_rows() -> None:
    def queries(count: int, offset: int) -> int:
        rows = "".join(
            f"n{offset + i}.kz,reg-{i % 3},Registrar {i % 3},R{offset + i},Owner,,o@n.kz,,,,,,A{i % 7},Admin,,a@n.kz,,"
            f"ns1.host.kz/192.0.2.{i % 200},ok,2020-01-01\n"
            for i in range(count)
        )
        with CaptureQueriesContext(connection) as captured:
            report = import_registry(csv_file(rows))
        assert report.created == count
        return len(captured)

    # A few statements per 900 to 5,000 rows (the batch sizes), never one per row.
    assert queries(1500, 0) <= queries(10, 10000) + 4


def test_the_command_prints_the_counts_as_json_last_and_refuses_a_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "registry.csv"
    path.write_text(HEADER + TULPAR + "short.kz,ps-kz\n", encoding="utf-8")
    out = StringIO()

    call_command("registry", "import", str(path), "--json", stdout=out)

    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert {key: result[key] for key in ("read", "created", "updated", "unchanged", "rejected")} == {
        "read": 2,
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "rejected": 1,
    }
    assert result["rejected_rows"] == [{"line": 3, "reason": "the row has 2 fields where the header has 20"}]
    human = StringIO()
    call_command("registry", "import", str(path), stdout=human)
    assert "unchanged 1" in human.getvalue() and "line 3:" in human.getvalue()
    path.write_bytes(b"\x00\x01binary")
    with pytest.raises(CommandError, match="NUL bytes"):
        call_command("registry", "import", str(path), stdout=StringIO())


REGISTRAR_HEADER = "domain,registrar,registrar_name,registrar_email,registrant_handle,registrant_email\n"


def test_a_registrars_e_mail_goes_in_once_and_a_later_file_updates_it() -> None:
    first = csv_file(
        "one.kz,ps-kz,PS.KZ,abuse@ps.kz,R1,o@one.kz\n"
        "two.kz,ps-kz,PS.KZ,,R2,o@two.kz\n"  # empty: the address another row gives stands
        "three.kz,hoster-kz,Hoster.KZ,,R3,o@three.kz\n",
        header=REGISTRAR_HEADER,
    )
    created = import_registry(first)
    assert created.counts() == {"read": 3, "created": 3, "updated": 0, "unchanged": 0, "rejected": 0}
    assert dict(Registrar.objects.values_list("code", "email")) == {"ps-kz": "abuse@ps.kz", "hoster-kz": ""}

    again = import_registry(first)
    assert again.counts() == {"read": 3, "created": 0, "updated": 0, "unchanged": 3, "rejected": 0}

    moved = import_registry(
        csv_file(
            "one.kz,ps-kz,PS.KZ,legal@ps.kz,R1,o@one.kz\n"
            "two.kz,ps-kz,PS.KZ,,R2,o@two.kz\n"
            "three.kz,hoster-kz,Hoster.KZ,,R3,o@three.kz\n",
            header=REGISTRAR_HEADER,
        )
    )
    # Both of ps-kz's names count as updated: their registrar's address changed.
    assert moved.counts() == {"read": 3, "created": 0, "updated": 2, "unchanged": 1, "rejected": 0}
    assert Registrar.objects.get(code="ps-kz").email == "legal@ps.kz"


def test_an_empty_registrar_e_mail_keeps_the_one_set_in_the_admin() -> None:
    import_registry(csv_file("one.kz,ps-kz,PS.KZ,,R1,o@one.kz\n", header=REGISTRAR_HEADER))
    Registrar.objects.filter(code="ps-kz").update(email="notices@ps.kz")

    report = import_registry(csv_file("one.kz,ps-kz,PS.KZ,,R1,o@one.kz\n", header=REGISTRAR_HEADER))

    assert report.counts()["unchanged"] == 1
    assert Registrar.objects.get(code="ps-kz").email == "notices@ps.kz"


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (
            "bad.kz,ps-kz,PS.KZ,abuse-at-ps.kz,R1,\n",
            "registrar_email 'abuse-at-ps.kz' is not an e-mail address",
        ),
        ("bad.kz,ps-kz,PS.KZ,abuse@,R1,\n", "registrar_email 'abuse@' is not an e-mail address"),
        ("bad.kz,,,abuse@ps.kz,R1,\n", "registrar_email given but registrar is empty"),
        ("bad.kz,ps-kz,PS.KZ," + "a" * 250 + "@ps.kz,R1,\n", "registrar_email is longer than 254 characters"),
    ],
)
def test_a_malformed_registrar_e_mail_rejects_its_row(row: str, reason: str) -> None:
    report = import_registry(csv_file("good.kz,ps-kz,PS.KZ,abuse@ps.kz,R1,\n", row, header=REGISTRAR_HEADER))

    assert reasons(report) == {3: reason}
    assert list(Domain.objects.values_list("name", flat=True)) == ["good.kz"]
    assert Registrar.objects.get(code="ps-kz").email == "abuse@ps.kz"


def test_json_gives_the_registrars_e_mail_in_its_object_or_as_a_flat_key() -> None:
    nested = {**RECORD, "registrar": {"code": "hoster-kz", "name": "Hoster.KZ", "email": "abuse@hoster.kz"}}
    flat = {
        "domain": "flat.kz",
        "registrar": "ps-kz",
        "registrar_name": "PS.KZ",
        "registrar_email": "n@ps.kz",
    }
    bad = {"domain": "bad.kz", "registrar": {"code": "ps-kz", "email": ["n@ps.kz"]}}
    orphan = {"domain": "orphan.kz", "registrar_email": "n@ps.kz"}
    text = "\n".join(json.dumps(item) for item in (nested, flat, bad, orphan)) + "\n"

    report = import_registry(text.encode())

    assert dict(Registrar.objects.values_list("code", "email")) == {
        "hoster-kz": "abuse@hoster.kz",
        "ps-kz": "n@ps.kz",
    }
    assert reasons(report) == {
        3: "registrar_email must be text, not a list",
        4: "registrar_email given but the row has no registrar",
    }


def test_the_registrar_of_a_suspended_name_is_told_at_the_imported_address(
    make_case: Callable[..., Case],
) -> None:
    from zonewarden.cases import workflow
    from zonewarden.notices.models import Notice
    from zonewarden.registry.models import RequestItem
    from zonewarden.registry.service import build_request, decide

    import_registry(csv_file("held.kz,ps-kz,PS.KZ,abuse@ps.kz,R1,o@held.kz\n", header=REGISTRAR_HEADER))
    at = almaty(2026, 4, 1, 11)
    case = make_case(at, domain=Domain.objects.get(pk="held.kz"))
    case = workflow.record_notice_sent(
        workflow.confirm(case, actor="user:analyst", at=at), number=1, actor="system:worker", at=at
    )
    Case.objects.filter(pk=case.pk).update(escalation_due_at=at)
    build_request("escalation", [Case.objects.get(pk=case.pk)], actor="user:lead", at=at)

    decide(RequestItem.objects.get(), RequestItem.Outcome.SUSPENDED, actor="user:operator", at=at)

    notice = Notice.objects.get(kind=Notice.Kind.REGISTRAR)
    assert notice.recipients == ["abuse@ps.kz"] and notice.state == Notice.State.PENDING
