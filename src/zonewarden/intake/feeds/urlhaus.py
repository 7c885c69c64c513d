"""URLhaus CSV dumps from abuse.ch (csv_recent, csv_online, the full dump): https://urlhaus.abuse.ch/api/.

Layout: `#` comment lines, among them the column line
`# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter`, then one row per URL
with every field double-quoted. csv_online and dumps before 2021 have no `last_online`. Times are
UTC. The commented column line decides where each value is; a file without one is read in the
9- or 8-column layout above if its first row looks like a URLhaus row.

Category: the `threat` column (`malware_download`; the feed is of malware URLs, so an empty one
is read as that).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import IO, Any

from zonewarden.intake.feeds.base import (
    MAX_EXTRA_ITEMS,
    MAX_EXTRA_TEXT,
    Columns,
    Comment,
    FeedFormat,
    FeedRow,
    Head,
    NotThisFormat,
    RowError,
    parse_time,
    read_records,
    split_line,
)

SOURCE = "urlhaus"
DEFAULT_THREAT = "malware_download"
LAYOUTS = {
    9: ["id", "dateadded", "url", "url_status", "last_online", "threat", "tags", "urlhaus_link", "reporter"],
    8: ["id", "dateadded", "url", "url_status", "threat", "tags", "urlhaus_link", "reporter"],
}
_ROW = re.compile(r'"\d+","\d{4}-\d\d-\d\d \d\d:\d\d:\d\d","')


def _is_column_line(text: str) -> bool:
    """Say whether a line is the URLhaus column line (with or without its #)."""
    return text.lstrip("#").strip().lower().replace('"', "").startswith("id,dateadded,url")


def parse(stream: IO[bytes]) -> Iterator[FeedRow | RowError]:
    """Yield the rows of a URLhaus CSV dump."""
    columns: Columns | None = None
    read: Callable[[int, list[str]], FeedRow | RowError] | None = None
    read_for: Columns | None = None
    yielded = False
    for item in read_records(stream):
        if isinstance(item, Comment):
            if _is_column_line(item.text):
                names = split_line(item.text.lstrip("#").strip())
                if not yielded:
                    columns = _column_line(names)
                elif "url" in Columns(names):
                    columns = Columns(names)  # too late to refuse the file; a bad one is ignored
            continue
        if isinstance(item, RowError):
            yielded = True
            yield item
            continue
        if columns is None:
            try:
                if _is_column_line(",".join(item.fields)):
                    columns = _column_line(item.fields)  # a column line without its #
                    continue
                columns = _guess_layout(item.fields)
            except NotThisFormat as exc:
                if not yielded:
                    raise
                yield RowError(item.line, str(exc))
                continue
        if read is None or read_for is not columns:
            read, read_for = _reader(columns), columns
        yielded = True
        yield read(item.line, item.fields)


def _column_line(names: list[str]) -> Columns:
    """Return the columns a column line names, refusing one without url."""
    columns = Columns(names)
    if "url" not in columns:
        raise NotThisFormat("the URLhaus column line names no url column")
    return columns


def _guess_layout(fields: list[str]) -> Columns:
    """Return the known layout a first row without a column line fits, or refuse the file."""
    layout = LAYOUTS.get(len(fields))
    if layout is None or not fields[0].strip().isdigit():
        raise NotThisFormat(
            "there is no URLhaus column line (# id,dateadded,url,...) and the first row is not a "
            f"URLhaus row ({len(fields)} fields)"
        )
    try:
        parse_time(fields[1])
    except ValueError as exc:
        raise NotThisFormat(f"the first row is not a URLhaus row: {exc}") from None
    return Columns(layout)


_COLUMNS = ("id", "dateadded", "url", "url_status", "threat", "tags", "reporter")


def _reader(columns: Columns) -> Callable[[int, list[str]], FeedRow | RowError]:
    """Return the function that turns one record of this file into a row."""
    width = len(columns)
    pick = columns.picker(*_COLUMNS)

    def read(line: int, fields: list[str]) -> FeedRow | RowError:
        """Turn one record into a row."""
        if len(fields) != width:
            return RowError(line, f"the row has {len(fields)} fields where the header has {width}")
        urlhaus_id, added, url, status, threat, tags, reporter = pick(fields)
        url = url.strip()
        if not url:
            return RowError(line, "the url field is empty")
        try:
            first_seen = parse_time(added)
        except ValueError as exc:
            return RowError(line, f"dateadded: {exc}")
        extra: dict[str, Any] = {}
        if urlhaus_id:
            extra["urlhaus_id"] = urlhaus_id[:MAX_EXTRA_TEXT]
        if status:
            extra["status"] = status[:MAX_EXTRA_TEXT]
        if tags and tags != "None":
            named = [tag.strip()[:MAX_EXTRA_TEXT] for tag in tags.split(",") if tag.strip()]
            extra["tags"] = named[:MAX_EXTRA_ITEMS]
        if reporter:
            extra["reporter"] = reporter[:MAX_EXTRA_TEXT]
        return FeedRow(line, url, threat.strip() or DEFAULT_THREAT, first_seen, SOURCE, extra)

    return read


def sniff(head: Head) -> bool:
    """Say whether a file's head is a URLhaus CSV dump."""
    if any(_is_column_line(line) for line in head.comment_lines):
        return True
    data = head.data_lines
    return bool(data) and (_is_column_line(data[0]) or _ROW.match(data[0]) is not None)


FORMAT = FeedFormat(
    name="urlhaus", title="URLhaus CSV dump (csv_recent / csv_online)", parse=parse, sniff=sniff
)
