"""`zonewarden demo`: load invented demo data and replay months of the process against the demo's own
sites and name server on loopback; `zonewarden demo --serve-sites` serves those sites afterwards."""

from __future__ import annotations

import logging
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from zonewarden.cases.demo import demo_exists, run_demo
from zonewarden.demo import network
from zonewarden.demo.sites import SiteBook, SiteBookError

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
        parser.add_argument(
            "--sites-address",
            default=network.DEFAULT_ADDRESS,
            help="the loopback address the demo's sites and name server listen on (default %(default)s)",
        )
        parser.add_argument(
            "--sites-port",
            type=int,
            default=network.HTTP_PORT,
            help="the sites' HTTP port (default 80; 0 or no permission: a free port, which the URLs carry)",
        )
        parser.add_argument(
            "--dns-port",
            type=int,
            default=network.DNS_PORT,
            help="the name server's port, UDP and TCP (default 53; 0 or no permission: a free port)",
        )
        parser.add_argument(
            "--serve-sites",
            action="store_true",
            help="serve the sites and the name server the demo saved, until stopped (`serve --demo` runs this)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["serve_sites"]:
            self._serve_sites()
            return
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
        book = SiteBook(zones=list(settings.ZONEWARDEN_ZONES))
        try:
            servers = network.start(
                book,
                address=options["sites_address"],
                http_port=options["sites_port"],
                dns_port=options["dns_port"],
                say=lambda text: self.stderr.write(self.style.WARNING(text)),
            )
        except network.DemoNetworkError as exc:
            raise CommandError(str(exc)) from None
        try:
            self.stdout.write(f"the demo's sites: {_where(book)}")
            # The checker looks the invented names up in the demo's name server and may reach the
            # demo's address (loopback, refused otherwise): real fetches, nothing leaves the machine.
            with override_settings(**servers.checker_settings()):
                states = run_demo(
                    seed=options["seed"],
                    domains=options["domains"],
                    days=options["days"],
                    progress=self.stdout.write,
                    sites=book,
                )
        finally:
            servers.stop()
        book.save(network.state_path())
        listing = ", ".join(f"{state} {count}" for state, count in sorted(states.items()))
        self.stdout.write(self.style.SUCCESS(f"demo loaded: cases {listing}"))
        sites = ", ".join(f"{what} {count}" for what, count in book.counts().items())
        self.stdout.write(f"the demo's sites ({sites}) are saved in {network.state_path()}")
        self._link_registrar(users.objects.get(username="registrar"))

    def _serve_sites(self) -> None:
        """Serve the saved sites and their name server until SIGTERM or Ctrl-C."""
        import signal
        import threading

        try:
            book = SiteBook.load(network.state_path())
            servers = network.start(
                book,
                address=book.address,
                http_port=book.http_port,
                dns_port=book.dns_port,
                fallback=False,  # the URLs in the database name this port
            )
        except (SiteBookError, network.DemoNetworkError) as exc:
            raise CommandError(str(exc)) from None
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
        self.stdout.write(f"the demo's sites: {_where(book)}", ending="\n")
        self.stdout.flush()
        try:
            while not stop.wait(3600):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            servers.stop()

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


def _where(book: SiteBook) -> str:
    return (
        f"web server http://{book.address}:{book.http_port}/, "
        f"name server {book.address}:{book.dns_port} (UDP and TCP)"
    )
