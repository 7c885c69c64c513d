"""Feed formats intake reads: a parser per format, and recognising a file's format from its head.

Every parser has the signature `parse(stream: IO[bytes]) -> Iterator[FeedRow | RowError]`: it
yields a FeedRow per reported URL and a RowError per row it cannot read, and raises
NotThisFormat, before yielding anything, only for a file that is not of its format at all.
"""

from __future__ import annotations

from zonewarden.intake.feeds import (
    certpl,
    openphish,
    phishtank_csv,
    phishtank_json,
    plain_csv,
    shadowserver,
    urlhaus,
    urlhaus_tld,
    xarf,
    zoneh,
)
from zonewarden.intake.feeds.base import FeedFormat, FeedRow, Head, NotThisFormat, RowError

__all__ = ["FORMATS", "FeedFormat", "FeedRow", "NotThisFormat", "RowError", "detect_format"]

FORMATS: dict[str, FeedFormat] = {
    module.FORMAT.name: module.FORMAT
    for module in (
        urlhaus,
        urlhaus_tld,
        phishtank_csv,
        phishtank_json,
        openphish,
        shadowserver,
        certpl,
        zoneh,
        xarf,
        plain_csv,
    )
}


def detect_format(head: bytes, filename: str) -> str | None:
    """Return the one format a file's first bytes (a few KB) fit, or None when none or several do."""
    if not head.strip():
        return None
    view = Head.of(head, filename)
    matches = [name for name, feed in FORMATS.items() if feed.sniff(view)]
    return matches[0] if len(matches) == 1 else None
