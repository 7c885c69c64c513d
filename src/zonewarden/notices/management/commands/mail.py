"""`zonewarden mail ingest FILE|-` and `zonewarden mail poll`: read bounces and replies."""

from __future__ import annotations

import json
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from zonewarden.notices.inbound import poll_maildir, take_in


def split_messages(data: bytes) -> list[bytes]:
    """One RFC 5322 message, or the messages of an mbox file (it starts with a "From " line)."""
    if not data.startswith(b"From "):
        return [data]
    messages: list[bytes] = []
    current: list[bytes] = []
    for line in data.splitlines(keepends=True):
        if line.startswith(b"From ") and current:
            messages.append(b"".join(current))
            current = []
        if line.startswith(b"From ") and not current:
            continue  # the mbox separator line is not part of the message
        current.append(line[1:] if line.startswith(b">From ") else line)
    if current:
        messages.append(b"".join(current))
    return messages


class Command(BaseCommand):
    help = "Read delivery-status reports and replies to notices: from a file or an mbox (ingest), or the Maildir (poll)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        ingest = sub.add_parser("ingest", help="one message, or an mbox file; - reads standard input")
        ingest.add_argument("file")
        ingest.add_argument("--json", action="store_true", help="print one JSON object as the last line")
        poll = sub.add_parser("poll", help="read the new messages of the Maildir once")
        poll.add_argument("--maildir", help="this Maildir instead of ZONEWARDEN_MAILDIR")
        poll.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "poll":
            if not options["maildir"]:
                from django.conf import settings

                if not settings.ZONEWARDEN_MAILDIR:
                    raise CommandError("no Maildir: set ZONEWARDEN_MAILDIR or give --maildir")
            summary = poll_maildir(options["maildir"])
            result = {
                "read": summary.read,
                "stored": summary.stored,
                "duplicate": summary.duplicate,
                "by_kind": summary.kinds,
            }
            self.stdout.write(json.dumps(result) if options["json"] else f"maildir: {result}")
            return
        name = options["file"]
        try:
            data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
        except OSError as exc:
            raise CommandError(f"{name}: {exc.strerror or exc}") from exc
        counts: dict[str, Any] = {"read": 0, "stored": 0, "duplicate": 0, "matched": 0, "by_kind": {}}
        for number, raw in enumerate(split_messages(data), start=1):
            counts["read"] += 1
            mail = take_in(raw, actor="cli:mail")
            if mail is None:
                counts["duplicate"] += 1
                if not options["json"]:
                    self.stdout.write(f"{number}: taken in before")
                continue
            counts["stored"] += 1
            counts["by_kind"][mail.kind] = counts["by_kind"].get(mail.kind, 0) + 1
            counts["matched"] += mail.notice_id is not None
            if not options["json"]:
                about = (
                    f"notice {mail.notice_id}, case {mail.case_id}" if mail.notice_id else "no notice of ours"
                )
                self.stdout.write(f"{number}: {mail.get_kind_display()} — {about}")
        if options["json"]:
            self.stdout.write(json.dumps(counts))
