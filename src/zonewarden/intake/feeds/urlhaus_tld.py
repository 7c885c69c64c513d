"""URLhaus per-TLD (and per-country / per-ASN) CSV feed from abuse.ch: https://urlhaus.abuse.ch/feeds/.

Layout: `#` comment lines (a banner, `# Feed generated for TLD CH`, the column line
`# Dateadded (UTC),URL,URL_status,Threat,Host,IPaddress,ASnumber,Country`, and a trailer
`# of entries: N`), rows with unquoted values. The commented column line decides where each value
is. As values are not quoted, a URL holding a comma splits into extra fields; they are joined
back into the URL, which is the only column that can hold a comma.

Category: the `Threat` column (`malware_download`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO, Any

from zonewarden.intake.feeds.base import (
    Columns,
    Comment,
    FeedFormat,
    FeedRow,
    Head,
    NotThisFormat,
    RowError,
    clip,
    parse_time,
    read_records,
    split_line,
    width_problem,
)

SOURCE = "urlhaus"
DEFAULT_THREAT = "malware_download"
LAYOUT = ["dateadded", "url", "url_status", "threat", "host", "ipaddress", "asnumber", "country"]
_ROW = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,[A-Za-z][A-Za-z0-9+.\-]*://")


def _names(fields: list[str]) -> list[str]:
    """Return column names without the " (UTC)" note of Dateadded."""
    return [name.strip().lower().removesuffix("(utc)").strip() for name in fields]


def _is_column_line(text: str) -> bool:
    """Say whether a comment is the TLD feed's column line."""
    return text.lstrip("#").strip().lower().startswith("dateadded (utc),url,")


def parse(stream: IO[bytes]) -> Iterator[FeedRow | RowError]:
    """Yield the rows of a URLhaus TLD feed."""
    columns: Columns | None = None
    yielded = False
    for item in read_records(stream):
        if isinstance(item, Comment):
            if _is_column_line(item.text) and not yielded:
                columns = Columns(_names(split_line(item.text.lstrip("#").strip())))
                if "url" not in columns:
                    raise NotThisFormat("the URLhaus column line names no URL column")
            continue
        if isinstance(item, RowError):
            yielded = True
            yield item
            continue
        if columns is None:
            if not _ROW.match(",".join(item.fields)):
                problem = "no column line (# Dateadded (UTC),URL,...) and the first row is not a TLD feed row"
                if not yielded:
                    raise NotThisFormat(problem)
                yield RowError(item.line, problem)
                continue
            columns = Columns(LAYOUT)
        yielded = True
        yield _row(item.line, item.fields, columns)


def _row(line: int, fields: list[str], columns: Columns) -> FeedRow | RowError:
    """Turn one record into a row, first joining a URL that its commas split."""
    url_at = columns.index["url"]
    surplus = len(fields) - len(columns)
    if surplus > 0:
        fields = [
            *fields[:url_at],
            ",".join(fields[url_at : url_at + surplus + 1]),
            *fields[url_at + surplus + 1 :],
        ]
    problem = width_problem(fields, columns)
    if problem is not None:
        return RowError(line, problem)
    url = columns.get(fields, "url")
    if not url:
        return RowError(line, "the URL field is empty")
    try:
        first_seen = parse_time(columns.get(fields, "dateadded"))
    except ValueError as exc:
        return RowError(line, f"Dateadded: {exc}")
    extra: dict[str, Any] = {
        "status": columns.get(fields, "url_status"),
        "ip": columns.get(fields, "ipaddress"),
        "asn": columns.get(fields, "asnumber"),
        "country": columns.get(fields, "country"),
    }
    return FeedRow(
        line=line,
        url=url,
        category=columns.get(fields, "threat") or DEFAULT_THREAT,
        first_seen=first_seen,
        source=SOURCE,
        extra={key: clip(value) for key, value in extra.items() if value},
    )


def sniff(head: Head) -> bool:
    """Say whether a file's head is a URLhaus TLD / country / ASN feed."""
    if any(_is_column_line(line) for line in head.comment_lines):
        return True
    data = head.data_lines
    return bool(data) and "urlhaus" in head.text.lower() and _ROW.match(data[0]) is not None


FORMAT = FeedFormat(name="urlhaus_tld", title="URLhaus per-TLD CSV feed", parse=parse, sniff=sniff)
