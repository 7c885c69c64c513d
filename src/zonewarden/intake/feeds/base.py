"""Record types shared by the feed parsers, and the careful line, CSV and JSON reading they use.

Feeds arrive broken in ordinary ways: a BOM, CRLF line ends, a stray byte that is not UTF-8,
a NUL, a field far too long, a last line cut off mid-quote. Each such fault costs the one row
it is in (a RowError with its physical line number); the rows around it are still read.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import functools
import json
import operator
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, Literal

UTC = dt.UTC
BOM = b"\xef\xbb\xbf"
# A quoted field may legitimately hold a line break; one spanning more lines than this is a
# stray quote, and the lines it swallowed are read again as rows of their own.
MAX_RECORD_LINES = 32
# Kept to the `extra` dict per row, so one odd row cannot blow up what is stored.
MAX_EXTRA_TEXT = 500
MAX_EXTRA_ITEMS = 20

_PACKED = {
    b"\x1f\x8b": "gzip-compressed; decompress it first",
    b"BZh": "bzip2-compressed; decompress it first",
    b"PK\x03\x04": "a ZIP archive; unpack it first",
    b"\xff\xfe": "UTF-16 text; save it as UTF-8",
    b"\xfe\xff": "UTF-16 text; save it as UTF-8",
}


class NotThisFormat(Exception):
    """The file as a whole is not in the format its parser reads (raised before any row)."""


@dataclass(slots=True)
class FeedRow:
    """One reported URL as the feed gave it, before normalization and taxonomy mapping."""

    line: int
    url: str
    category: str
    first_seen: dt.datetime | None
    source: str
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RowError:
    """A row that could not be read, with its 1-based physical line number and the reason."""

    line: int
    reason: str


Parser = Callable[[IO[bytes]], Iterator[FeedRow | RowError]]


@dataclass(frozen=True, slots=True)
class Head:
    """The start of a file as format detection sees it."""

    text: str
    lines: tuple[str, ...]
    filename: str

    @classmethod
    def of(cls, head: bytes, filename: str) -> Head:
        """Decode the first bytes of a file leniently and keep its first non-blank lines."""
        text = head.removeprefix(BOM).decode("utf-8", "replace")
        lines = tuple(line.strip() for line in text.splitlines() if line.strip())[:60]
        name = filename.replace("\\", "/").rsplit("/", 1)[-1].lower()
        return cls(text=text, lines=lines, filename=name)

    @property
    def data_lines(self) -> tuple[str, ...]:
        """Return the lines that are not # comments."""
        return tuple(line for line in self.lines if not line.startswith("#"))

    @property
    def comment_lines(self) -> tuple[str, ...]:
        """Return the # comment lines without their leading #s and spaces."""
        return tuple(line.lstrip("#").strip() for line in self.lines if line.startswith("#"))

    def header_fields(self, delimiter: str = ",") -> frozenset[str]:
        """Return the first data line split as a header row, lower-cased and unquoted."""
        data = self.data_lines
        if not data:
            return frozenset()
        return frozenset(name.strip().lower() for name in split_line(data[0], delimiter))


@dataclass(frozen=True)
class FeedFormat:
    """A feed format: its name, what it is, how to read it, and how to recognise its head."""

    name: str
    title: str
    parse: Parser
    sniff: Callable[[Head], bool]


@dataclass(frozen=True, slots=True)
class Record:
    """One CSV record and the physical line it starts on."""

    line: int
    fields: list[str]


@dataclass(frozen=True, slots=True)
class Comment:
    """One # comment line, without the line break."""

    line: int
    text: str


class _Runaway(Exception):
    """A quoted field ran on for more than MAX_RECORD_LINES lines."""


