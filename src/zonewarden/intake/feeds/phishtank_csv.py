"""PhishTank "online-valid" database as CSV: http://data.phishtank.com/data/online-valid.csv.

Layout: a header row `phish_id,url,phish_detail_url,submission_time,verified,verification_time,online,target`,
then one row per verified, online phish; values quoted only when needed; times ISO 8601 with
an offset. The header row decides where each value is.

Category: `phishing` for every row.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from zonewarden.intake.feeds.base import (
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
    take_header,
    width_problem,
)

SOURCE = "phishtank"
CATEGORY = "phishing"


def parse(stream: IO[bytes]) -> Iterator[FeedRow | RowError]:
    """Yield the rows of a PhishTank CSV file."""
    items = read_records(stream)
    columns = take_header(items)
    if columns is None:
        return
    if "url" not in columns or "phish_id" not in columns:
        raise NotThisFormat(f"the header row names no phish_id and url columns (found: {found(columns)})")
    for item in items:
        if isinstance(item, RowError):
            yield item
            continue
        if isinstance(item, Comment):
            continue
        fields = item.fields
        problem = width_problem(fields, columns)
        if problem is not None:
            yield RowError(item.line, problem)
            continue
        url = columns.get(fields, "url")
        if not url:
            yield RowError(item.line, "the url field is empty")
            continue
        try:
            first_seen = parse_time(columns.get(fields, "submission_time"))
        except ValueError as exc:
            yield RowError(item.line, f"submission_time: {exc}")
            continue
        extra: dict[str, Any] = {
            "phish_id": columns.get(fields, "phish_id"),
            "target": columns.get(fields, "target"),
            "verified": columns.get(fields, "verified"),
            "online": columns.get(fields, "online"),
        }
        yield FeedRow(
            line=item.line,
            url=url,
            category=CATEGORY,
            first_seen=first_seen,
            source=SOURCE,
            extra={key: clip(value) for key, value in extra.items() if value},
        )


def sniff(head: Head) -> bool:
    """Say whether a file's head is a PhishTank CSV file."""
    return {"phish_id", "url"} <= head.header_fields()


FORMAT = FeedFormat(name="phishtank_csv", title="PhishTank online-valid CSV", parse=parse, sniff=sniff)
