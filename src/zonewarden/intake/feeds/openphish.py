"""OpenPhish community feed: https://openphish.com/feed.txt (also github.com/openphish/public_feed).

Layout: plain text, one URL per line; no header, no comments, no times. The file is replaced
every 12 hours, so being listed is the only sign a URL is live. URLs are passed on as listed,
HTML escapes such as `&amp;` included. Lines starting with `#` are skipped.

Category: `phishing` for every line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO

from zonewarden.intake.feeds.base import FeedFormat, FeedRow, Head, NotThisFormat, RowError, read_lines, short

SOURCE = "openphish"
CATEGORY = "phishing"
_URL = re.compile(r"(?:[a-z][a-z0-9+.\-]*|hxxps?)://\S+", re.IGNORECASE)
_BARE = re.compile(r"[^\s,;\"'<>]+\.[^\s,;\"'<>]+")


def parse(stream: IO[bytes]) -> Iterator[FeedRow | RowError]:
    """Yield one row per listed URL."""
    first = True
    for item in read_lines(stream):
        if isinstance(item, RowError):
            first = False
            yield item
            continue
        number, text = item
        url = text.strip()
        if first:
            if not (_URL.fullmatch(url) or _BARE.fullmatch(url)):
                raise NotThisFormat(f"the first line is not a URL: {short(url)!r}")
            first = False
        yield FeedRow(line=number, url=url, category=CATEGORY, first_seen=None, source=SOURCE)


def sniff(head: Head) -> bool:
    """Say whether a file's head is an OpenPhish feed (a URL list named like one)."""
    # Any list of URLs reads as this format, so the name has to say it is OpenPhish's.
    named = "openphish" in head.filename or (
        head.filename.startswith("feed") and head.filename.endswith(".txt")
    )
    lines = head.lines[:-1] if len(head.lines) > 1 else head.lines  # the last may be cut off
    return named and bool(lines) and all(_URL.fullmatch(line) for line in lines)


FORMAT = FeedFormat(name="openphish", title="OpenPhish feed.txt (one URL per line)", parse=parse, sniff=sniff)
