"""Damaged files cost only the damaged rows: encoding faults, NULs, huge fields, stray and cut quotes."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from zonewarden.intake.feeds import FORMATS
from zonewarden.intake.feeds.base import (
    MAX_RECORD_LINES,
    Comment,
    FeedRow,
    Record,
    RowError,
    parse_time,
    read_json_objects,
    read_lines,
    read_records,
)

HEADER = b"url,category,first_seen,source\n"


def analysts(body: bytes) -> list[FeedRow | RowError]:
    """Parse an analysts' CSV made of the header and `body`."""
    return list(FORMATS["csv"].parse(io.BytesIO(HEADER + body)))


def summary(items: list[FeedRow | RowError]) -> list[tuple[int, str]]:
    """Return (line, url) of rows and (line, "error: reason") of errors, in order."""
    return [
        (item.line, item.url) if isinstance(item, FeedRow) else (item.line, f"error: {item.reason}")
        for item in items
    ]


def test_a_line_that_is_not_utf8_is_reported_and_the_next_is_read() -> None:
    items = analysts(b"http://ok.kz/,phishing,,\nhttp://caf\xe9.kz/,phishing,,\nhttp://next.kz/,phishing,,\n")

    assert summary(items) == [
        (2, "http://ok.kz/"),
        (3, "error: line 3 is not UTF-8 text (byte 0xe9 at position 11)"),
        (4, "http://next.kz/"),
    ]


def test_a_nul_byte_costs_its_row_only() -> None:
    items = analysts(b"http://ok.kz/,phishing,,\nhttp://nul\x00.kz/,phishing,,\nhttp://next.kz/,phishing,,\n")

    assert summary(items) == [
        (2, "http://ok.kz/"),
        (3, "error: line 3 contains a NUL byte"),
        (4, "http://next.kz/"),
    ]


def test_a_field_over_the_csv_limit_is_a_row_error() -> None:
    huge = b"http://evil.kz/" + b"a" * (csv.field_size_limit() + 10)

    items = analysts(b"http://ok.kz/,phishing,,\n" + huge + b",phishing,,\nhttp://next.kz/,phishing,,\n")

    assert summary(items) == [
        (2, "http://ok.kz/"),
        (3, f"error: a field is longer than {csv.field_size_limit()} characters"),
        (4, "http://next.kz/"),
    ]


def test_a_quoted_field_may_span_lines_and_the_row_keeps_its_first_line() -> None:
    items = analysts(b'http://a.kz/,phishing,,"hot\nline"\nhttp://b.kz/,phishing,,\n')

    assert summary(items) == [(2, "http://a.kz/"), (4, "http://b.kz/")]
    assert isinstance(items[0], FeedRow) and items[0].source == "hot\nline"


def test_a_stray_quote_costs_one_row_and_the_swallowed_lines_are_read_again() -> None:
    body = b'"http://stray.kz/,phishing,,\n' + b"".join(
        f"http://r{n}.kz/,phishing,,\n".encode() for n in range(MAX_RECORD_LINES + 5)
    )

    items = analysts(body)

    assert summary(items)[0] == (2, f"error: a quoted field is not closed within {MAX_RECORD_LINES} lines")
    assert summary(items)[1:] == [(3 + n, f"http://r{n}.kz/") for n in range(MAX_RECORD_LINES + 5)]


def test_a_stray_quote_near_the_end_gives_back_the_lines_it_swallowed() -> None:
    items = analysts(b'"http://stray.kz/,phishing,,\nhttp://a.kz/,phishing,,\nhttp://b.kz/,phishing,,\n')

    assert summary(items) == [
        (2, "error: a quoted field is not closed before the end of the file"),
        (3, "http://a.kz/"),
        (4, "http://b.kz/"),
    ]


def test_a_cut_last_line_without_a_quote_is_a_short_row() -> None:
    items = analysts(b"http://ok.kz/,phishing,,\nhttp://cut.kz/,phish")

    assert summary(items) == [(2, "http://ok.kz/"), (3, "error: the row has 2 fields where the header has 4")]


