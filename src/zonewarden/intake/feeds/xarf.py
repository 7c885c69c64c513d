"""X-ARF / XARF abuse reports in JSON: v4 (https://xarf.org, github.com/xarf/xarf-spec) and v3.

v4: one JSON object per report with `xarf_version` `4.x.y`, `report_id`, `timestamp`,
`reporter`, `source_identifier` (IP or domain), `category` and `type`; web abuse is
`category: "content"` with `type` `phishing`, `malware` or `remote_compromise` (and its
`compromise_type`, e.g. `defacement`), and the page in `url`. v3: `Version` `3...`,
`ReporterInfo`, and `Report` with `ReportType`, `Date` and the page in `Source.URL` (as the
spec's samples have it) or `Url` (as its v3 schema has it), else `SourceIp`.

A file may hold one report, a JSON array of reports, or one report per line (JSON Lines).
The URL is `url`, else `source_identifier`. The time is the report's `first_seen` when it gives
one, else its `timestamp` (v3: `Date`).

Category: for `content` reports the `type` (`phishing`, `malware`, `remote_compromise`), except
that a remote compromise whose `compromise_type` is `defacement` is `defacement`; for reports of
other categories `<category>:<type>` (e.g. `messaging:spam`); for v3 the `ReportType` in lower case.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from zonewarden.intake.feeds.base import (
    FeedFormat,
    FeedRow,
    Head,
    NotThisFormat,
    RowError,
    clip,
    parse_time,
    read_json_objects,
)

SOURCE = "xarf"


def _text(value: Any) -> str:
    """Return a JSON scalar as stripped text ("" for anything else)."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _object(value: Any) -> dict[str, Any]:
    """Return a JSON value if it is an object, else an empty one."""
    return value if isinstance(value, dict) else {}


def _is_v4(data: dict[str, Any]) -> bool:
    """Say whether an object is an XARF v4 report."""
    return "xarf_version" in data


def _is_v3(data: dict[str, Any]) -> bool:
    """Say whether an object is an XARF v3 report."""
    return "Version" in data and isinstance(data.get("Report"), dict)


def parse(stream: IO[bytes]) -> Iterator[FeedRow | RowError]:
    """Yield one row per X-ARF report."""
    checked = False
    for item in read_json_objects(stream):
        if isinstance(item, RowError):
            checked = True
            yield item
            continue
        data = item.data
        if not checked:
            if not (_is_v4(data) or _is_v3(data)):
                raise NotThisFormat(
                    "the first object is not an X-ARF report (no xarf_version, no Version/Report)"
                )
            checked = True
        if _is_v4(data):
            yield _v4(item.line, data)
        elif _is_v3(data):
            yield _v3(item.line, data)
        else:
            yield RowError(
                item.line, "the object is not an X-ARF report (no xarf_version, no Version/Report)"
            )


def _v4(line: int, data: dict[str, Any]) -> FeedRow | RowError:
    """Turn a v4 report into a row."""
    version = _text(data.get("xarf_version"))
    if not version.startswith("4"):
        return RowError(line, f"xarf_version {version!r} is not 4.x (only v4 and v3 reports are read)")
    category = _text(data.get("category")).lower()
    kind = _text(data.get("type")).lower()
    if not category or not kind:
        return RowError(line, "the report has no category or no type")
    compromise = _text(data.get("compromise_type")).lower()
    if category == "content":
        label = "defacement" if kind == "remote_compromise" and compromise == "defacement" else kind
    else:
        label = f"{category}:{kind}"
    url = _text(data.get("url")) or _text(data.get("source_identifier"))
    if not url:
        return RowError(line, "the report has neither url nor source_identifier")
    try:
        first_seen = parse_time(_text(data.get("first_seen")) or _text(data.get("timestamp")))
    except ValueError as exc:
        return RowError(line, f"timestamp: {exc}")
    reporter = _object(data.get("reporter"))
    tags = data.get("tags")
    extra: dict[str, Any] = {
        "report_id": _text(data.get("report_id")),
        "xarf_version": version,
        "xarf_type": f"{category}/{kind}",
        "compromise_type": compromise,
        "reporter": _text(reporter.get("org")) or _text(reporter.get("domain")),
        "target_brand": _text(data.get("target_brand")),
        "source_identifier": _text(data.get("source_identifier")),
        "reported_at": _text(data.get("timestamp")),
        "tags": [tag for tag in tags if isinstance(tag, str)] if isinstance(tags, list) else [],
    }
    return FeedRow(
        line=line,
        url=url,
        category=label,
        first_seen=first_seen,
        source=SOURCE,
        extra={key: clip(value) for key, value in extra.items() if value},
    )


def _v3(line: int, data: dict[str, Any]) -> FeedRow | RowError:
    """Turn a v3 report into a row."""
    report = _object(data.get("Report"))
    kind = _text(report.get("ReportType")).lower()
    if not kind:
        return RowError(line, "the v3 report has no ReportType")
    source = _object(report.get("Source"))
    url = _text(source.get("URL")) or _text(report.get("Url")) or _text(report.get("SourceIp"))
    if not url:
        return RowError(line, "the v3 report has no Source.URL, Url or SourceIp")
    try:
        first_seen = parse_time(_text(report.get("Date")))
    except ValueError as exc:
        return RowError(line, f"Date: {exc}")
    reporter = _object(data.get("ReporterInfo"))
    additional = _object(report.get("AdditionalInfo"))
    extra: dict[str, Any] = {
        "xarf_version": _text(data.get("Version")),
        "xarf_type": f"{_text(report.get('ReportClass')).lower()}/{kind}",
        "reporter": _text(reporter.get("ReporterOrg")) or _text(reporter.get("ReporterOrgDomain")),
        "target_brand": _text(additional.get("TargetBrand")),
    }
    return FeedRow(
        line=line,
        url=url,
        category=kind,
        first_seen=first_seen,
        source=SOURCE,
        extra={key: clip(value) for key, value in extra.items() if value},
    )


def sniff(head: Head) -> bool:
    """Say whether a file's head is an X-ARF JSON report."""
    text = head.text
    if text.lstrip()[:1] not in ("[", "{"):
        return False
    return '"xarf_version"' in text or (
        '"Version"' in text and '"ReporterInfo"' in text and '"Report"' in text
    )


FORMAT = FeedFormat(name="xarf", title="X-ARF JSON report (v4, v3)", parse=parse, sniff=sniff)
