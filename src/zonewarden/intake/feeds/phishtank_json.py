"""PhishTank "online-valid" database as JSON: http://data.phishtank.com/data/online-valid.json.

Layout: a JSON array of objects with `phish_id` (a string, in newer files a number), `url`,
`phish_detail_url`, `submission_time`, `verified`, `verification_time`, `online`, `target` and
`details` (IP, network, country). Times are ISO 8601 with an offset. A fragment cut out of the
array (objects followed by commas, no brackets) and JSON Lines read too.

Category: `phishing` for every object.
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

SOURCE = "phishtank"
CATEGORY = "phishing"


def _text(value: Any) -> str:
    """Return a JSON scalar as stripped text ("" for anything else)."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def parse(stream: IO[bytes]) -> Iterator[FeedRow | RowError]:
    """Yield the entries of a PhishTank JSON file."""
    checked = False
    for item in read_json_objects(stream):
        if isinstance(item, RowError):
            checked = True
            yield item
            continue
        data = item.data
        if not checked:
            if "phish_id" not in data and "phish_detail_url" not in data:
                raise NotThisFormat("the first object has no phish_id: not a PhishTank entry")
            checked = True
        url = _text(data.get("url"))
        if not url:
            yield RowError(item.line, "the entry has no url")
            continue
        try:
            first_seen = parse_time(_text(data.get("submission_time")))
        except ValueError as exc:
            yield RowError(item.line, f"submission_time: {exc}")
            continue
        extra: dict[str, Any] = {
            "phish_id": _text(data.get("phish_id")),
            "target": _text(data.get("target")),
            "verified": _text(data.get("verified")),
            "online": _text(data.get("online")),
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
    """Say whether a file's head is a PhishTank JSON file."""
    return head.text.lstrip()[:1] in ("[", "{") and '"phish_id"' in head.text


FORMAT = FeedFormat(name="phishtank_json", title="PhishTank online-valid JSON", parse=parse, sniff=sniff)
