"""`zonewarden demo`: load invented demo data and replay months of the process."""

from __future__ import annotations

import logging
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from zonewarden.cases.demo import demo_exists, run_demo

# (name, staff, superuser): the administrator, and one user of each party's role.
DEMO_USERS = [
    ("admin", True, True),
    ("analyst", True, False),
    ("registry", False, False),
    ("registrar", False, False),
]
DEMO_PASSWORD = "zonewarden-demo"  # noqa: S105 - invented demo accounts on a loopback server


class Command(BaseCommand):
    help = "Load the demo: invented .kz and .қаз names, incidents and cases in every state."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--domains", type=int, default=160)
        parser.add_argument("--days", type=int, default=150, help="how many days of the process to replay")

    def handle(self, *args: Any, **options: Any) -> None:
        from django.contrib.auth.models import Group

        from zonewarden.access import ANALYST, REGISTRAR, REGISTRY, ensure_groups

        ensure_groups()
        users = get_user_model()
        roles = {"analyst": ANALYST, "registry": REGISTRY, "registrar": REGISTRAR}
        for name, staff, superuser in DEMO_USERS:
            if not users.objects.filter(username=name).exists():
                user = users(username=name, is_staff=staff, is_superuser=superuser)
                user.set_password(DEMO_PASSWORD)
                user.save()
                if name in roles:
                    user.groups.add(Group.objects.get(name=roles[name]))
        if demo_exists():
            self.stdout.write("demo data is loaded already")
            self._link_registrar(users.objects.get(username="registrar"))
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
        self._link_registrar(users.objects.get(username="registrar"))

    def _link_registrar(self, user: Any) -> None:
        """The demo registrar user works for the registrar with the most suspended names."""
        from django.db.models import Count, Q

        from zonewarden.cases.models import State
        from zonewarden.domains.models import Registrar
        from zonewarden.registry.models import RegistrarUser

        if RegistrarUser.objects.filter(user=user).exists():
            return
        busiest = (
            Registrar.objects.annotate(
                held=Count("domains__cases", filter=Q(domains__cases__state=State.SUSPENDED))
            )
            .order_by("-held", "code")
            .first()
        )
        if busiest is not None:
            RegistrarUser.objects.create(user=user, registrar=busiest)
