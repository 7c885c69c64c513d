"""`zonewarden serve`: the web server (gunicorn, several processes) and the worker together, each
started again when it exits (see zonewarden.supervisor); Ctrl-C or SIGTERM stops both. With
`--demo`, the demo's sites and name server run beside them."""

from __future__ import annotations

import os
import secrets
import signal
import sys
from argparse import ArgumentParser
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from zonewarden.supervisor import Child, GaveUp, RestartPolicy, Supervisor

# The longest path a Unix socket can be bound to on Linux (sun_path holds 108 bytes with the NUL).
UNIX_SOCKET_PATH_MAX = 107


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

        policy = RestartPolicy(
            limit=settings.ZONEWARDEN_WORKER_RESTARTS,
            window=settings.ZONEWARDEN_WORKER_RESTART_WINDOW_SECONDS,
        )
        command = [sys.executable, "-m", "zonewarden"]
        try:
            with Supervisor() as supervisor:

                def stop(signum: int, frame: FrameType | None) -> None:
                    supervisor.request_stop()

                # A SIGTERM (from a service manager or `timeout`) stops the children like Ctrl-C does.
                signal.signal(signal.SIGTERM, stop)
                signal.signal(signal.SIGINT, stop)
                environment = self._demo_sites(supervisor, command, policy) if options["demo"] else None
                if not options["no_worker"]:
                    supervisor.start(
                        Child("the worker", [*command, "worker"], env=environment, policy=policy)
                    )
                web = gunicorn(options["addr"], max(1, options["workers"]), self._control_socket())
                supervisor.start(Child("the web server", web, env=environment))
                self.stdout.write(
                    self.style.SUCCESS(f"zonewarden is running on http://{options['addr']}/ — {login}")
                )
                self.stdout.write("press Ctrl-C to stop the web server and the worker")
                supervisor.run()
        except GaveUp as exc:
            others = [child.name for child in supervisor.children if child is not exc.child]
            stopped = f"; stopped {' and '.join(others)} too" if others else ""
            raise CommandError(f"{exc}{stopped}") from None
        self.stdout.write("stopped")

    def _control_socket(self) -> Path | None:
        """Where gunicorn's control socket goes: this instance's var folder (None: too long a path for one)."""
        run = Path(settings.VAR_DIR) / "run"
        try:
            run.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise CommandError(f"{run}: {exc.strerror} (ZONEWARDEN_VAR_DIR must be writable)") from None
        path = run / "gunicorn.ctl"
        if len(os.fsencode(path)) > UNIX_SOCKET_PATH_MAX:
            self.stderr.write(
                self.style.WARNING(
                    f"{path} is too long for a Unix socket: gunicorn runs without its control socket "
                    "(gunicornc cannot reach it)"
                )
            )
            return None
        return path

    def _demo_sites(
        self, supervisor: Supervisor, command: list[str], policy: RestartPolicy
    ) -> dict[str, str]:
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
            return {**os.environ, "ZONEWARDEN_CHECK_DNS": "false"}
        # The pages work without the demo's sites, so serve goes on (with a warning) if they cannot run.
        sites = supervisor.start(
            Child("the demo's sites", [*command, "demo", "--serve-sites"], policy=policy, required=False)
        )

        def alive() -> bool:
            return not supervisor.stopping and sites.process is not None and sites.process.poll() is None

        if not network.wait_until_listening(book, timeout=10, alive=alive):
            self.stderr.write(self.style.WARNING("the demo's sites did not start: its re-checks will fail"))
        return network.checker_environment(book, dict(os.environ))


def web_workers() -> int:
    configured = os.environ.get("ZONEWARDEN_WEB_WORKERS", "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return min(2 * (os.cpu_count() or 1) + 1, 8)


def gunicorn(address: str, workers: int, control_socket: Path | None) -> list[str]:
    """The web server's command line: gunicorn's sync workers, our own WSGI application."""
    # gunicorn's control socket defaults to ~/.gunicorn/gunicorn.ctl, one for every instance on the
    # machine: each instance keeps its own in its var folder. (Its processes' heartbeat files stay in
    # the temporary folder: each is created under a unique name and unlinked at once, and a disk-backed
    # folder could stall a process on every beat.)
    control = ["--no-control-socket"] if control_socket is None else ["--control-socket", str(control_socket)]
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
        *control,
    ]
