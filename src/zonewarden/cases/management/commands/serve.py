"""`zonewarden serve`: the web server and the worker together; Ctrl-C stops both."""

from __future__ import annotations

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
        parser.add_argument("--demo", action="store_true", help="say how to log in to the demo accounts")

    def handle(self, *args: Any, **options: Any) -> None:
        users = get_user_model()
        login = "log in as admin with the password printed when it was created"
        if options["demo"]:
            from zonewarden.cases.management.commands.demo import DEMO_PASSWORD

            login = f"log in as admin (or analyst, registry) with the password {DEMO_PASSWORD}"
        elif not users.objects.filter(is_superuser=True).exists():
            password = secrets.token_urlsafe(12)
            users.objects.create_superuser("admin", "", password)
            login = f"log in as admin with the one-time password {password} (shown only now: change it)"

        def interrupt(signum: int, frame: FrameType | None) -> None:
            raise KeyboardInterrupt

        # A SIGTERM (from a service manager or `timeout`) stops both children like Ctrl-C does.
        signal.signal(signal.SIGTERM, interrupt)
        command = [sys.executable, "-m", "zonewarden"]
        # Our own interpreter and module, with fixed arguments.
        worker = subprocess.Popen([*command, "worker"])  # noqa: S603
        web = subprocess.Popen([*command, "runserver", "--noreload", "--insecure", options["addr"]])  # noqa: S603
        self.stdout.write(self.style.SUCCESS(f"zonewarden is running on http://{options['addr']}/ — {login}"))
        self.stdout.write("press Ctrl-C to stop the web server and the worker")
        try:
            web.wait()
        except KeyboardInterrupt:
            pass
        finally:
            for process in (web, worker):
                if process.poll() is None:
                    process.terminate()
            for process in (web, worker):
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
        self.stdout.write("stopped")
