"""Users and their roles: every change to an account goes through these functions, which the
`zonewarden users` command calls.

A role is one of the groups of `zonewarden.access`, by a short name (`analyst`, `lead`, `registry`,
`registrar`, `auditor`). The CERT's roles get the admin (`is_staff`): the lead edits policy, legal
grounds and verdict rules there, analysts and auditors read the records the pages do not show. The
registry's operators and registrars work on their own pages only. A registrar user is linked to
exactly one registrar (`RegistrarUser`) and sees that registrar's suspended names only.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from zonewarden import access
from zonewarden.domains.models import Registrar
from zonewarden.registry.models import RegistrarUser

ROLE_GROUPS = {
    "analyst": access.ANALYST,
    "lead": access.LEAD,
    "registry": access.REGISTRY,
    "registrar": access.REGISTRAR,
    "auditor": access.AUDITOR,
}
# The roles that use the admin (see the module's docstring); the others have pages of their own.
STAFF_ROLES = frozenset({"analyst", "lead", "auditor"})
# How many registrar codes an error about an unknown code lists before pointing elsewhere.
CODES_SHOWN = 20


class AccountError(Exception):
    """A change to an account cannot be made; the message says why, for a person to read."""


@dataclass(frozen=True)
class Account:
    """One user as `users list` shows it."""

    name: str
    roles: list[str]
    registrar: str
    email: str
    active: bool
    staff: bool
    superuser: bool
    last_login: dt.datetime | None

    def as_json(self) -> dict[str, Any]:
        """Return the account as `users list --json` prints it."""
        return {
            "name": self.name,
            "roles": self.roles,
            "registrar": self.registrar or None,
            "email": self.email,
            "active": self.active,
            "staff": self.staff,
            "superuser": self.superuser,
            "last_login": self.last_login.isoformat() if self.last_login else None,
        }


@dataclass(frozen=True)
class Disabled:
    """What disabling a user ended."""

    user: User
    tokens: int
    sessions: int


def generate_password() -> str:
    """Return a random password that passes the configured password validators."""
    while True:
        password = secrets.token_urlsafe(12)  # 16 characters, 96 bits
        try:
            password_validation.validate_password(password)
        except ValidationError:  # pragma: no cover - e.g. all digits: astronomically rare
            continue
        return password


def check_password(password: str, user: User) -> None:
    """Refuse a password the configured validators reject, naming every reason."""
    if not password:
        raise AccountError("the password is empty")
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise AccountError("the password is refused: " + " ".join(exc.messages)) from None


def _groups(roles: list[str]) -> list[Group]:
    unknown = [role for role in roles if role not in ROLE_GROUPS]
    if unknown:
        raise AccountError(f"unknown role {unknown[0]!r}; the roles are {', '.join(ROLE_GROUPS)}")
    names = [ROLE_GROUPS[role] for role in roles]
    if Group.objects.filter(name__in=names).count() < len(set(names)):
        access.ensure_groups()  # `migrate` creates them; a database flushed since has lost them
    return list(Group.objects.filter(name__in=names))


def find_registrar(code: str) -> Registrar:
    """Return the registrar with this code, or say which codes there are."""
    found = Registrar.objects.filter(code=code.strip()).first()
    if found is None:
        found = Registrar.objects.filter(code=code.strip().lower()).first()
    if found is not None:
        return found
    codes = list(Registrar.objects.order_by("code").values_list("code", flat=True)[: CODES_SHOWN + 1])
    if not codes:
        raise AccountError(
            f"there is no registrar {code!r}: no registrars exist yet. Load the registry's data "
            "(`zonewarden registry import FILE`) or add the registrar in the admin (Registrars)"
        )
    shown = ", ".join(codes[:CODES_SHOWN])
    more = " and more: see the admin (Registrars)" if len(codes) > CODES_SHOWN else ""
    raise AccountError(f"there is no registrar {code!r}; the registrars' codes are {shown}{more}")


def _user(name: str) -> User:
    user = User.objects.filter(username=name).first()
    if user is None:
        raise AccountError(f"there is no user {name!r} (`zonewarden users list` shows them)")
    return user


def add_user(
    name: str,
    roles: list[str],
    *,
    registrar: str | None = None,
    email: str = "",
    password: str | None = None,
) -> tuple[User, str]:
    """Create a user in its roles' groups; return it and its password (generated when not given).

    The registrar role needs the code of an existing registrar, which the user is linked to; a
    registrar code without that role is refused, and so is a name that is taken.
    """
    roles = list(dict.fromkeys(roles))
    if not roles:
        raise AccountError(f"give {name!r} at least one role: {', '.join(ROLE_GROUPS)}")
    groups = _groups(roles)
    if "registrar" in roles and not registrar:
        raise AccountError("the registrar role needs --registrar CODE: the registrar the user acts for")
    if registrar and "registrar" not in roles:
        raise AccountError("--registrar is only for the registrar role")
    user = User(username=name.strip(), email=email.strip(), is_staff=bool(STAFF_ROLES & set(roles)))
    try:
        User._meta.get_field("username").run_validators(user.username)
        if not user.username:
            raise ValidationError("the name is empty")
    except ValidationError as exc:
        raise AccountError(f"{name!r} cannot be a user name: {' '.join(exc.messages)}") from None
    if user.email:
        try:
            validate_email(user.email)
        except ValidationError:
            raise AccountError(f"{user.email!r} is not an e-mail address") from None
    taken = User.objects.filter(username__iexact=user.username).values_list("username", flat=True).first()
    if taken is not None:
        raise AccountError(
            f"a user {taken!r} exists already; nothing was changed "
            f"(`zonewarden users password {taken}` gives it a new password)"
        )
    company = find_registrar(registrar) if registrar else None
    if password is None:
        password = generate_password()
    else:
        check_password(password, user)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
            user.groups.set(groups)
            if company is not None:
                RegistrarUser.objects.create(user=user, registrar=company)
    except IntegrityError:  # another administrator created the name meanwhile
        raise AccountError(f"a user {user.username!r} exists already; nothing was changed") from None
    return user, password


def set_password(name: str, password: str | None = None) -> tuple[User, str]:
    """Give a user a new password (generated when not given); its sessions end with the old one."""
    user = _user(name)
    if password is None:
        password = generate_password()
    else:
        check_password(password, user)
    user.set_password(password)  # the sessions' hash no longer matches: they end
    user.save(update_fields=["password"])
    return user, password


def disable_user(name: str) -> Disabled:
    """Stop a user logging in, and end its API tokens and its sessions."""
    from rest_framework.authtoken.models import Token

    user = _user(name)
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])
        tokens, _ = Token.objects.filter(user=user).delete()
    return Disabled(user=user, tokens=tokens, sessions=_end_sessions(user))


def enable_user(name: str) -> User:
    """Let a disabled user log in again (with its password; API tokens must be issued anew)."""
    user = _user(name)
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
    return user


def _end_sessions(user: User) -> int:
    """Delete the user's stored sessions; return how many.

    An inactive user's session is refused anyway (the authentication backend checks `is_active`
    on every request); deleting them leaves nothing to come back if the user is enabled again.
    """
    from django.contrib.sessions.models import Session

    if settings.SESSION_ENGINE not in (
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cached_db",
    ):
        return 0
    store = import_module(settings.SESSION_ENGINE).SessionStore
    ended = 0
    wanted = str(user.pk)
    for session in Session.objects.only("session_key", "session_data").iterator():
        if str(session.get_decoded().get("_auth_user_id", "")) == wanted:
            store(session.session_key).delete()  # the cache's copy too, under cached_db
            ended += 1
    return ended


def list_users() -> list[Account]:
    """Return every user with its roles, registrar, e-mail, state and last log-in, by name."""
    short = {group: role for role, group in ROLE_GROUPS.items()}
    accounts = []
    users = (
        User.objects.order_by("username")
        .prefetch_related("groups")
        .select_related("registrar_membership__registrar")
    )
    for user in users:
        membership = getattr(user, "registrar_membership", None)
        accounts.append(
            Account(
                name=user.username,
                roles=sorted(short.get(group.name, group.name) for group in user.groups.all()),
                registrar=membership.registrar.code if membership is not None else "",
                email=user.email,
                active=user.is_active,
                staff=user.is_staff,
                superuser=user.is_superuser,
                last_login=user.last_login,
            )
        )
    return accounts
