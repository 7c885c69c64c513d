"""Each feed parser on the project's own small samples: rows, line numbers, categories, times, bad rows."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from zonewarden.intake.feeds import FORMATS
from zonewarden.intake.feeds.base import FeedRow, NotThisFormat, RowError

SAMPLES = Path(__file__).resolve().parent / "samples"
UTC = dt.UTC


def parse(fmt: str, sample: str) -> list[FeedRow | RowError]:
    """Parse one of the samples with the named format."""
    with (SAMPLES / sample).open("rb") as stream:
        return list(FORMATS[fmt].parse(stream))


def rows(items: list[FeedRow | RowError]) -> list[FeedRow]:
    return [item for item in items if isinstance(item, FeedRow)]


def errors(items: list[FeedRow | RowError]) -> list[tuple[int, str]]:
    return [(item.line, item.reason) for item in items if isinstance(item, RowError)]


def test_urlhaus_rows_are_read_past_a_bom_and_crlf_with_their_physical_lines() -> None:
    items = parse("urlhaus", "urlhaus_recent.csv")

    assert [(row.line, row.url) for row in rows(items)] == [
        (9, "http://tulpar-sauda.kz/wp-content/upd.zip"),
        (10, "http://203.0.113.77:46112/i"),
        (11, "https://cdn.aru-kino.com.kz/files/invoice,2026.exe"),
        (13, "http://sayahat.example.org/bins/x86"),
    ]
    first = rows(items)[0]
    assert first.category == "malware_download"
    assert first.source == "urlhaus"
    assert first.first_seen == dt.datetime(2026, 11, 27, 7, 55, 10, tzinfo=UTC)
    assert first.extra == {
        "urlhaus_id": "4100001",
        "status": "online",
        "tags": ["zip", "AgentTesla"],
        "reporter": "dala_hunter",
    }
    assert "tags" not in rows(items)[2].extra  # "None" means no tags


def test_urlhaus_bad_rows_are_reported_and_the_cut_last_line_too() -> None:
    assert errors(parse("urlhaus", "urlhaus_recent.csv")) == [
        (14, "the row has 8 fields where the header has 9"),
        (15, "dateadded: '27.11.2026 07:05' is not a date and time"),
        (16, "the row ends inside a quoted field (the line is cut off)"),
    ]


def test_urlhaus_online_without_last_online_is_read_by_its_column_line() -> None:
    items = parse("urlhaus", "urlhaus_online.csv")

    assert errors(items) == []
    assert [(row.line, row.url, row.category) for row in rows(items)] == [
        (6, "http://nur-agro.kz/load.ps1", "malware_download"),
        (7, "https://aqsu-med.kz/", "malware_download"),  # empty threat: the feed's default
    ]
    assert rows(items)[0].extra["tags"] == ["ps1", "AsyncRAT"]


def test_urlhaus_without_a_column_line_is_read_in_the_known_layout() -> None:
    data = b'"1","2026-11-01 10:00:00","http://evil.kz/a","online","","malware_download","exe","x","me"\n'

    [row] = list(FORMATS["urlhaus"].parse(io.BytesIO(data)))

    assert isinstance(row, FeedRow) and row.url == "http://evil.kz/a"


@pytest.mark.parametrize(
    "data",
    [
        b"phish_id,url\n1,http://evil.kz/\n",
        b"a,b\n1,2\n",
        b'# id,dateadded,link\n"1","2026-11-01 10:00:00","x"\n',
    ],
)
def test_a_file_that_is_not_urlhaus_is_refused_before_any_row(data: bytes) -> None:
    with pytest.raises(NotThisFormat):
        next(FORMATS["urlhaus"].parse(io.BytesIO(data)))


def test_urlhaus_tld_feed_joins_a_url_split_at_its_comma() -> None:
    items = parse("urlhaus_tld", "urlhaus_tld_kz.csv")

    assert [(row.line, row.url) for row in rows(items)] == [
        (12, "http://kitap-dala.kz/doc/scan.js"),
        (13, "http://altyn-zher.kz/get.php?a=1,2"),
    ]
    assert rows(items)[1].extra == {
        "status": "offline",
        "ip": "198.51.100.15",
        "asn": "64500",
        "country": "KZ",
    }
    assert rows(items)[0].first_seen == dt.datetime(2026, 11, 27, 5, 40, 11, tzinfo=UTC)
    assert errors(items) == [(14, "the row has 3 fields where the header has 8")]


def test_phishtank_csv_rows_keep_the_target_and_report_a_row_of_the_wrong_width() -> None:
    items = parse("phishtank_csv", "phishtank.csv")

    assert [(row.line, row.url, row.category) for row in rows(items)] == [
        (2, "https://kaspi-bonus.kz/login", "phishing"),
        (4, "http://пошта.қаз/вход", "phishing"),
    ]
    assert rows(items)[0].extra["target"] == "Kaspi Bank, JSC"
    assert rows(items)[1].first_seen == dt.datetime(2026, 11, 25, 6, 0, tzinfo=UTC)  # +06:00 made UTC
    assert errors(items) == [(3, "the row has 9 fields where the header has 8")]


def test_phishtank_csv_refuses_a_file_without_its_header() -> None:
    with pytest.raises(NotThisFormat, match="phish_id"):
        next(FORMATS["phishtank_csv"].parse(io.BytesIO(b"url,category\nhttp://evil.kz/,phishing\n")))


def test_phishtank_json_entries_start_at_their_lines_and_an_entry_without_url_is_reported() -> None:
    items = parse("phishtank_json", "phishtank.json")

    assert [(row.line, row.url) for row in rows(items)] == [
        (2, "https://halyk-secure.kz/verify/"),
        (20, "http://post-kz.example.com/track"),
    ]
    assert rows(items)[1].extra["phish_id"] == "9100013"  # a number in newer files
    assert rows(items)[0].extra["target"] == "Halyk Bank"
    assert errors(items) == [(12, "the entry has no url")]


def test_phishtank_json_refuses_json_that_is_not_phishtank() -> None:
    with pytest.raises(NotThisFormat, match="phish_id"):
        next(FORMATS["phishtank_json"].parse(io.BytesIO(b'[{"xarf_version": "4.0.0"}]')))


def test_phishtank_json_cut_off_keeps_the_entries_before_the_cut() -> None:
    data = (SAMPLES / "phishtank.json").read_bytes()[:-40]

    items = list(FORMATS["phishtank_json"].parse(io.BytesIO(data)))

    assert [row.line for row in rows(items)] == [2]
    [(line, reason)] = errors(items)[1:]
    assert line == 20 and reason.startswith("JSON syntax error") and "were not read" in reason


def test_openphish_lines_are_urls_as_listed() -> None:
    items = parse("openphish", "openphish_feed.txt")

    assert errors(items) == []
    assert [(row.line, row.url) for row in rows(items)] == [
        (1, "https://kaspi-bonus.kz/login"),
        (2, "http://www.roblox.com.kz/users/1/profile"),
        (4, "https://movie-zhuldyz.kz/buy/register.php?ref&amp;id=7"),
        (5, "http://198.51.100.99/office365/"),
    ]
    assert {(row.category, row.first_seen, row.source) for row in rows(items)} == {
        ("phishing", None, "openphish")
    }


def test_openphish_refuses_a_csv_file() -> None:
    with pytest.raises(NotThisFormat, match="not a URL"):
        next(FORMATS["openphish"].parse(io.BytesIO(b"phish_id,url,target\n1,http://evil.kz/,x\n")))


def test_shadowserver_compromised_website_builds_the_url_from_host_port_and_path() -> None:
    items = parse("shadowserver", "2026-11-27-compromised_website-kz-geo.csv")

    assert [(row.line, row.url) for row in rows(items)] == [
        (2, "http://shop.tulpar-sauda.kz/wp-includes/js/jq.php"),
        (3, "https://[2001:db8::40]:8443/checkout"),
        (4, "https://bilim-portal.kz/"),
    ]
    first, second, third = rows(items)
    assert {row.category for row in rows(items)} == {"compromised_website"}
    assert first.extra["category"] == "phishing" and first.extra["tag"] == "hacked-webserver"
    assert second.extra["cc_url"] == "https://skimmer.example.net/c.js"
    assert third.extra["host_from"] == "hostname"
    assert first.first_seen == dt.datetime(2026, 11, 27, 1, 2, 3, tzinfo=UTC)
    assert errors(items) == [(5, "timestamp: 'not a time' is not a date and time")]


def test_shadowserver_malware_url_with_reordered_and_added_columns() -> None:
    [row] = parse("shadowserver", "2026-11-27-malware_url-kz-geo.csv")

    assert isinstance(row, FeedRow)
    assert (row.url, row.category, row.first_seen) == (
        "http://dala-soft.kz/setup.exe",
        "malware_url",
        dt.datetime(2026, 11, 27, 2, 0, tzinfo=UTC),
    )
    assert row.extra["sha256"] == "aa11"


def test_shadowserver_phish_url_is_told_from_its_columns() -> None:
    data = b'"timestamp","url","host","ip","source"\n"2026-11-27 03:00:00","https://kaspi-kz.example/","kaspi-kz.example","198.51.100.1","openphish.com"\n'

    [row] = list(FORMATS["shadowserver"].parse(io.BytesIO(data)))

    assert isinstance(row, FeedRow) and row.category == "phish_url"


def test_shadowserver_refuses_a_report_type_it_does_not_read() -> None:
    data = b'"timestamp","ip","port","hostname","http_code"\n"2026-11-27 03:00:00","192.0.2.1",80,"",200'

    with pytest.raises(NotThisFormat, match="not that of a Shadowserver"):
        next(FORMATS["shadowserver"].parse(io.BytesIO(data)))


def test_certpl_v2_times_are_utc_and_a_junk_line_is_reported() -> None:
    items = parse("certpl", "certpl_domains_v2.tsv")

    assert [(row.line, row.url, row.first_seen) for row in rows(items)] == [
        (2, "kaspi-zwrot.kz", dt.datetime(2025, 5, 8, 12, 28, 6, tzinfo=UTC)),
        (3, "allegro-kz.example.pl", dt.datetime(2025, 5, 8, 12, 27, 6, tzinfo=UTC)),
    ]
    assert {row.category for row in rows(items)} == {"phishing"}
    assert rows(items)[0].extra == {"register_id": "1002"}
    assert errors(items) == [(4, "the row has 1 tab-separated fields, not 3")]


def test_certpl_legacy_times_are_warsaw_local_summer_and_winter() -> None:
    items = parse("certpl", "certpl_domains_legacy.tsv")

    assert [(row.line, row.first_seen) for row in rows(items)] == [
        (1, dt.datetime(2020, 6, 3, 11, 0, tzinfo=UTC)),  # CEST, +02:00
        (2, dt.datetime(2020, 1, 15, 8, 30, tzinfo=UTC)),  # CET, +01:00
    ]
    assert errors(items) == [(3, "insert time: 'yesterday' is not a date and time")]


def test_certpl_refuses_a_comma_separated_file() -> None:
    with pytest.raises(NotThisFormat, match="tab-separated"):
        next(FORMATS["certpl"].parse(io.BytesIO(b"url,category\nhttp://evil.kz/,phishing\n")))


def test_zoneh_rows_are_defacements_with_the_page_url() -> None:
    items = parse("zoneh", "zoneh_defacements.csv")

    assert [(row.line, row.url, row.category) for row in rows(items)] == [
        (2, "http://mektep-42.edu.kz/index.html", "defacement"),
        (3, "http://akimat.example.gov.kz/news/hacked.txt", "defacement"),
    ]
    assert rows(items)[0].extra["attacker"] == "SteppeWolf"
    assert rows(items)[1].extra["def_grade"] == "secondary"
    assert rows(items)[0].first_seen == dt.datetime(2026, 11, 20, 3, 4, 5, tzinfo=UTC)
    assert errors(items) == [(4, "the domain field is empty")]


def test_xarf_remote_compromise_of_type_defacement_is_a_defacement_at_its_first_sighting() -> None:
    [row] = parse("xarf", "xarf_defacement.json")

    assert isinstance(row, FeedRow)
    assert (row.line, row.url, row.category) == (1, "https://bilim-portal.kz/", "defacement")
    assert row.first_seen == dt.datetime(2026, 11, 26, 0, 30, tzinfo=UTC)
    assert row.extra["reporter"] == "Steppe Web Watch"
    assert row.extra["reported_at"] == "2026-11-26T10:00:00Z"


def test_xarf_json_lines_go_on_after_a_broken_line() -> None:
    items = parse("xarf", "xarf_reports.jsonl")

    assert [(row.line, row.url, row.category) for row in rows(items)] == [
        (1, "https://bank-login.kz/secure", "phishing"),
        (2, "http://files.kz/a.exe", "malware"),
        (4, "mail.spammer.kz", "messaging:spam"),  # no url: the source_identifier
    ]
    [(broken, reason), (other, why)] = errors(items)
    assert broken == 3 and reason.startswith("JSON syntax error")
    assert (other, why) == (5, "the object is not an X-ARF report (no xarf_version, no Version/Report)")


def test_xarf_reads_a_json_array_of_reports() -> None:
    report = (SAMPLES / "xarf_defacement.json").read_bytes()

    items = list(FORMATS["xarf"].parse(io.BytesIO(b"[" + report + b"," + report + b"]")))

    assert [row.category for row in rows(items)] == ["defacement", "defacement"]
    assert errors(items) == []


def test_xarf_refuses_json_that_is_not_a_report() -> None:
    with pytest.raises(NotThisFormat, match="not an X-ARF report"):
        next(FORMATS["xarf"].parse(io.BytesIO(b'{"phish_id": "1", "url": "http://evil.kz/"}')))


def test_analysts_csv_keeps_the_category_code_source_and_notes() -> None:
    items = parse("csv", "analysts.csv")

    assert [(row.line, row.url, row.category, row.source) for row in rows(items)] == [
        (3, "hxxps://kaspi-bonus[.]kz/login", "phishing", "hotline"),
        (4, "http://mektep-42.edu.kz/", "defacement", "school"),
        (6, "http://tulpar-sauda.kz/x.zip", "malware", "csv"),
    ]
    first, second, third = rows(items)
    assert first.first_seen == dt.datetime(2026, 11, 27, 3, 15, tzinfo=UTC)
    assert first.extra == {"note": "caller saw an SMS"}
    assert second.first_seen is None
    assert third.first_seen == dt.datetime(2026, 11, 27, 3, 0, tzinfo=UTC)  # no offset: UTC
    assert errors(items) == [(5, "the category field is empty")]


def test_analysts_csv_from_a_spreadsheet_with_semicolons_bom_and_crlf() -> None:
    items = parse("csv", "analysts_semicolon.csv")

    assert errors(items) == []
    assert [(row.line, row.url, row.category) for row in rows(items)] == [
        (2, "https://пример.қаз/вход", "phishing"),
        (3, "http://aqsu-med.kz/", "compromised"),
    ]


def test_analysts_csv_refuses_a_header_without_url_and_category() -> None:
    with pytest.raises(NotThisFormat, match="url and category"):
        next(FORMATS["csv"].parse(io.BytesIO(b"link,kind\nhttp://evil.kz/,phishing\n")))


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_an_empty_file_has_no_rows(fmt: str) -> None:
    assert list(FORMATS[fmt].parse(io.BytesIO(b""))) == []


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_parser_refuses_a_compressed_file(fmt: str) -> None:
    with pytest.raises(NotThisFormat, match="gzip"):
        next(FORMATS[fmt].parse(io.BytesIO(b"\x1f\x8b\x08\x00rest-of-a-gzip-file")))


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_parser_refuses_utf16_text(fmt: str) -> None:
    with pytest.raises(NotThisFormat, match="UTF-16"):
        next(FORMATS[fmt].parse(io.BytesIO("url\nhttp://evil.kz/\n".encode("utf-16"))))
