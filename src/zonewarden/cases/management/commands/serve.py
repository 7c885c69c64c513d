"""`zonewarden serve`: the web server (gunicorn, several processes) and the worker together;
Ctrl-C or SIGTERM stops both. With `--demo`, the demo's sites and name server run beside them."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the web server and the worker side by side (embedded mode)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="address:port to listen on")
        parser.add_argument(
            "--demo",
            action="store_true",
            help="run the demo's sites and name server too, and say how to log in to the demo accounts",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=web_workers(),
            help="web server processes (default: ZONEWARDEN_WEB_WORKERS, else 2 per core + 1, at most 8)",
        )
        parser.add_argument(
            "--no-worker", action="store_true", help="the web server only (run `zonewarden worker` apart)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        users = get_user_model()
        login = "log in as admin with the password printed when it was created"
        if options["demo"]:
            from zonewarden.cases.management.commands.demo import DEMO_PASSWORD

            login = f"log in as admin (or analyst, registry, registrar) with the password {DEMO_PASSWORD}"
        elif not users.objects.filter(is_superuser=True).exists():
            password = secrets.token_urlsafe(12)
            users.objects.create_superuser("admin", "", password)
            login = f"log in as admin with the one-time password {password} (shown only now: change it)"

        def interrupt(signum: int, frame: FrameType | None) -> None:
            raise KeyboardInterrupt

        # A SIGTERM (from a service manager or `timeout`) stops both children like Ctrl-C does.
        signal.signal(signal.SIGTERM, interrupt)
        command = [sys.executable, "-m", "zonewarden"]
        environment = None
        sites = None
        if options["demo"]:
            sites, environment = self._demo_sites(command)
        # Our own interpreter and module, with fixed arguments.
        worker = (
            None if options["no_worker"] else subprocess.Popen([*command, "worker"], env=environment)  # noqa: S603
        )
        web = subprocess.Popen(gunicorn(options["addr"], max(1, options["workers"])), env=environment)  # noqa: S603
        self.stdout.write(self.style.SUCCESS(f"zonewarden is running on http://{options['addr']}/ — {login}"))
        self.stdout.write("press Ctrl-C to stop the web server and the worker")
        try:
            web.wait()
        except KeyboardInterrupt:
            pass
        finally:
            children = [process for process in (web, worker, sites) if process is not None]
            for process in children:
                if process.poll() is None:
                    process.terminate()
            for process in children:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
        self.stdout.write("stopped")

    def _demo_sites(self, command: list[str]) -> tuple[subprocess.Popen[bytes] | None, dict[str, str]]:
        """Start the demo's sites and name server; the environment that points the checker at them."""
        from zonewarden.demo import network
        from zonewarden.demo.sites import SiteBook, SiteBookError

        try:
            book = SiteBook.load(network.state_path())
        except SiteBookError as exc:
            # Without the demo's name server, its invented names must not go to the real DNS.
            self.stderr.write(
                self.style.WARNING(
                    f"{exc}: the demo's re-checks find its names unreachable "
                    "(`make clean && make demo` loads the demo afresh, with its sites)"
                )
            )
            return None, {**os.environ, "ZONEWARDEN_CHECK_DNS": "false"}
        process = subprocess.Popen([*command, "demo", "--serve-sites"])  # noqa: S603
        if not network.wait_until_listening(book, timeout=10, alive=lambda: process.poll() is None):
            self.stderr.write(self.style.WARNING("the demo's sites did not start: its re-checks will fail"))
        return process, network.checker_environment(book, dict(os.environ))


def web_workers() -> int:
    configured = os.environ.get("ZONEWARDEN_WEB_WORKERS", "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return min(2 * (os.cpu_count() or 1) + 1, 8)


def gunicorn(address: str, workers: int) -> list[str]:
    """The web server's command line: gunicorn's sync workers, our own WSGI application."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "zonewarden.wsgi:application",
        "--bind",
        address,
        "--workers",
        str(workers),
        # Uploading a large feed file to /api/ingests/ parses it in the request.
        "--timeout",
        os.environ.get("ZONEWARDEN_WEB_TIMEOUT", "300"),
        "--access-logfile",
        "-",
        "--access-logformat",
        '%(h)s "%(r)s" %(s)s %(b)s %(M)sms',
        "--error-logfile",
        "-",
    ]
