"""`zonewarden registrant check DOMAIN | --case ID [--dns] [--json]`: the registrant-data checks."""

from __future__ import annotations

import getpass
import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from zonewarden.cases.models import OPEN_STATES, Case
from zonewarden.domains.models import Domain
from zonewarden.domains.registrant_review import (
    ContactReview,
    check_contacts,
    finding_evidence,
    review_contacts,
)
from zonewarden.whois.parser import to_alabel


class Command(BaseCommand):
    help = (
        "Check the registrant and administrative contact of a name and record the findings on its open case."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser(
            "check",
            help="check a name's contacts (or a case's); findings go on the open case with the "
            "unreliable-registrant ground",
        )
        check.add_argument("domain", nargs="?", help="the domain name (Unicode names are converted)")
        check.add_argument("--case", type=int, help="the case to review, instead of a name")
        check.add_argument(
            "--dns", action="store_true", help="also look the mail domains up in DNS (MX, else A/AAAA)"
        )
        check.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        if (options["domain"] is None) == (options["case"] is None):
            raise CommandError("name a domain or give --case ID (one of the two)")
        case = self._case(options)
        dns = True if options["dns"] else None
        if case is None:
            domain = self._domain(options["domain"])
            reviews = check_contacts(domain, dns=dns)
        else:
            domain = case.domain
            actor = f"cli:{getpass.getuser()}"
            reviews = review_contacts(case, actor=actor, dns=dns)
        recorded = sum(len(review.recorded) for review in reviews)
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "domain": domain.name,
                        "case": case.pk if case else None,
                        "recorded": recorded,
                        "findings": [
                            {"contact": review.contact.handle, "role": review.role, **finding_evidence(f)}
                            for review in reviews
                            for f in review.findings
                        ],
                    },
                    ensure_ascii=False,
                )
            )
            return
        self._print(domain, case, reviews, recorded)

    def _case(self, options: dict[str, Any]) -> Case | None:
        """Return the case named by --case, or the open case of the named domain (None if it has none)."""
        if options["case"] is not None:
            case = Case.objects.select_related("domain").filter(pk=options["case"]).first()
            if case is None:
                raise CommandError(f"there is no case {options['case']}")
            return case
        domain = self._domain(options["domain"])
        return Case.objects.select_related("domain").filter(domain=domain, state__in=OPEN_STATES).first()

    def _domain(self, name: str) -> Domain:
        try:
            alabel = to_alabel(name)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        domain = Domain.objects.select_related("registrant", "admin_contact").filter(pk=alabel).first()
        if domain is None:
            raise CommandError(f"{alabel} is not a known name (load the registry's data, or whois --update)")
        return domain

    def _print(self, domain: Domain, case: Case | None, reviews: list[ContactReview], recorded: int) -> None:
        if not reviews:
            self.stdout.write(f"{domain.name}: no registrant or administrative contact is known")
        for review in reviews:
            contact = review.contact
            self.stdout.write(f"{domain.name} {review.role} {contact.handle} ({contact}):")
            if not review.findings:
                self.stdout.write("  no findings")
            for finding in review.findings:
                mark = " (new)" if finding in review.recorded else ""
                self.stdout.write(f"  {finding.code}{mark}: {finding.message}")
        if case is None:
            self.stdout.write("no open case: nothing was recorded")
        elif not case.is_open:
            self.stdout.write(f"case {case.pk} is {case.state}: nothing was recorded")
        elif recorded:
            self.stdout.write(
                f"case {case.pk}: {recorded} finding(s) recorded with the unreliable-registrant ground"
            )
        else:
            self.stdout.write(f"case {case.pk}: nothing new to record")
