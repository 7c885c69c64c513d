"""`zonewarden demo`: load invented demo data and replay months of the process."""

from __future__ import annotations

import logging
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from zonewarden.cases.demo import demo_exists, run_demo

DEMO_USERS = [("admin", True), ("analyst", False), ("registry", False)]
DEMO_PASSWORD = "zonewarden-demo"  # noqa: S105 - invented demo accounts on a loopback server


class Command(BaseCommand):
    help = "Load the demo: invented .kz and .қаз names, incidents and cases in every state."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--domains", type=int, default=160)
        parser.add_argument("--days", type=int, default=150, help="how many days of the process to replay")

    def handle(self, *args: Any, **options: Any) -> None:
        from django.contrib.auth.models import Group

        from zonewarden.access import ANALYST, REGISTRY, ensure_groups

        ensure_groups()
        users = get_user_model()
        roles = {"analyst": ANALYST, "registry": REGISTRY}
        for name, superuser in DEMO_USERS:
            if not users.objects.filter(username=name).exists():
                user = users(username=name, is_staff=True, is_superuser=superuser)
                user.set_password(DEMO_PASSWORD)
                user.save()
                if name in roles:
                    user.groups.add(Group.objects.get(name=roles[name]))
        if demo_exists():
            self.stdout.write("demo data is loaded already")
            return
        self.stdout.write(
            f"replaying {options['days']} days of the process on {options['domains']} invented names…"
        )
        # The replay ticks a day at a time; its per-tick log would bury the summary.
        logging.getLogger("zonewarden.tick").setLevel(logging.WARNING)
        states = run_demo(
            seed=options["seed"], domains=options["domains"], days=options["days"], progress=self.stdout.write
        )
        listing = ", ".join(f"{state} {count}" for state, count in sorted(states.items()))
        self.stdout.write(self.style.SUCCESS(f"demo loaded: cases {listing}"))
