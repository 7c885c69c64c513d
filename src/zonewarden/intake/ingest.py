"""Take in one feed file: parse, normalize, filter to the zone, de-duplicate, store in bulk, open cases.

Rows are parsed and normalized in memory first; the database then sees a handful of bulk
statements per few thousand rows, never a query per row. A row that cannot be used is counted
and reported with its line number and reason; the rest of the file goes in. A file that is not
the format it was named (or detected) as is refused whole, and nothing is stored.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import io
import json
import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import IO, Any

import idna
from django.conf import settings
from django.db import transaction

from zonewarden import clock
from zonewarden.bulkinsert import EncodedJSON, chunked, insert_rows, select_in
from zonewarden.cases import workflow
from zonewarden.cases.models import Case, State
from zonewarden.domains.models import Domain
from zonewarden.intake.feeds import FORMATS, detect_format
from zonewarden.intake.feeds.base import FeedRow, NotThisFormat, RowError
from zonewarden.intake.models import Category, Incident, Ingest
from zonewarden.intake.normalize import BadURL, in_zones, incident_key, normalize_url

CHUNK = 2000
# Rows classified at a time; the parser process works on the next batch while one is stored.
BATCH_ROWS = 20000
# Reported rejected rows are capped so one broken million-line file cannot bloat the record.
MAX_REPORTED_REJECTIONS = 1000
MAX_SOURCES = 50


class IngestRefused(Exception):
    """The file as a whole cannot be taken in; nothing was stored."""


@dataclass
class IngestReport:
    """What became of a file's rows; the keys of `as_json` are a contract of `ingest --json`."""

    file_name: str
    format: str
    source: str
    sha256: str
    read: int = 0
    rejected: int = 0
    no_domain: int = 0
    outside_zone: int = 0
    in_zone: int = 0
    new: int = 0
    duplicate: int = 0
    rejected_rows: list[dict[str, Any]] = field(default_factory=list)
    ingest_id: int | None = None
    cases_opened: int = 0
    cases_touched: set[int] = field(default_factory=set)

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.rejected_rows) < MAX_REPORTED_REJECTIONS:
            self.rejected_rows.append({"line": line, "reason": reason})

    def counts(self) -> dict[str, int]:
        return {
            "read": self.read,
            "rejected": self.rejected,
            "no_domain": self.no_domain,
            "outside_zone": self.outside_zone,
            "in_zone": self.in_zone,
            "new": self.new,
            "duplicate": self.duplicate,
        }

    def as_json(self) -> dict[str, Any]:
        return {
            **self.counts(),
            "rejected_rows": self.rejected_rows,
            "format": self.format,
            "source": self.source,
            "sha256": self.sha256,
            "ingest_id": self.ingest_id,
        }


@dataclass
class _Sighting:
    """The first in-zone row of one incident key in this file, with what later rows add."""

    key: str
    url: str
    category: str
    domain: str
    first_seen: dt.datetime
    last_seen: dt.datetime
    evidence: EncodedJSON


def category_map() -> dict[str, str]:
    """Return feed label → taxonomy code, from the categories' data (codes map to themselves)."""
    mapping: dict[str, str] = {}
    for code, labels in Category.objects.values_list("code", "feed_labels"):
        mapping[code] = code
        for label in labels or []:
            mapping[str(label).lower()] = code
    return mapping


def resolve_format(head: bytes, file_name: str, requested: str | None) -> str:
    """Return the format to parse with, or refuse with a message naming the known formats."""
    known = ", ".join(sorted(FORMATS))
    if requested:
        if requested not in FORMATS:
            raise IngestRefused(f"unknown format {requested!r}; known formats: {known}")
        return requested
    detected = detect_format(head, file_name)
    if detected is None:
        raise IngestRefused(
            f"{file_name}: the format could not be recognised; name it with --format ({known})"
        )
    return detected


