"""`zonewarden mail ingest FILE|-` and `zonewarden mail poll [--maildir PATH]`: read bounces and replies.

`ingest` takes one RFC 5322 message, or an mbox file (its first line is a "From " separator) with
many; `-` reads standard input. It prints a line per message (its kind, the notice and case it
was matched to) and, with `--json`, one JSON object as the last line: `read`, `stored`,
`duplicate`, `matched`, `failed`, `by_kind`. `poll` reads the new messages of the Maildir
(ZONEWARDEN_MAILDIR, or `--maildir`) once, as the worker does on every loop.
"""

from __future__ import annotations

import getpass
import json
import logging
import re
import sys
from argparse import ArgumentParser
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from zonewarden.notices.inbound import PollSummary, poll_maildir, take_in
from zonewarden.notices.models import InboundMail

log = logging.getLogger("zonewarden.inbound")
_ESCAPED_FROM = re.compile(rb"^>+From ")


def split_messages(data: bytes) -> Iterator[bytes]:
    """Yield one RFC 5322 message, or each message of an mbox file (it starts with a "From " line).

    Body lines that the mbox writer escaped (">From ", ">>From " in mboxrd) lose one ">"; the blank
    line the writer puts before the next separator is not part of the message.
    """
    if not data.startswith(b"From "):
        yield data
        return
    current: list[bytes] = []
    started = False
    for line in data.splitlines(keepends=True):
        if line.startswith(b"From "):
            if started:
                yield _without_separator_gap(current)
            current, started = [], True
            continue
        current.append(line[1:] if _ESCAPED_FROM.match(line) else line)
    if started:
        yield _without_separator_gap(current)


def _without_separator_gap(lines: list[bytes]) -> bytes:
    if lines and lines[-1].strip(b"\r\n") == b"":
        lines = lines[:-1]
    return b"".join(lines)


class Command(BaseCommand):
    help = "Read delivery-status reports and replies to notices: from a file or an mbox (ingest), or the Maildir (poll)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        ingest = sub.add_parser("ingest", help="one message, or an mbox file; - reads standard input")
        ingest.add_argument("file", help="an RFC 5322 message or an mbox file; - for standard input")
        ingest.add_argument("--json", action="store_true", help="print one JSON object as the last line")
        poll = sub.add_parser("poll", help="read the new messages of the Maildir once")
        poll.add_argument("--maildir", help="this Maildir instead of ZONEWARDEN_MAILDIR")
        poll.add_argument("--json", action="store_true", help="print one JSON object as the last line")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = f"cli:{getpass.getuser()}"
        if options["action"] == "poll":
            folder = options["maildir"] or settings.ZONEWARDEN_MAILDIR
            if not folder:
                raise CommandError("no Maildir: set ZONEWARDEN_MAILDIR or give --maildir")
            if not (Path(folder) / "new").is_dir():
                raise CommandError(f"{folder}: not a Maildir (no new/ folder)")
            summary = poll_maildir(folder, actor=actor)
            self._finish(summary, as_json=options["json"])
            return
        name = options["file"]
        try:
            data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
        except OSError as exc:
            raise CommandError(f"{name}: {exc.strerror or exc}") from exc
        summary = PollSummary()
        for number, raw in enumerate(split_messages(data), start=1):
            summary.read += 1
            try:
                mail = take_in(raw, actor=actor)
            except Exception as exc:
                log.exception("message %s of %s could not be taken in", number, name)
                summary.failed += 1
                self.stdout.write(f"{number}: not taken in: {type(exc).__name__}: {exc}")
                continue
            if mail is None:
                summary.duplicate += 1
                self.stdout.write(f"{number}: taken in before")
                continue
            summary.stored += 1
            summary.matched += mail.notice_id is not None
            summary.kinds[mail.kind] = summary.kinds.get(mail.kind, 0) + 1
            self.stdout.write(f"{number}: {_line(mail)}")
        self._finish(summary, as_json=options["json"])

    def _finish(self, summary: PollSummary, *, as_json: bool) -> None:
        counts = summary.as_json()
        if as_json:
            self.stdout.write(json.dumps(counts, ensure_ascii=False))
        else:
            kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(summary.kinds.items()))
            self.stdout.write(
                f"read {summary.read}, stored {summary.stored}, taken in before {summary.duplicate}, "
                f"matched {summary.matched}, failed {summary.failed}" + (f" ({kinds})" if kinds else "")
            )
        if summary.failed:
            raise CommandError(f"{summary.failed} message(s) could not be taken in; see the log")


def _line(mail: InboundMail) -> str:
    """Say what one stored message is and what it was matched to."""
    if mail.notice_id is None:
        about = "no notice of ours"
    else:
        about = f"notice {mail.notice_id}" + (f", case {mail.case_id}" if mail.case_id else "")
    return f"{mail.kind} (inbound {mail.pk}) — {about}"
