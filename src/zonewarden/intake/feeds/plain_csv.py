"""The analysts' own CSV (format name `csv`), written by hand or exported from a spreadsheet.

Layout: a header row naming at least `url` and `category`; `first_seen` and `source` are
optional, further columns go into `extra`. `category` is a taxonomy code (phishing, malware,
defacement, compromised, other). `first_seen` is ISO 8601 or empty; a time without an offset is
taken as UTC. Comma-separated, or semicolon- or tab-separated as spreadsheets in many locales
save it (told from the header row). Lines starting with `#` are comments.

Category: the `category` column as written.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain
from typing import IO, Any

from zonewarden.intake.feeds.base import (
    BOM,
    Comment,
    FeedFormat,
    FeedRow,
    Head,
    NotThisFormat,
    RowError,
    clip,
    found,
    parse_time,
    read_records,
    split_line,
    take_header,
)

SOURCE = "csv"
KNOWN = ("url", "category", "first_seen", "source")
_OTHER_FORMATS = {"timestamp", "phish_id", "http_host", "threat", "dateadded"}
_PEEK_LINES = 50


def _delimiter(header: str) -> str:
    """Tell the separator from the header row: comma unless only semicolons or tabs appear."""
    if "," in header:
        return ","
    if ";" in header:
        return ";"
    if "\t" in header:
        return "\t"
    return ","


def parse(stream: IO[bytes]) -> Iterator[FeedRow | RowError]:
    """Yield the rows of an analysts' CSV file."""
    peeked: list[bytes] = []
    header = b""
    for raw in stream:
        peeked.append(raw)
        stripped = raw.removeprefix(BOM).strip()
        if stripped and not stripped.startswith(b"#"):
            header = stripped
            break
        if len(peeked) >= _PEEK_LINES:
            break
    delimiter = _delimiter(header.decode("utf-8", "replace"))
    items = read_records(chain(peeked, stream), delimiter=delimiter)
    columns = take_header(items)
    if columns is None:
        return
    if "url" not in columns or "category" not in columns:
        raise NotThisFormat(
            f"the header row must name the columns url and category (found: {found(columns)})"
        )
    others = [name for name in columns.names if name and name not in KNOWN]
    for item in items:
        if isinstance(item, Comment):
            continue
        if isinstance(item, RowError):
            yield item
            continue
        fields = item.fields
        # Spreadsheets pad rows with empty cells; only a short row or a filled extra cell is wrong.
        if len(fields) < len(columns) or any(value.strip() for value in fields[len(columns) :]):
            yield RowError(item.line, f"the row has {len(fields)} fields where the header has {len(columns)}")
            continue
        url = columns.get(fields, "url")
        category = columns.get(fields, "category")
        if not url:
            yield RowError(item.line, "the url field is empty")
            continue
        if not category:
            yield RowError(item.line, "the category field is empty")
            continue
        try:
            first_seen = parse_time(columns.get(fields, "first_seen"))
        except ValueError as exc:
            yield RowError(item.line, f"first_seen: {exc}")
            continue
        extra: dict[str, Any] = {}
        for name in others:
            value = columns.get(fields, name)
            if value:
                extra[name] = clip(value)
        yield FeedRow(
            line=item.line,
            url=url,
            category=category,
            first_seen=first_seen,
            source=columns.get(fields, "source") or SOURCE,
            extra=extra,
        )


def sniff(head: Head) -> bool:
    """Say whether a file's head is an analysts' CSV."""
    data = head.data_lines
    if not data:
        return False
    names = {name.strip().lower() for name in split_line(data[0], _delimiter(data[0]))}
    return {"url", "category"} <= names and not names & _OTHER_FORMATS


FORMAT = FeedFormat(
    name="csv", title="analysts' CSV (url,category,first_seen,source)", parse=parse, sniff=sniff
)
