"""Zone-H defacement records as exported to CERTs (https://www.zone-h.org/), as IntelMQ reads them.

Layout: quoted CSV with a header row: `add_date,accept_date,attacker,domain,ip_address,system,
web_server,reason,hackmode,image,type,redefacement,state,def_grade,defacement_id,country_code,country`
(records still pending lack `accept_date`). `domain` holds the full URL of the defaced page.
Times `YYYY-MM-DD HH:MM:SS`, taken as UTC (the export names no zone). The header row decides
where each value is.

Category: `defacement` for every row.
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

SOURCE = "zoneh"
CATEGORY = "defacement"
EXTRA_COLUMNS = ("defacement_id", "attacker", "ip_address", "def_grade", "type", "redefacement", "state")


def parse(stream: IO[bytes]) -> Iterator[FeedRow | RowError]:
    """Yield the rows of a Zone-H defacement export."""
    items = read_records(stream)
    columns = take_header(items)
    if columns is None:
        return
    if "domain" not in columns or not ("defacement_id" in columns or "attacker" in columns):
        raise NotThisFormat(
            f"the header row names no domain and defacement_id columns (found: {found(columns)})"
        )
    for item in items:
        if isinstance(item, Comment):
            continue
        if isinstance(item, RowError):
            yield item
            continue
        fields = item.fields
        problem = width_problem(fields, columns)
        if problem is not None:
            yield RowError(item.line, problem)
            continue
        url = columns.get(fields, "domain")
        if not url:
            yield RowError(item.line, "the domain field is empty")
            continue
        try:
            first_seen = parse_time(columns.first(fields, "add_date", "accept_date"))
        except ValueError as exc:
            yield RowError(item.line, f"add_date: {exc}")
            continue
        extra: dict[str, Any] = {}
        for name in EXTRA_COLUMNS:
            value = columns.get(fields, name)
            if value:
                extra[name] = clip(value)
        yield FeedRow(
            line=item.line, url=url, category=CATEGORY, first_seen=first_seen, source=SOURCE, extra=extra
        )


def sniff(head: Head) -> bool:
    """Say whether a file's head is a Zone-H defacement export."""
    names = head.header_fields()
    return {"domain", "attacker"} <= names and ("defacement_id" in names or "add_date" in names)


FORMAT = FeedFormat(name="zoneh", title="Zone-H defacement CSV", parse=parse, sniff=sniff)
