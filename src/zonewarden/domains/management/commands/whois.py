"""`zonewarden whois NAME [--server HOST:PORT] [--json] [--fresh] [--update]`: ask the registry's WHOIS."""

from __future__ import annotations

import datetime as dt
import json
from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from zonewarden import clock
from zonewarden.domains.whois_lookup import apply_answer, lookup
from zonewarden.whois import WhoisError


class Command(BaseCommand):
    help = (
        "Ask the zone's WHOIS server about a name (Unicode names are converted to A-labels); "
        "answers are cached and kept as evidence."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("name", help="the domain name, e.g. example.kz or мысал.қаз")
        parser.add_argument("--server", help="HOST:PORT to ask instead of the zone's configured server")
        parser.add_argument("--json", action="store_true", help="print the answer as one JSON object")
        parser.add_argument(
            "--fresh", action="store_true", help="ask the server even if a stored answer is fresh enough"
        )
        parser.add_argument(
            "--update",
            action="store_true",
            help="bring the stored domain (registrar, contacts, name servers, statuses) up to date",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = clock.now()
        try:
            answer = lookup(
                options["name"],
                server=options["server"],
                max_age=dt.timedelta(0) if options["fresh"] else None,
                at=started,
            )
        except (WhoisError, ImproperlyConfigured) as exc:
            if options["json"]:
                self.stdout.write(json.dumps({"error": str(exc)}, ensure_ascii=False))
            raise CommandError(str(exc)) from exc
        if options["update"]:
            apply_answer(answer)
        if options["json"]:
            self.stdout.write(json.dumps(answer.parsed, ensure_ascii=False))
            return
        data = answer.parsed
        source = f"{answer.server}, {timezone.localtime(answer.fetched_at):%Y-%m-%d %H:%M %Z}"
        if answer.fetched_at < started:
            source += ", stored answer"
        if not answer.found:
            self.stdout.write(f"{data.get('domain')}: nothing found ({source})")
            return
        registrant = data.get("registrant") or {}
        admin = data.get("admin") or {}
        servers = [
            f"{server['name']}" + (f" ({', '.join(server['addresses'])})" if server.get("addresses") else "")
            for server in data.get("nameservers") or []
        ]
        lines = [
            f"{data['domain']} ({source})",
            f"  registrar:      {data.get('registrar') or '-'} (created by {data.get('registrar_created') or '-'})",
            f"  registrant:     {registrant.get('name') or '-'}"
            + (f", {registrant['organization']}" if registrant.get("organization") else ""),
            f"  admin contact:  {admin.get('name') or '-'} <{admin.get('email') or '-'}>"
            + (f", {admin['phone']}" if admin.get("phone") else ""),
            f"  name servers:   {'; '.join(servers) or '-'}",
            f"  statuses:       {', '.join(data.get('statuses') or []) or '-'}",
            f"  created:        {data.get('created') or '-'}",
            f"  modified:       {data.get('modified') or '-'}",
        ]
        if options["update"]:
            lines.append("  the stored domain was brought up to date")
        self.stdout.write("\n".join(lines))
