"""Intake end to end: counts that add up, de-duplication, cases opened, the record kept, the file refused whole."""

from __future__ import annotations

import hashlib
import json
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.conftest import almaty
from zonewarden.cases import workflow
from zonewarden.cases.models import Case, CaseEvent, State
from zonewarden.intake.ingest import IngestRefused, ingest_bytes
from zonewarden.intake.models import Incident, Ingest

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("defaults")]
T0 = almaty(2026, 11, 2, 10)
HEADER = "# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n"


def urlhaus(*urls: str, threat: str = "malware_download") -> bytes:
    lines = ["#####\n# abuse.ch URLhaus Database Dump (CSV - recent URLs only)\n#\n", HEADER]
    for number, url in enumerate(urls, start=1):
        lines.append(
            f'"{number}","2026-11-01 10:00:00","{url}","online","","{threat}","exe",'
            f'"https://urlhaus.abuse.ch/url/{number}/","tester"\n'
        )
    return "".join(lines).encode()


MIXED = urlhaus(
    "http://evil.kz/a.exe",
    "http://www.evil.kz/b.exe",  # same registered domain, another incident
    "http://evil.kz/a.exe",  # a duplicate within the file
    "http://shop.example.com.kz:80/x.zip",  # com.kz is a public suffix
    "http://пример.қаз/mal.js",  # IDN, in the .қаз zone
    "http://192.0.2.10:8080/i",  # IPv4 literal
    "http://[2001:db8::1]/i",  # IPv6 literal
    "http://evil.example.com/x",  # outside the zones
    "http://a.b.gov.kz/x",  # gov.kz is a suffix too
)


def test_the_counts_add_up_and_each_row_is_accounted_for() -> None:
    report = ingest_bytes(MIXED, file_name="recent.csv", actor="system:test", at=T0)
    counts = report.counts()
    assert counts == {
        "read": 9,
        "rejected": 0,
        "no_domain": 2,
        "outside_zone": 1,
        "in_zone": 6,
        "new": 5,
        "duplicate": 1,
    }
    assert (
        counts["read"]
        == counts["rejected"] + counts["no_domain"] + counts["outside_zone"] + counts["in_zone"]
    )
    assert counts["in_zone"] == counts["new"] + counts["duplicate"]
    assert report.format == "urlhaus"
    domains = set(Incident.objects.values_list("domain_id", flat=True))
    assert domains == {"evil.kz", "example.com.kz", "xn--e1afmkfd.xn--80ao21a", "b.gov.kz"}
    assert set(Incident.objects.values_list("category_id", flat=True)) == {"malware"}


def test_ingesting_the_same_file_twice_adds_nothing() -> None:
    ingest_bytes(MIXED, file_name="recent.csv", actor="system:test", at=T0)
    before = list(Incident.objects.order_by("key").values("key", "sources", "last_seen"))
    events = CaseEvent.objects.count()
    again = ingest_bytes(MIXED, file_name="recent.csv", actor="system:test", at=T0)
    assert (again.new, again.duplicate) == (0, 6)
    assert list(Incident.objects.order_by("key").values("key", "sources", "last_seen")) == before
    assert CaseEvent.objects.count() == events
    assert Ingest.objects.count() == 2


def test_a_second_source_grows_the_incidents_sources() -> None:
    ingest_bytes(urlhaus("http://evil.kz/a.exe"), file_name="a.csv", actor="system:test", at=T0)
    ingest_bytes(
        urlhaus("http://EVIL.kz./a.exe#x"), file_name="b.csv", actor="system:test", source="partner", at=T0
    )
    [incident] = Incident.objects.all()
    assert incident.sources == ["urlhaus", "partner"]
    assert incident.url == "http://evil.kz/a.exe"