def _parsed(fmt: str, data: bytes, file_name: str) -> Iterator[FeedRow | RowError]:
    rows = FORMATS[fmt].parse(io.BytesIO(data))
    try:
        first = next(rows)
    except StopIteration:
        return
    except NotThisFormat as exc:
        raise IngestRefused(f"{file_name} is not a {fmt} file: {exc}") from exc
    yield first
    yield from rows


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Hold off Python's cycle collector while a file's rows are built and stored.

    The rows are plain acyclic data freed by reference counting; with hundreds of thousands of
    them alive the collector's full passes would otherwise cost as much as the parsing.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def ingest_bytes(
    data: bytes,
    *,
    file_name: str,
    actor: str,
    fmt: str | None = None,
    source: str | None = None,
    at: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
    parallel: bool | None = None,
) -> IngestReport:
    """Take in a whole file's bytes and return what became of its rows.

    `progress` is called with the number of rows read since its last call. With `parallel` the
    file is parsed in a forked process while this one stores what it has parsed so far; by
    default that happens for files of ZONEWARDEN_INGEST_PARALLEL_BYTES and more.
    """
    started = at or clock.now()
    fmt = resolve_format(data[:16384], file_name, fmt)
    report = IngestReport(
        file_name=file_name, format=fmt, source=source or fmt, sha256=hashlib.sha256(data).hexdigest()
    )
    if parallel is None:
        parallel = len(data) >= settings.ZONEWARDEN_INGEST_PARALLEL_BYTES and _can_fork()
    reading = _Reading(fmt, data, file_name, category_map(), started, tuple(settings.ZONEWARDEN_ZONES))
    with _collector_paused():
        batches = _batches_from_child(reading) if parallel else _batches(reading)
        with transaction.atomic():  # the incidents and the record of the ingest, or nothing
            _store_batches(batches, report, actor=actor, at=started, progress=progress)
            record = Ingest.objects.create(
                file_name=file_name[:255],
                sha256=report.sha256,
                size=len(data),
                format=fmt,
                source=report.source[:64],
                counts=report.counts(),
                rejected_rows=report.rejected_rows,
                rejected_total=report.rejected,
                actor=actor,
                started_at=started,
                finished_at=clock.now() if at is None else started,
            )
    report.ingest_id = record.pk
    _auto_confirm(report, actor=actor, at=started)
    return report


def ingest_stream(stream: IO[bytes], **kwargs: Any) -> IngestReport:
    """Take in a file object (read whole: the file's hash is part of the record)."""
    return ingest_bytes(stream.read(), **kwargs)


@dataclass(frozen=True)
class _Reading:
    """Everything parsing and classifying a file needs (and nothing tied to the database)."""

    fmt: str
    data: bytes
    file_name: str
    categories: dict[str, str]
    now: dt.datetime
    zones: tuple[str, ...]


@dataclass
class _Batch:
    """The classified rows of one stretch of a file."""

    read: int = 0
    no_domain: int = 0
    outside_zone: int = 0
    in_zone: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    sightings: dict[str, _Sighting] = field(default_factory=dict)


