"""Shadowserver reports of hacked sites and bad URLs: https://www.shadowserver.org/what-we-do/network-reporting/.

Reports read: Compromised-Website (`compromised_website`, also the IPv6 one), Malware-URL
(`malware_url`), Phish-URL (`phish_url`, retired) and Spam-URL (`spam_url`). Layout: CSV with a
quoted header row; `timestamp` is `YYYY-MM-DD HH:MM:SS` UTC. Columns are found by name, so
added or reordered columns (Shadowserver changes them; see their report_schema repository) do
not matter. The report type is told by the columns present, as file names get changed.

The URL: `url` when it is a whole URL (Malware-URL, Phish-URL, Spam-URL); in Compromised-Website
`url` is only the path, and the host is `http_host`, else `hostname`, else `ip`, with the scheme
from `application` (or port 443) and a non-default `port`.

Category: the report type (`compromised_website`, `malware_url`, `phish_url`, `spam_url`).
Shadowserver's own `category` and `tag` of a compromised site go into `extra`.
"""

from __future__ import annotations

from collections.abc import Iterator, Set
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
    found,
    parse_time,
    read_records,
    take_header,
    width_problem,
)

SOURCE = "shadowserver"
REPORT_TYPES = ("compromised_website", "malware_url", "phish_url", "spam_url")
EXTRA_COLUMNS = (
    "ip",
    "asn",
    "geo",
    "tag",
    "category",
    "family",
    "system",
    "detected_since",
    "redirect_target",
    "cc_url",
    "sha256",
    "source",
    "severity",
)


def report_type(columns: Set[str]) -> str | None:
    """Return which report a header row belongs to, or None for none read here."""
    if "timestamp" not in columns:
        return None
    if "http_host" in columns or "redirect_target" in columns or "detected_since" in columns:
        return "compromised_website"
    if "url" not in columns:
        return None
    if "subject" in columns or "sender" in columns:
        return "spam_url"
    if "sha256" in columns or "tag" in columns:
        return "malware_url"
    if "source" in columns:
        return "phish_url"
    return None


def parse(stream: IO[bytes]) -> Iterator[FeedRow | RowError]:
    """Yield the rows of a Shadowserver report."""
    items = read_records(stream)
    columns = take_header(items)
    if columns is None:
        return
    kind = report_type(columns.index.keys())
    if kind is None:
        raise NotThisFormat(
            "the header row is not that of a Shadowserver compromised_website, malware_url, phish_url "
            f"or spam_url report (found: {found(columns)})"
        )
    for item in items:
        if isinstance(item, Comment):
            continue
        if isinstance(item, RowError):
            yield item
            continue
        yield _row(item.line, item.fields, columns, kind)


def _row(line: int, fields: list[str], columns: Columns, kind: str) -> FeedRow | RowError:
    """Turn one record of a report into a row."""
    problem = width_problem(fields, columns)
    if problem is not None:
        return RowError(line, problem)
    extra: dict[str, Any] = {"report": kind}
    url = columns.get(fields, "url")
    if kind == "compromised_website" and "://" not in url:
        built = _site_url(fields, columns, extra)
        if built is None:
            return RowError(line, "no host: http_host, hostname and ip are all empty")
        url = built
    if not url:
        return RowError(line, "the url field is empty")
    try:
        first_seen = parse_time(columns.get(fields, "timestamp"))
    except ValueError as exc:
        return RowError(line, f"timestamp: {exc}")
    for name in EXTRA_COLUMNS:
        value = columns.get(fields, name)
        if value:
            extra[name] = clip(value)
    return FeedRow(line=line, url=url, category=kind, first_seen=first_seen, source=SOURCE, extra=extra)


def _site_url(fields: list[str], columns: Columns, extra: dict[str, Any]) -> str | None:
    """Build a hacked page's URL from the host, port and path columns of Compromised-Website."""
    for name in ("http_host", "hostname", "host", "ip"):
        host = columns.get(fields, name)
        if host:
            if name != "http_host":
                extra["host_from"] = name
            break
    else:
        return None
    port = columns.get(fields, "port")
    application = columns.get(fields, "application").lower()
    scheme = application if application in ("http", "https") else "https" if port == "443" else "http"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address (the compromised_website6 report)
    if port and port != {"http": "80", "https": "443"}[scheme]:
        host = f"{host}:{port}"
    path = columns.get(fields, "url") or "/"
    if not path.startswith("/"):
        path = "/" + path
    return f"{scheme}://{host}{path}"


def sniff(head: Head) -> bool:
    """Say whether a file's head is one of the Shadowserver reports read here."""
    return report_type(head.header_fields()) is not None


FORMAT = FeedFormat(
    name="shadowserver",
    title="Shadowserver report (compromised/malware/phish/spam URL)",
    parse=parse,
    sniff=sniff,
)
