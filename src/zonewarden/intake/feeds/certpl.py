"""CERT Polska warning list (hole.cert.pl) domains.csv: https://hole.cert.pl/domains/v2/domains.csv.

Layout: tab-separated `<register id>\t<domain>\t<insert time>`, no quoting. Since 2025-05 the time
is ISO 8601 with `+00:00`; earlier files have Europe/Warsaw local time without an offset
(`2020-06-03T13:00:00`), read here with zoneinfo (an hour repeated when clocks go back is taken
as the first, summer-time one). A first line whose first field is not a number is a header.
It is a list of domains, so the URL given on is the bare domain.

Category: `phishing` (the list is of phishing and scam domains).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from typing import IO
from zoneinfo import ZoneInfo

from zonewarden.intake.feeds.base import (
    Comment,
    FeedFormat,
    FeedRow,
    Head,
    NotThisFormat,
    RowError,
    parse_time,
    read_records,
    short,
)

SOURCE = "certpl"
CATEGORY = "phishing"
WARSAW = ZoneInfo("Europe/Warsaw")
_ROW = re.compile(r"\d+\t[^\t\s]+\t\d{4}-\d\d-\d\d[T ]\d\d:\d\d")


def parse(stream: IO[bytes]) -> Iterator[FeedRow | RowError]:
    """Yield one row per listed domain."""
    first = True
    for item in read_records(stream, delimiter="\t", quoting=csv.QUOTE_NONE):
        if isinstance(item, Comment):
            continue
        if isinstance(item, RowError):
            first = False
            yield item
            continue
        fields = [field.strip() for field in item.fields]
        if first:
            first = False
            if len(fields) < 3:
                raise NotThisFormat(
                    f"the first row has {len(fields)} tab-separated fields, not 3 (register id, domain, time)"
                )
            if not fields[0].isdigit():
                if "domain" in (name.lower() for name in fields):
                    continue  # a header row
                raise NotThisFormat(
                    f"the first field of the first row is not a register id: {short(fields[0])!r}"
                )
        if len(fields) < 3:
            yield RowError(item.line, f"the row has {len(fields)} tab-separated fields, not 3")
            continue
        register_id, domain, inserted = fields[:3]
        if not register_id.isdigit():
            yield RowError(item.line, f"the register id {short(register_id)!r} is not a number")
            continue
        if not domain:
            yield RowError(item.line, "the domain field is empty")
            continue
        try:
            first_seen = parse_time(inserted, default_zone=WARSAW)
        except ValueError as exc:
            yield RowError(item.line, f"insert time: {exc}")
            continue
        yield FeedRow(
            line=item.line,
            url=domain,
            category=CATEGORY,
            first_seen=first_seen,
            source=SOURCE,
            extra={"register_id": register_id},
        )


def sniff(head: Head) -> bool:
    """Say whether a file's head is a CERT Polska domains.csv."""
    data = head.data_lines[:3]
    return any(_ROW.match(line) for line in data) and "\t" in data[0]


FORMAT = FeedFormat(
    name="certpl", title="CERT Polska warning list domains.csv (TSV)", parse=parse, sniff=sniff
)