def test_one_case_is_opened_per_registered_domain() -> None:
    report = ingest_bytes(MIXED, file_name="recent.csv", actor="system:test", at=T0)
    assert report.cases_opened == 4
    case = Case.objects.get(domain_id="evil.kz")
    assert case.state == State.RECORDED
    assert case.incidents.count() == 2
    opened = CaseEvent.objects.get(case=case, action="case.opened")
    assert opened.actor == "system:test" and opened.detail == {"source": "urlhaus"}


def test_a_new_incident_joins_the_open_case_and_says_so() -> None:
    ingest_bytes(urlhaus("http://evil.kz/a.exe"), file_name="a.csv", actor="system:test", at=T0)
    case = workflow.confirm(Case.objects.get(domain_id="evil.kz"), actor="user:analyst", at=T0)
    ingest_bytes(urlhaus("http://evil.kz/other.exe"), file_name="b.csv", actor="system:test", at=T0)
    case.refresh_from_db()
    assert case.state == State.NOTIFYING
    assert case.incidents.count() == 2
    added = CaseEvent.objects.get(case=case, action="case.incidents_added")
    assert added.detail == {"incidents": 1, "source": "urlhaus"}
    assert added.state_before == added.state_after == State.NOTIFYING


def test_incidents_from_a_trusted_source_are_confirmed() -> None:
    with override_settings(ZONEWARDEN_TRUSTED_SOURCES=["urlhaus"]):
        ingest_bytes(urlhaus("http://evil.kz/a.exe"), file_name="a.csv", actor="system:test", at=T0)
    assert Case.objects.get(domain_id="evil.kz").state == State.NOTIFYING
    ingest_bytes(
        urlhaus("http://bad.kz/a.exe"), file_name="b.csv", actor="system:test", source="rumour", at=T0
    )
    assert Case.objects.get(domain_id="bad.kz").state == State.RECORDED


def test_a_bad_row_is_reported_and_the_rest_goes_in() -> None:
    data = MIXED + b'"99","2026-11-01 10:00:00","hxxp://","online","","malware_download","","",""\n'
    report = ingest_bytes(data, file_name="bad.csv", actor="system:test", at=T0)
    assert report.rejected == 1
    assert report.rejected_rows[0]["line"] == 14
    assert report.new == 5
    record = Ingest.objects.get()
    assert record.rejected_rows == report.rejected_rows
    assert record.sha256 == hashlib.sha256(data).hexdigest()


def test_a_file_that_is_not_the_named_format_is_refused_whole() -> None:
    with pytest.raises(IngestRefused, match="not a urlhaus file"):
        ingest_bytes(
            b"phish_id,url\n1,http://evil.kz/\n", file_name="x.csv", actor="system:test", fmt="urlhaus"
        )
    assert not Ingest.objects.exists() and not Incident.objects.exists()


def test_an_unrecognised_file_is_refused_with_the_formats_listed() -> None:
    with pytest.raises(IngestRefused, match="could not be recognised.*urlhaus"):
        ingest_bytes(b"\x00\x01garbage\xff" * 10, file_name="blob.bin", actor="system:test")


def test_ingest_command_prints_the_json_contract_last(tmp_path: Path) -> None:
    path = tmp_path / "recent.csv"
    path.write_bytes(MIXED)
    out = StringIO()
    call_command("ingest", str(path), "--json", stdout=out)
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert {
        k: result[k] for k in ("read", "rejected", "no_domain", "outside_zone", "in_zone", "new", "duplicate")
    } == {
        "read": 9,
        "rejected": 0,
        "no_domain": 2,
        "outside_zone": 1,
        "in_zone": 6,
        "new": 5,
        "duplicate": 1,
    }
    assert result["rejected_rows"] == []


def test_ingest_command_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot read"):
        call_command("ingest", str(tmp_path / "nope.csv"))