class LineFeed:
    """Hand out a byte stream's lines as text with their numbers, noting lines that are damaged.

    It is also the iterator a csv.reader pulls from, so it knows which physical lines each
    record took and can give back all but the first when a record turns out to be a stray quote.
    """

    def __init__(self, stream: Iterable[bytes]) -> None:
        self._lines = iter(stream)
        self._pending: deque[tuple[int, bytes]] = deque()
        self._read = 0
        self._first: str | None = None
        self.record: list[tuple[int, bytes]] = []
        self.problem: str | None = None

    def next_line(self) -> tuple[int, str] | None:
        """Start a new record with the next line; return its number and text, None at the end."""
        item = self._pull()
        if item is None:
            return None
        self.record = [item]
        self.problem = None
        return item[0], self._decode(*item)

    def feed_csv(self, text: str) -> None:
        """Make `text` (the line just read by next_line) the first line the csv reader gets."""
        self._first = text

    def give_back_rest(self) -> None:
        """Push back every line of the current record after its first, to be read again."""
        self._pending.extendleft(reversed(self.record[1:]))
        self.record = self.record[:1]

    def __iter__(self) -> LineFeed:
        return self

    def __next__(self) -> str:
        """Hand the csv reader the record's first line, then its continuation lines."""
        if self._first is not None:
            text, self._first = self._first, None
            return text
        if len(self.record) >= MAX_RECORD_LINES:
            raise _Runaway
        item = self._pull()
        if item is None:
            raise StopIteration
        self.record.append(item)
        return self._decode(*item)

    def _pull(self) -> tuple[int, bytes] | None:
        """Return the next line to read (a given-back one first) with its number, None at the end."""
        if self._pending:
            return self._pending.popleft()
        raw = next(self._lines, None)
        if raw is None:
            return None
        self._read += 1
        if self._read == 1:
            for magic, what in _PACKED.items():
                if raw.startswith(magic):
                    raise NotThisFormat(f"the file is {what}")
            raw = raw.removeprefix(BOM)
        return self._read, raw

    def _decode(self, number: int, raw: bytes) -> str:
        """Decode a line as UTF-8, noting in `problem` why the record cannot be trusted."""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            # Guessing another encoding would quietly change URLs; the row is reported instead.
            if self.problem is None:
                self.problem = not_utf8(number, raw, exc)
            text = raw.decode("utf-8", "replace")
        if "\x00" in text and self.problem is None:
            self.problem = f"line {number} contains a NUL byte"
        return text


def not_utf8(number: int, raw: bytes, error: UnicodeDecodeError) -> str:
    """Say which byte of a line is not UTF-8."""
    return f"line {number} is not UTF-8 text (byte 0x{raw[error.start]:02x} at position {error.start + 1})"


def found(columns: Columns) -> str:
    """List a header's columns for an error message, cut short."""
    return short(", ".join(columns.names), 200)


def read_lines(stream: Iterable[bytes], comment: str | None = "#") -> Iterator[tuple[int, str] | RowError]:
    """Yield (line number, text without its line break) of each non-blank, non-comment line."""
    feed = LineFeed(stream)
    while (item := feed.next_line()) is not None:
        number, text = item
        text = text.rstrip("\r\n")
        if not text.strip() or (comment is not None and text.lstrip().startswith(comment)):
            continue
        if feed.problem is not None:
            yield RowError(number, feed.problem)
            continue
        yield number, text


def read_records(
    stream: Iterable[bytes],
    *,
    delimiter: str = ",",
    comment: str | None = "#",
    quoting: Literal[0, 1, 2, 3] = csv.QUOTE_MINIMAL,
) -> Iterator[Record | Comment | RowError]:
    """Yield the CSV records, comment lines and unreadable rows of a file, in order."""
    feed = LineFeed(stream)
    reader = csv.reader(feed, delimiter=delimiter, strict=True, quoting=quoting)
    while (item := feed.next_line()) is not None:
        number, text = item
        if not text.strip():
            continue
        if comment is not None and text.startswith(comment):
            yield Comment(number, text.rstrip("\r\n"))
            continue
        feed.feed_csv(text)
        try:
            fields = next(reader)
        except StopIteration:
            break
        except _Runaway:
            feed.give_back_rest()
            yield RowError(number, f"a quoted field is not closed within {MAX_RECORD_LINES} lines")
            continue
        except csv.Error as exc:
            multi_line = len(feed.record) > 1
            feed.give_back_rest()
            yield RowError(number, _csv_reason(str(exc), multi_line))
            continue
        if feed.problem is not None:
            yield RowError(number, feed.problem)
        elif any(fields):
            yield Record(number, fields)


