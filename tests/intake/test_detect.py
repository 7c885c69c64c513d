"""Format detection from a file's first bytes: one format or none, never a guess between two."""

from __future__ import annotations

from pathlib import Path

import pytest

from zonewarden.intake.feeds import FORMATS, detect_format

SAMPLES = Path(__file__).resolve().parent / "samples"
HEAD = 16384

EXPECTED = {
    "urlhaus_recent.csv": "urlhaus",
    "urlhaus_online.csv": "urlhaus",
    "urlhaus_tld_kz.csv": "urlhaus_tld",
    "phishtank.csv": "phishtank_csv",
    "phishtank.json": "phishtank_json",
    "openphish_feed.txt": "openphish",
    "2026-11-27-compromised_website-kz-geo.csv": "shadowserver",
    "2026-11-27-malware_url-kz-geo.csv": "shadowserver",
    "certpl_domains_v2.tsv": "certpl",
    "certpl_domains_legacy.tsv": "certpl",
    "zoneh_defacements.csv": "zoneh",
    "xarf_defacement.json": "xarf",
    "xarf_reports.jsonl": "xarf",
    "analysts.csv": "csv",
    "analysts_semicolon.csv": "csv",
}


def test_every_format_has_a_sample() -> None:
    assert set(EXPECTED.values()) == set(FORMATS)


@pytest.mark.parametrize(("name", "fmt"), sorted(EXPECTED.items()))
def test_each_sample_is_recognised_as_its_format(name: str, fmt: str) -> None:
    assert detect_format((SAMPLES / name).read_bytes()[:HEAD], name) == fmt


# A bare URL list is OpenPhish's only by its name, so that sample is left out here.
@pytest.mark.parametrize(("name", "fmt"), sorted((n, f) for n, f in EXPECTED.items() if f != "openphish"))
def test_each_sample_is_recognised_whatever_the_file_is_called(name: str, fmt: str) -> None:
    assert detect_format((SAMPLES / name).read_bytes()[:HEAD], "upload.bin") == fmt


def test_a_url_list_not_named_like_openphish_is_not_guessed() -> None:
    head = (SAMPLES / "openphish_feed.txt").read_bytes()

    assert detect_format(head, "urls.txt") is None
    assert detect_format(head, "openphish-2026-11-27.txt") == "openphish"
    assert detect_format(head, "C:\\feeds\\feed.txt") == "openphish"


def test_a_head_cut_in_the_middle_of_a_line_is_still_recognised() -> None:
    data = (SAMPLES / "urlhaus_recent.csv").read_bytes()

    assert detect_format(data[: data.index(b"tulpar")], "x.csv") == "urlhaus"


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"   \n\n",
        b"\x00\x01garbage\xff" * 10,
        b"a,b\n1,2\n",
        b'{"some": "json"}',
        b"just some words\n",
        "url\nhttp://evil.kz/\n".encode("utf-16"),
    ],
)
def test_an_unknown_head_is_no_format(head: bytes) -> None:
    assert detect_format(head, "upload.csv") is None