def test_the_api_takes_a_file_from_a_user_allowed_to() -> None:
    user = get_user_model().objects.create_user("feeder", password="x" * 12)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    upload = SimpleUploadedFile("recent.csv", MIXED, content_type="text/csv")
    assert client.post("/api/ingests/", {"file": upload}, format="multipart").status_code == 403
    user.user_permissions.add(*Permission.objects.filter(codename__in=["add_ingest", "view_ingest"]))
    upload = SimpleUploadedFile("recent.csv", MIXED, content_type="text/csv")
    response = client.post("/api/ingests/", {"file": upload, "source": "api-test"}, format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["new"] == 5
    listing = client.get("/api/ingests/").json()
    assert listing["results"][0]["actor"] == "user:feeder"
    assert listing["results"][0]["source"] == "api-test"
    refused = client.post(
        "/api/ingests/",
        {"file": SimpleUploadedFile("x.csv", b"a,b\n1,2\n"), "format": "urlhaus"},
        format="multipart",
    )
    assert refused.status_code == 400
    assert "not a urlhaus file" in refused.json()["detail"]


def test_the_api_refuses_anonymous_callers() -> None:
    assert APIClient().get("/api/ingests/").status_code == 401


def _stored() -> list[tuple[str, str, str, list[str], str]]:
    rows = Incident.objects.order_by("key").values_list(
        "key", "url", "domain_id", "sources", "case__domain_id"
    )
    return [(key, url, domain, list(sources), case_domain) for key, url, domain, sources, case_domain in rows]


@pytest.mark.parametrize("parallel", [False, True], ids=["one-process", "parser-process"])
def test_small_batches_store_what_one_batch_stores(monkeypatch: pytest.MonkeyPatch, parallel: bool) -> None:
    # Batches of 2 rows put the in-file duplicate and the second incident of evil.kz in later
    # batches than the first: they must still count as one duplicate and join the same case.
    whole = ingest_bytes(MIXED, file_name="recent.csv", actor="system:test", at=T0, parallel=False)
    expected = (whole.counts(), _stored(), sorted(CaseEvent.objects.values_list("case__domain_id", "action")))
    Incident.objects.all().delete()
    cases_before = Case.objects.count()

    from zonewarden.intake import ingest

    monkeypatch.setattr(ingest, "BATCH_ROWS", 2)
    monkeypatch.setattr(ingest._batches, "__defaults__", (2,))
    source = "second-run"
    report = ingest_bytes(
        MIXED, file_name="recent.csv", actor="system:test", at=T0, parallel=parallel, source=source
    )
    assert report.counts() == expected[0]
    assert [(k, u, d, c) for k, u, d, _, c in _stored()] == [(k, u, d, c) for k, u, d, _, c in expected[1]]
    assert all(sources == [source] for *_, sources, _ in _stored())
    assert Case.objects.count() == cases_before  # the open cases were joined, none opened twice
    joined = CaseEvent.objects.filter(action="case.incidents_added", detail__source=source)
    assert sorted(joined.values_list("case__domain_id", flat=True)) == sorted(
        {domain for _, _, domain, _, _ in expected[1]}
    )  # one event per case for the whole file, however many batches it took


def test_the_parser_process_refuses_a_file_of_another_format_and_nothing_is_stored() -> None:
    with pytest.raises(IngestRefused, match="not a phishtank_json file"):
        ingest_bytes(MIXED, file_name="x.json", actor="system:test", fmt="phishtank_json", parallel=True)
    assert not Incident.objects.exists()
    assert not Ingest.objects.exists()


def test_the_parser_process_is_used_for_large_files_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    from zonewarden.intake import ingest

    used = []
    real = ingest._batches_from_child
    monkeypatch.setattr(
        ingest, "_batches_from_child", lambda reading: used.append(reading.file_name) or real(reading)
    )
    ingest_bytes(MIXED, file_name="small.csv", actor="system:test", at=T0)
    assert used == []
    with override_settings(ZONEWARDEN_INGEST_PARALLEL_BYTES=100):
        report = ingest_bytes(urlhaus("http://other.kz/x"), file_name="large.csv", actor="system:test", at=T0)
    assert used == ["large.csv"]
    assert report.counts()["new"] == 1
    assert Ingest.objects.get(file_name="large.csv").counts["in_zone"] == 1