def _csv_reason(message: str, multi_line: bool) -> str:
    """Say in plain words what the csv module found wrong with a row."""
    if "unexpected end of data" in message:
        if multi_line:
            return "a quoted field is not closed before the end of the file"
        return "the row ends inside a quoted field (the line is cut off)"
    if "field larger than field limit" in message:
        return f"a field is longer than {csv.field_size_limit()} characters"
    if "expected after" in message:
        return "a quoted field is followed by text before the next separator"
    return f"the row is not valid CSV: {message}"


@dataclass(frozen=True, slots=True)
class JsonObject:
    """One JSON object of a file and the physical line it starts on."""

    line: int
    data: dict[str, Any]


_SEPARATORS = re.compile(r"[ \t\r\n,]*")
_RESYNC = re.compile(r"\n(?=\{)")


def read_json_objects(stream: IO[bytes]) -> Iterator[JsonObject | RowError]:
    """Yield the objects of a JSON array, of concatenated objects, or of JSON Lines, in order.

    Commas between top-level objects are optional and a trailing one is allowed, so a fragment
    cut out of an array reads too. After a syntax error, reading goes on at the next line that
    starts with `{` in its first column (the next JSON Lines record); an indented array has none,
    so the rest of such a file is reported as not read.
    """
    raw = stream.read()
    for magic, what in _PACKED.items():
        if raw.startswith(magic):
            raise NotThisFormat(f"the file is {what}")
    text, damaged = _decode_json_text(raw.removeprefix(BOM))
    damaged_lines = sorted(damaged)
    decoder = json.JSONDecoder()
    position = _skip_separators(text, 0)
    if position < len(text) and text[position] not in "[{":
        raise NotThisFormat(f"the file is not JSON: it starts with {short(text[position : position + 20])!r}")
    line = 1 + text.count("\n", 0, position)
    in_array = text.startswith("[", position)
    if in_array:
        position += 1
    counted = position
    while True:
        position = _skip_separators(text, position)
        line += text.count("\n", counted, position)
        counted = position
        if position >= len(text):
            return
        if in_array and text[position] == "]":
            rest = text[position + 1 :]
            if rest.strip():
                after = position + 1 + len(rest) - len(rest.lstrip())
                yield RowError(line + text.count("\n", position, after), "text follows the JSON array")
            return
        try:
            value, end = decoder.raw_decode(text, position)
        except (ValueError, RecursionError) as exc:
            if isinstance(exc, json.JSONDecodeError):
                reason = f"JSON syntax error at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            elif isinstance(exc, RecursionError):
                reason = "the JSON is nested too deeply"
            else:
                reason = f"the JSON cannot be read: {exc}"
            resume = _RESYNC.search(text, position + 1)
            if resume is None:
                last = text.count("\n") + 1
                tail = f"; lines {line}-{last} were not read" if last > line else ""
                yield RowError(line, reason + tail)
                return
            yield RowError(line, reason)
            position = resume.end()
            continue
        last_line = line + text.count("\n", position, end)
        bad = _damage_in(damaged, damaged_lines, line, last_line)
        if bad is not None:
            yield RowError(line, bad)
        elif isinstance(value, dict):
            yield JsonObject(line, value)
        else:
            yield RowError(line, f"expected a JSON object, found {type(value).__name__}")
        position = end


def _skip_separators(text: str, position: int) -> int:
    """Return the position of the next character that is not whitespace or a comma."""
    match = _SEPARATORS.match(text, position)
    return position if match is None else match.end()