def test_text_after_a_closing_quote_is_a_row_error() -> None:
    items = analysts(b'"http://a.kz/"x,phishing,,\nhttp://b.kz/,phishing,,\n')

    assert summary(items) == [
        (2, "error: a quoted field is followed by text before the next separator"),
        (3, "http://b.kz/"),
    ]


def test_crlf_and_blank_lines_are_line_ends_not_rows() -> None:
    items = analysts(b"\r\n\r\nhttp://a.kz/,phishing,,\r\n   \r\nhttp://b.kz/,phishing,,\r\n")

    assert summary(items) == [(4, "http://a.kz/"), (6, "http://b.kz/")]


def test_only_the_first_line_loses_a_bom() -> None:
    items = list(read_records(io.BytesIO(b"\xef\xbb\xbfa,b\n\xef\xbb\xbfc,d\n")))

    assert items == [Record(1, ["a", "b"]), Record(2, ["\ufeffc", "d"])]


def test_comment_lines_are_handed_over_as_comments() -> None:
    items = list(read_records(io.BytesIO(b"# one\r\na,b\n#two\n")))

    assert items == [Comment(1, "# one"), Record(2, ["a", "b"]), Comment(3, "#two")]


def test_a_row_of_empty_fields_is_no_row() -> None:
    assert list(read_records(io.BytesIO(b",,,\na\n"))) == [Record(2, ["a"])]


def test_plain_lines_skip_blanks_and_comments_and_report_damage() -> None:
    items = list(read_lines(io.BytesIO(b"a\n\n# c\nb\xff\nd\r\n")))

    assert items == [(1, "a"), RowError(4, "line 4 is not UTF-8 text (byte 0xff at position 2)"), (5, "d")]


def test_a_damaged_json_entry_is_reported_and_the_others_read() -> None:
    data = b'[\n{"url": "http://a.kz/"},\n{"url": "http://b\xff.kz/"},\n{"url": "http://c.kz/"}\n]\n'

    items = list(read_json_objects(io.BytesIO(data)))

    assert [(item.line, type(item).__name__) for item in items] == [
        (2, "JsonObject"),
        (3, "RowError"),
        (4, "JsonObject"),
    ]


def test_json_that_is_not_an_object_is_reported() -> None:
    items = list(read_json_objects(io.BytesIO(b'[{"a": 1}, 2, "x"]')))

    assert [item.reason for item in items if isinstance(item, RowError)] == [
        "expected a JSON object, found int",
        "expected a JSON object, found str",
    ]


def test_json_nested_too_deeply_is_a_row_error_not_a_crash() -> None:
    items = list(read_json_objects(io.BytesIO(b"[" + b"[" * 200_000 + b"]" * 200_000 + b"]")))

    assert len(items) == 1 and isinstance(items[0], RowError)


def test_text_after_a_json_array_is_reported() -> None:
    items = list(read_json_objects(io.BytesIO(b'[{"a": 1}]\ntrailing')))

    assert items[-1] == RowError(2, "text follows the JSON array")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-27 07:55:10", dt.datetime(2026, 11, 27, 7, 55, 10, tzinfo=dt.UTC)),
        ("2026-11-27T07:55:10Z", dt.datetime(2026, 11, 27, 7, 55, 10, tzinfo=dt.UTC)),
        ("2026-11-27T13:55:10+06:00", dt.datetime(2026, 11, 27, 7, 55, 10, tzinfo=dt.UTC)),
        ("  ", None),
    ],
)
def test_times_are_read_as_aware_utc(text: str, expected: dt.datetime | None) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "0001-01-01T00:00:00+01:00"])
def test_a_bad_time_is_a_value_error_with_the_text(text: str) -> None:
    with pytest.raises(ValueError, match="is not a date and time"):
        parse_time(text)