def _batches(reading: _Reading, size: int = BATCH_ROWS) -> Iterator[_Batch]:
    """Parse, normalize, filter and de-duplicate a file's rows, `size` rows a batch.

    The first batches are smaller (doubling up to `size`), so that storing can start soon after
    parsing has, and the parser stays ahead of it from then on.
    """
    categories, now, zones = reading.categories, reading.now, reading.zones
    batch = _Batch()
    limit = max(1, size // 16)
    for row in _parsed(reading.fmt, reading.data, reading.file_name):
        if batch.read >= limit:
            yield batch
            batch, limit = _Batch(), min(size, limit * 2)
        batch.read += 1
        if isinstance(row, RowError):
            batch.rejected.append((row.line, row.reason))
            continue
        try:
            url = normalize_url(row.url)
        except BadURL as exc:
            batch.rejected.append((row.line, f"unusable URL: {exc}"))
            continue
        if url.is_ip or url.registered_domain is None:
            batch.no_domain += 1
            continue
        if not in_zones(url.registered_domain, zones):
            batch.outside_zone += 1
            continue
        batch.in_zone += 1
        category = categories.get(row.category.lower(), "other")
        key = incident_key(category, url.url)
        when = row.first_seen or now
        earlier = batch.sightings.get(key)
        if earlier is None:
            batch.sightings[key] = _Sighting(
                key,
                url.url,
                category,
                url.registered_domain,
                when,
                when,
                # Encoded here, in the parser process when there is one, not by the storing one.
                EncodedJSON(json.dumps({"feed": reading.fmt, **row.extra}, ensure_ascii=False)),
            )
        else:
            earlier.first_seen = min(earlier.first_seen, when)
            earlier.last_seen = max(earlier.last_seen, when)
    yield batch


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _send_batches(send: Connection, reading: _Reading) -> None:
    """The parser process: classify the file and hand each batch over as it is done."""
    try:
        for batch in _batches(reading):
            send.send(("batch", batch))
        send.send(("end", None))
    except IngestRefused as exc:
        send.send(("refused", str(exc)))
    except Exception as exc:  # reported to, and raised in, the storing process
        send.send(("failed", f"{type(exc).__name__}: {exc}"))
    finally:
        send.close()


def _batches_from_child(reading: _Reading) -> Iterator[_Batch]:
    """Yield the batches a forked parser process classifies while this process stores."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_send_batches, args=(send, reading), name="zonewarden-ingest", daemon=True)
    child.start()
    send.close()
    try:
        while True:
            try:
                kind, payload = receive.recv()
            except EOFError:
                raise RuntimeError(
                    f"the parser process for {reading.file_name} stopped unexpectedly"
                ) from None
            if kind == "batch":
                yield payload
            elif kind == "end":
                return
            elif kind == "refused":
                raise IngestRefused(payload)
            else:
                raise RuntimeError(f"parsing {reading.file_name} failed: {payload}")
    finally:
        receive.close()
        child.join(timeout=10)
        if child.is_alive():
            child.kill()
            child.join()


def _merge_sources(sources: list[str], source: str) -> list[str]:
    if source in sources or len(sources) >= MAX_SOURCES:
        return sources
    return [*sources, source]


def _store_batches(
    batches: Iterable[_Batch],
    report: IngestReport,
    *,
    actor: str,
    at: dt.datetime,
    progress: Callable[[int], None] | None,
) -> None:
    opened: set[str] = set()
    joined: dict[int, int] = {}
    for batch in batches:
        report.read += batch.read
        report.no_domain += batch.no_domain
        report.outside_zone += batch.outside_zone
        report.in_zone += batch.in_zone
        for line, reason in batch.rejected:
            report.reject(line, reason)
        new = _store(batch.sightings, report, actor=actor, at=at, opened=opened, joined=joined)
        report.new += new
        report.duplicate += batch.in_zone - new
        if progress is not None:
            progress(batch.read)
    report.cases_opened = len(opened)
    if joined:
        workflow.record_incidents_added(joined, actor=actor, at=at, source=report.source)


def _store(
    sightings: dict[str, _Sighting],
    report: IngestReport,
    *,
    actor: str,
    at: dt.datetime,
    opened: set[str],
    joined: dict[int, int],
) -> int:
    """Store one batch; return how many incidents it created.

    Incidents already known (from earlier files or earlier batches) get this source and the
    batch's times; domains whose case was opened are added to `opened`, and the count of new
    incidents joining a case that was open before is added up in `joined`.
    """
    changed = []
    known = [key for (key,) in select_in(Incident, ("key",), "key", list(sightings))]
    for chunk in chunked(known):
        found = Incident.objects.filter(key__in=chunk).values_list(
            "pk", "key", "first_seen", "last_seen", "sources"
        )
        for pk, key, was_first, was_last, was_sources in found:
            sighting = sightings.pop(key)
            sources = _merge_sources(list(was_sources), report.source)
            first_seen = min(was_first, sighting.first_seen)
            last_seen = max(was_last, sighting.last_seen)
            if (sources, first_seen, last_seen) != (was_sources, was_first, was_last):
                changed.append(Incident(pk=pk, sources=sources, first_seen=first_seen, last_seen=last_seen))
    if changed:
        Incident.objects.bulk_update(changed, ["sources", "first_seen", "last_seen"], batch_size=CHUNK)
    if not sightings:
        return 0
    domains = {s.domain for s in sightings.values()}
    _ensure_domains(domains)
    cases = workflow.open_case_ids(
        domains, actor=actor, at=at, detail={"source": report.source}, opened=opened
    )
    report.cases_touched.update(cases.values())
    for sighting in sightings.values():
        if sighting.domain not in opened:
            case_pk = cases[sighting.domain]
            joined[case_pk] = joined.get(case_pk, 0) + 1
    sources = [report.source]  # one object for every row: encoded once (never changed)
    insert_rows(
        Incident,
        (
            "key",
            "domain_id",
            "url",
            "category_id",
            "sources",
            "first_seen",
            "last_seen",
            "evidence",
            "case_id",
        ),
        (
            (
                s.key,
                s.domain,
                s.url,
                s.category,
                sources,
                s.first_seen,
                s.last_seen,
                s.evidence,
                cases[s.domain],
            )
            for s in sightings.values()
        ),
    )
    return len(sightings)


def _unicode_name(name: str) -> str:
    if "xn--" not in name:
        return name
    try:
        return str(idna.decode(name))
    except idna.IDNAError:
        return name


def _ensure_domains(names: set[str]) -> None:
    # Names the registry's data has not told us about yet are added bare (its import fills in
    # the rest); the names already known are left as they are.
    insert_rows(
        Domain,
        ("name", "unicode_name"),
        ((name, _unicode_name(name)) for name in sorted(names)),
        ignore_conflicts=True,
    )


def _auto_confirm(report: IngestReport, *, actor: str, at: dt.datetime) -> None:
    """Confirm the recorded cases that a trusted source's new incidents opened or joined."""
    if report.source not in settings.ZONEWARDEN_TRUSTED_SOURCES or not report.cases_touched:
        return
    for case in Case.objects.filter(pk__in=sorted(report.cases_touched), state=State.RECORDED):
        try:
            workflow.confirm(case, actor=actor, at=at)
        except workflow.InvalidTransition:
            continue  # confirmed or rejected meanwhile