def _decode_json_text(raw: bytes) -> tuple[str, dict[int, str]]:
    """Decode UTF-8 text, noting each line that is not UTF-8 or holds a NUL."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if "\x00" not in text:
            return text, {}
    damaged: dict[int, str] = {}
    parts = []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        try:
            part = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            damaged[number] = not_utf8(number, line, exc)
            part = line.decode("utf-8", "replace")
        if "\x00" in part:
            damaged.setdefault(number, f"line {number} contains a NUL byte")
        parts.append(part)
    return "\n".join(parts), damaged


def _damage_in(damaged: dict[int, str], numbers: list[int], first: int, last: int) -> str | None:
    """Return the reason of the first damaged line between first and last, if any."""
    index = bisect.bisect_left(numbers, first)
    if index < len(numbers) and numbers[index] <= last:
        return damaged[numbers[index]]
    return None


@functools.lru_cache(maxsize=8192)  # feeds repeat the same second many times over
def parse_time(value: str, default_zone: dt.tzinfo = UTC) -> dt.datetime | None:
    """Read an ISO 8601 or `YYYY-MM-DD HH:MM:SS` time as aware UTC; None when empty.

    A time without an offset is taken to be in `default_zone`. Raises ValueError, saying why,
    when the text is not such a time.
    """
    text = value.strip()
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=default_zone)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError(f"{short(text)!r} is not a date and time") from None


def short(text: str, limit: int = 60) -> str:
    """Return text cut to `limit` characters, for quoting it in a message."""
    return text if len(text) <= limit else text[:limit] + "…"


def clip(value: Any) -> Any:
    """Return a JSON-friendly value kept small enough for a row's `extra`."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value[:MAX_EXTRA_TEXT]
    if isinstance(value, list | tuple):
        return [clip(item) for item in list(value)[:MAX_EXTRA_ITEMS]]
    if isinstance(value, dict):
        return {str(key)[:100]: clip(item) for key, item in list(value.items())[:MAX_EXTRA_ITEMS]}
    return str(value)[:MAX_EXTRA_TEXT]


def split_line(text: str, delimiter: str = ",") -> list[str]:
    """Split one line as CSV (for a column line kept in a comment); [] when it is not CSV."""
    try:
        return next(csv.reader([text], delimiter=delimiter), [])
    except csv.Error:
        return []


def take_header(items: Iterator[Record | Comment | RowError]) -> Columns | None:
    """Read past comments up to the header row; None for a file without rows.

    Raises NotThisFormat when the header row itself cannot be read, as nothing after it can be.
    """
    for item in items:
        if isinstance(item, Comment):
            continue
        if isinstance(item, RowError):
            raise NotThisFormat(f"the header row (line {item.line}) cannot be read: {item.reason}")
        return Columns(item.fields)
    return None


class Columns:
    """Map a CSV header row to column positions by lower-case name."""

    def __init__(self, names: list[str]) -> None:
        self.names = [name.strip().lower().lstrip("#").strip() for name in names]
        self.index = {name: position for position, name in enumerate(self.names) if name}

    def __len__(self) -> int:
        return len(self.names)

    def __contains__(self, name: object) -> bool:
        return name in self.index

    def get(self, fields: list[str], name: str) -> str:
        """Return a row's value of the named column, stripped; "" when the column is absent."""
        position = self.index.get(name)
        if position is None or position >= len(fields):
            return ""
        return fields[position].strip()

    def picker(self, *names: str) -> Callable[[list[str]], tuple[str, ...]]:
        """Return a function giving a record's values of the named columns ("" for absent ones).

        It appends "" to the record (which must have the header's width) to stand for the columns
        the header lacks. Made once per file, it takes all values in one C call, as this is the
        per-row hot path of big feeds.
        """
        missing = len(self.names)
        # A spare index keeps itemgetter returning a tuple even for a single name.
        getter = operator.itemgetter(*(self.index.get(name, missing) for name in names), missing)

        def pick(fields: list[str]) -> tuple[str, ...]:
            fields.append("")
            values: tuple[str, ...] = getter(fields)
            return values[:-1]

        return pick

    def first(self, fields: list[str], *names: str) -> str:
        """Return the first non-empty value among the named columns."""
        for name in names:
            value = self.get(fields, name)
            if value:
                return value
        return ""


def width_problem(fields: list[str], columns: Columns) -> str | None:
    """Return why a record's field count differs from its header's, or None when it does not."""
    if len(fields) == len(columns):
        return None
    return f"the row has {len(fields)} fields where the header has {len(columns)}"
