"""`zonewarden notices list|send|resolve`: the outbox from the command line."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import CommandError

from zonewarden import clock
from zonewarden.cases import workflow
from zonewarden.jobs.queue import worker_name
from zonewarden.notices.models import Notice
from zonewarden.notices.outbox import resolve, send_due


class Command(clock.ReplayableCommand):
    help = "Look at the outbox, send what is due now, or decide on a notice whose sending was not confirmed."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="the latest notices")
        listing.add_argument("--state", choices=[state.value for state in Notice.State])
        listing.add_argument("--limit", type=int, default=50)
        sub.add_parser("send", help="send the due notices now (the worker does this every few seconds)")
        decide = sub.add_parser(
            "resolve",
            help="an unconfirmed or failed notice: it did go out (--sent), or send it again (--resend)",
        )
        decide.add_argument("notice", type=int)
        choice = decide.add_mutually_exclusive_group(required=True)
        choice.add_argument("--sent", action="store_true")
        choice.add_argument("--resend", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            rows = Notice.objects.select_related("case__domain").order_by("-created_at", "-pk")
            if options["state"]:
                rows = rows.filter(state=options["state"])
            for notice in rows[: options["limit"]]:
                domain = notice.case.domain_id if notice.case else "-"
                self.stdout.write(
                    f"{notice.pk:>6} {notice.state:<11} {notice.kind:<9} #{notice.number} {domain} "
                    f"→ {', '.join(notice.recipients) or '(no address)'}"
                    + (f"  [{notice.last_error[:80]}]" if notice.last_error else "")
                )
        elif action == "send":
            self.stdout.write(f"notices: {send_due(clock.now(), worker=worker_name())}")
        else:
            chosen = Notice.objects.select_related("case").filter(pk=options["notice"]).first()
            if chosen is None:
                raise CommandError(f"there is no notice {options['notice']}")
            try:
                resolve(chosen, sent=options["sent"], actor="cli:analyst")
            except workflow.WorkflowError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(
                f"notice {chosen.pk}: {'recorded as sent' if options['sent'] else 'queued again'}"
            )
