"""Conformance: the real feed samples in the shared fixtures are recognised and read without errors.

The samples are not copied into the project (see SOURCES.md next to them); without the shared
folder these tests are skipped.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from zonewarden.intake.feeds import FORMATS, detect_format
from zonewarden.intake.feeds.base import FeedRow, RowError
from zonewarden.intake.normalize import BadURL, normalize_url

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "real"
UTC = dt.UTC

pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=f"real feed samples not found at {REAL}")

# sample → (format, number of rows, category labels)
SAMPLES = {
    "urlhaus/csv_recent_sample_2026-02-26.csv": ("urlhaus", 10, {"malware_download"}),
    "urlhaus/tld_feed_CH_2019-02-13.csv": ("urlhaus_tld", 2, {"malware_download"}),
    "phishtank/online-valid_n6-test.csv": ("phishtank_csv", 3, {"phishing"}),
    "phishtank/online-valid_sample_2022-11-16.json": ("phishtank_json", 3, {"phishing"}),
    "phishtank/online-valid_entry_2026-02-25.fragment.txt": ("phishtank_json", 1, {"phishing"}),
    "openphish/feed_2026-08-21T0000Z.txt": ("openphish", 300, {"phishing"}),
    "shadowserver/compromised_website.csv": ("shadowserver", 3, {"compromised_website"}),
    "shadowserver/malware_url.csv": ("shadowserver", 3, {"malware_url"}),
    "shadowserver/phish_url.csv": ("shadowserver", 3, {"phish_url"}),
    "certpl/domains_csv_format-legacy-warsaw-local_n6-test.tsv": ("certpl", 5, {"phishing"}),
    "certpl/domains_v2_csv_format-202505_n6-test.tsv": ("certpl", 4, {"phishing"}),
    "zone-h/defacement_accepted.csv": ("zoneh", 2, {"defacement"}),
    "zone-h/defacement_pending.csv": ("zoneh", 1, {"defacement"}),
    "xarf/v4_sample_content-phishing.json": ("xarf", 1, {"phishing"}),
    "xarf/v4_sample_content-malware.json": ("xarf", 1, {"malware"}),
    "xarf/v4_sample_content-remote-compromise.json": ("xarf", 1, {"remote_compromise"}),
    "xarf/v3_sample_phishing.json": ("xarf", 1, {"phishing"}),
}


def read(sample: str, fmt: str) -> list[FeedRow | RowError]:
    with (REAL / sample).open("rb") as stream:
        return list(FORMATS[fmt].parse(stream))


@pytest.mark.parametrize(("sample", "fmt"), [(sample, spec[0]) for sample, spec in sorted(SAMPLES.items())])
def test_the_real_sample_is_recognised(sample: str, fmt: str) -> None:
    path = REAL / sample
    if not path.is_file():
        pytest.skip(f"{path} is missing")

    assert detect_format(path.read_bytes()[:16384], path.name) == fmt


@pytest.mark.parametrize(("sample", "spec"), sorted(SAMPLES.items()))
def test_the_real_sample_is_read_without_row_errors(sample: str, spec: tuple[str, int, set[str]]) -> None:
    fmt, count, categories = spec
    if not (REAL / sample).is_file():
        pytest.skip(f"{REAL / sample} is missing")

    items = read(sample, fmt)

    assert [item for item in items if isinstance(item, RowError)] == []
    rows = [item for item in items if isinstance(item, FeedRow)]
    assert len(rows) == count
    assert {row.category for row in rows} == categories
    assert all(row.first_seen is None or row.first_seen.tzinfo is not None for row in rows)


@pytest.mark.parametrize(("sample", "spec"), sorted(SAMPLES.items()))
def test_every_real_url_normalizes(sample: str, spec: tuple[str, int, set[str]]) -> None:
    if not (REAL / sample).is_file():
        pytest.skip(f"{REAL / sample} is missing")
    refused = []
    for row in read(sample, spec[0]):
        assert isinstance(row, FeedRow)
        try:
            normalize_url(row.url)
        except BadURL as exc:
            refused.append((row.line, row.url, exc.reason))

    assert refused == []


def test_urlhaus_recent_reads_rows_from_line_10_with_utc_times() -> None:
    rows = read("urlhaus/csv_recent_sample_2026-02-26.csv", "urlhaus")

    first = rows[0]
    assert isinstance(first, FeedRow)
    assert (first.line, first.url) == (10, "http://182.126.120.150:58801/i")
    assert first.first_seen == dt.datetime(2026, 2, 26, 12, 5, 20, tzinfo=UTC)
    assert first.extra["tags"] == ["32-bit", "elf", "mips", "Mozi"]


def test_openphish_line_85_is_under_the_public_suffix_com_kz() -> None:
    rows = read("openphish/feed_2026-08-21T0000Z.txt", "openphish")

    [row] = [row for row in rows if isinstance(row, FeedRow) and row.line == 85]
    assert normalize_url(row.url).registered_domain == "roblox.com.kz"


def test_certpl_legacy_warsaw_times_become_utc() -> None:
    rows = read("certpl/domains_csv_format-legacy-warsaw-local_n6-test.tsv", "certpl")

    times = {row.url: row.first_seen for row in rows if isinstance(row, FeedRow)}
    assert times["example_4.com"] == dt.datetime(2020, 6, 3, 11, 0, tzinfo=UTC)
    # 01:59:59 on the night clocks went back is still summer time, +02:00.
    assert times["example_5.com"] == dt.datetime(2020, 10, 24, 23, 59, 59, tzinfo=UTC)


def test_shadowserver_compromised_website_urls_come_from_http_host_and_path() -> None:
    rows = read("shadowserver/compromised_website.csv", "shadowserver")

    assert [row.url for row in rows if isinstance(row, FeedRow)] == [
        "http://example.com/header.php",
        "http://example.com/",
        "http://66-249-0-0.example.com/",
    ]


def test_xarf_remote_compromise_uses_its_first_seen() -> None:
    [row] = read("xarf/v4_sample_content-remote-compromise.json", "xarf")

    assert isinstance(row, FeedRow)
    assert row.first_seen == dt.datetime(2025, 1, 11, 15, 30, tzinfo=UTC)
    assert row.extra["compromise_type"] == "webshell"
