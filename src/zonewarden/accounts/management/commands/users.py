"""`zonewarden users add|list|disable|enable|password`: the accounts of a deployment."""

from __future__ import annotations

import json
import sys
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from zonewarden.accounts import service
from zonewarden.accounts.service import ROLE_GROUPS, AccountError


class Command(BaseCommand):
    help = "Create users in their roles, list them, disable or enable them, give them a new password."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="create a user; prints its one-time password")
        add.add_argument("name")
        add.add_argument(
            "--role",
            action="append",
            required=True,
            choices=list(ROLE_GROUPS),
            help="the user's role (repeat for several)",
        )
        add.add_argument("--registrar", help="the registrar's code (the registrar role needs it)")
        add.add_argument("--email", default="")
        add.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from the first line of standard input instead of generating one",
        )
        listing = sub.add_parser("list", help="every user: roles, registrar, e-mail, active, last log-in")
        listing.add_argument("--json", action="store_true", help="print one JSON array")
        for name, text in (
            ("disable", "the user can no longer log in; its API tokens and sessions end"),
            ("enable", "let a disabled user log in again"),
        ):
            sub.add_parser(name, help=text).add_argument("name")
        renew = sub.add_parser("password", help="give a user a new one-time password")
        renew.add_argument("name")
        renew.add_argument("--password-stdin", action="store_true", help="read it from standard input")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except AccountError as exc:
            raise CommandError(str(exc)) from exc

    def _stdin_password(self, options: dict[str, Any]) -> str | None:
        if not options["password_stdin"]:
            return None
        line = sys.stdin.readline()
        if not line.strip("\r\n"):
            raise CommandError("--password-stdin: standard input holds no password (an empty first line)")
        return line.rstrip("\r\n")

    def _show_password(self, user: User, password: str, given: str | None) -> None:
        if given is not None:
            self.stdout.write(f"the password is the one read from standard input for {user.username}")
            return
        self.stdout.write(
            f"one-time password for {user.username} (shown only now; hand it over privately): {password}"
        )

    def _add(self, options: dict[str, Any]) -> None:
        given = self._stdin_password(options)
        user, password = service.add_user(
            options["name"],
            options["role"],
            registrar=options["registrar"],
            email=options["email"],
            password=given,
        )
        roles = ", ".join(dict.fromkeys(options["role"]))
        where = f" for registrar {user.registrar_membership.registrar.code}" if options["registrar"] else ""
        admin = ", may use the admin" if user.is_staff else ""
        self.stdout.write(self.style.SUCCESS(f"created user {user.username}: {roles}{where}{admin}"))
        self._show_password(user, password, given)

    def _list(self, options: dict[str, Any]) -> None:
        accounts = service.list_users()
        if options["json"]:
            self.stdout.write(json.dumps([account.as_json() for account in accounts], ensure_ascii=False))
            return
        if not accounts:
            self.stdout.write("there are no users: `zonewarden users add NAME --role ROLE` creates one")
            return
        rows = [("name", "roles", "registrar", "e-mail", "active", "last log-in")]
        for account in accounts:
            roles = account.roles + (["superuser"] if account.superuser else [])
            last = (
                f"{timezone.localtime(account.last_login):%Y-%m-%d %H:%M}" if account.last_login else "never"
            )
            rows.append(
                (
                    account.name,
                    ",".join(roles) or "-",
                    account.registrar or "-",
                    account.email or "-",
                    "yes" if account.active else "NO",
                    last,
                )
            )
        widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            self.stdout.write("  ".join([*cells, row[-1]]))

    def _disable(self, options: dict[str, Any]) -> None:
        disabled = service.disable_user(options["name"])
        self.stdout.write(
            self.style.SUCCESS(
                f"disabled {disabled.user.username}: it can no longer log in; "
                f"{disabled.tokens} API token(s) deleted, {disabled.sessions} session(s) ended"
            )
        )

    def _enable(self, options: dict[str, Any]) -> None:
        user = service.enable_user(options["name"])
        self.stdout.write(
            self.style.SUCCESS(
                f"enabled {user.username}: it logs in with its password "
                "(an API token, if it needs one, is issued anew in the admin: Tokens)"
            )
        )

    def _password(self, options: dict[str, Any]) -> None:
        given = self._stdin_password(options)
        user, password = service.set_password(options["name"], given)
        state = "" if user.is_active else " (the user is disabled: `zonewarden users enable` lets it in)"
        self.stdout.write(self.style.SUCCESS(f"new password for {user.username}; its sessions ended{state}"))
        self._show_password(user, password, given)
