"""`zonewarden whois NAME [--server HOST:PORT] [--json] [--fresh] [--update]`."""

from __future__ import annotations

import datetime as dt
import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from zonewarden.domains.whois_lookup import apply_answer, lookup
from zonewarden.whois import WhoisError


class Command(BaseCommand):
    help = (
        "Ask the zone's WHOIS server about a name (Unicode names are converted); answers are cached and kept."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--server", help="HOST:PORT instead of the zone's configured server")
        parser.add_argument("--json", action="store_true", help="print the answer as one JSON object")
        parser.add_argument(
            "--fresh", action="store_true", help="ask the server even if a cached answer is fresh"
        )
        parser.add_argument(
            "--update", action="store_true", help="bring the stored domain up to date from the answer"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            answer = lookup(
                options["name"],
                server=options["server"],
                max_age=dt.timedelta(0) if options["fresh"] else None,
            )
        except (WhoisError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        if options["update"]:
            apply_answer(answer)
        if options["json"]:
            self.stdout.write(json.dumps(answer.parsed, ensure_ascii=False))
            return
        data = answer.parsed
        if not answer.found:
            self.stdout.write(f"{data.get('domain')}: not found at {answer.server}")
            return
        admin = data.get("admin") or {}
        self.stdout.write(
            "\n".join(
                [
                    f"{data['domain']} (asked {answer.server} at {answer.fetched_at:%Y-%m-%d %H:%M} UTC)",
                    f"  registrar: {data.get('registrar') or '-'}",
                    f"  registrant: {(data.get('registrant') or {}).get('name') or '-'}",
                    f"  administrative contact: {admin.get('name') or '-'} <{admin.get('email') or '-'}>",
                    f"  name servers: {', '.join(ns['name'] for ns in data.get('nameservers') or []) or '-'}",
                    f"  statuses: {', '.join(data.get('statuses') or []) or '-'}",
                    f"  created: {data.get('created') or '-'}; modified: {data.get('modified') or '-'}",
                ]
            )
        )
