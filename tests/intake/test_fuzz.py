"""Fuzzing: whatever bytes a feed holds, parsers and normalization raise only what they document.

A parser may raise NotThisFormat, and only before its first row; normalize_url may raise BadURL.
Anything else escaping is a bug.
"""

from __future__ import annotations

import io
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zonewarden.intake.feeds import FORMATS, detect_format
from zonewarden.intake.feeds.base import FeedRow, NotThisFormat, RowError
from zonewarden.intake.normalize import BadURL, in_zones, normalize_url

SAMPLES = Path(__file__).resolve().parent / "samples"
# No example database: the run must not write a .hypothesis folder into the project.
FUZZ = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
FORMAT_NAMES = st.sampled_from(sorted(FORMATS))

PIECES = st.sampled_from(
    [
        '"',
        ",",
        ";",
        "\t",
        "#",
        "\r",
        "\n",
        "\r\n",
        "\x00",
        "\ufeff",
        "{",
        "}",
        "[",
        "]",
        ":",
        "//",
        "[.]",
        "hxxp://",
        "http://",
        "https://",
        "evil.kz",
        "пример.қаз",
        "[2001:db8::1]",
        "192.0.2.1",
        "2026-11-27 07:55:10",
        "2025-05-08T12:28:06+00:00",
        "2020-10-25T02:30:00",
        "# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter",
        "# Dateadded (UTC),URL,URL_status,Threat,Host,IPaddress,ASnumber,Country",
        "phish_id,url,phish_detail_url,submission_time,verified,verification_time,online,target",
        '"timestamp","url","http_host","hostname","port","application"',
        "add_date,attacker,domain,defacement_id",
        "url,category,first_seen,source",
        '{"xarf_version": "4.2.0", "category": "content", "type": "phishing", "url": ',
        '{"phish_id": 1, "url": ',
        '"url": "http://evil.kz/"',
    ]
)
FEEDISH = st.lists(st.one_of(PIECES, st.text(max_size=12)), max_size=60).map("".join)


def drain(fmt: str, data: bytes) -> list[FeedRow | RowError]:
    """Read a whole file, failing if NotThisFormat comes after a row or anything else escapes."""
    items: list[FeedRow | RowError] = []
    rows = FORMATS[fmt].parse(io.BytesIO(data))
    while True:
        try:
            item = next(rows)
        except StopIteration:
            return items
        except NotThisFormat:
            assert items == [], "NotThisFormat after rows were yielded"
            return items
        assert isinstance(item, FeedRow | RowError)
        assert item.line >= 1
        if isinstance(item, FeedRow):
            assert isinstance(item.url, str) and item.url
            assert isinstance(item.category, str) and item.category
            assert item.first_seen is None or item.first_seen.utcoffset() is not None
        else:
            assert item.reason
        items.append(item)


@FUZZ
@given(fmt=FORMAT_NAMES, data=st.binary(max_size=2000))
def test_random_bytes_never_make_a_parser_raise(fmt: str, data: bytes) -> None:
    drain(fmt, data)


@FUZZ
@given(fmt=FORMAT_NAMES, text=FEEDISH)
def test_text_shaped_like_feeds_never_makes_a_parser_raise(fmt: str, text: str) -> None:
    drain(fmt, text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(
    sample=st.sampled_from(sorted(path.name for path in SAMPLES.iterdir() if path.is_file())),
    fmt=FORMAT_NAMES,
    cut=st.integers(min_value=0),
    junk=st.binary(max_size=100),
)
def test_a_sample_cut_anywhere_with_junk_after_never_makes_a_parser_raise(
    sample: str, fmt: str, cut: int, junk: bytes
) -> None:
    full = (SAMPLES / sample).read_bytes()

    drain(fmt, full[: cut % (len(full) + 1)] + junk)


LINE_SAMPLES = sorted(path.name for path in SAMPLES.iterdir() if path.is_file() and path.suffix != ".json")


@FUZZ
@given(sample=st.sampled_from(LINE_SAMPLES), cut=st.integers())
def test_a_sample_cut_anywhere_keeps_the_rows_of_the_lines_before_the_cut(sample: str, cut: int) -> None:
    full = (SAMPLES / sample).read_bytes()
    fmt = detect_format(full, sample)
    assert fmt is not None
    whole = [item.line for item in drain(fmt, full) if isinstance(item, FeedRow)]
    point = cut % (len(full) + 1)
    cut_line = full[:point].count(b"\n") + 1

    kept = [item.line for item in drain(fmt, full[:point]) if isinstance(item, FeedRow)]

    assert [line for line in whole if line < cut_line] == [line for line in kept if line < cut_line]


@FUZZ
@given(head=st.binary(max_size=3000), name=st.text(max_size=40))
def test_random_heads_never_make_detection_raise(head: bytes, name: str) -> None:
    assert detect_format(head, name) in (None, *FORMATS)


URLISH = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "http://",
                "https://",
                "hxxp://",
                "hXXps[:]//",
                "ftp://",
                "//",
                "user:pw@",
                "@",
                "evil",
                ".",
                "[.]",
                "(.)",
                "kz",
                "com.kz",
                "қаз",
                "пример",
                "xn--",
                "xn--80ao21a",
                "[",
                "]",
                "::1",
                "2001:db8::",
                ":",
                "80",
                "443",
                "8080",
                "0x7f",
                "256",
                "/",
                "?",
                "#",
                "%2e",
                "%",
                "_",
                "-",
                " ",
                "\t",
                "。",
                "ß",
                "\u200d",
            ]
        ),
        st.text(max_size=6),
    ),
    max_size=20,
).map("".join)


@FUZZ
@given(raw=st.one_of(st.text(max_size=300), URLISH))
def test_random_text_never_makes_normalization_raise_anything_but_bad_url(raw: str) -> None:
    try:
        result = normalize_url(raw)
    except BadURL as exc:
        assert exc.reason
        return

    assert result.url.startswith(f"{result.scheme}://")
    assert result.scheme in ("http", "https", "ftp")
    assert result.host and result.host.isascii() and result.host == result.host.lower()
    assert result.path_and_query.startswith("/") and "#" not in result.path_and_query
    assert result.port is None or 0 < result.port <= 65535
    assert (result.registered_domain is None) or (
        not result.is_ip and result.host.endswith(result.registered_domain)
    )
    if result.registered_domain is not None:
        in_zones(result.registered_domain, ["kz", "қаз"])


@FUZZ
@given(raw=st.one_of(st.text(max_size=300), URLISH))
def test_normalizing_a_normalized_url_changes_nothing(raw: str) -> None:
    try:
        result = normalize_url(raw)
    except BadURL:
        return

    assert normalize_url(result.url) == result
