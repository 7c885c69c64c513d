"""`zonewarden users`: creating users in their roles, listing, disabling, enabling, new passwords —
and a user it creates logging in through the real log-in page."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.api import conftest as api_fixtures
from tests.api.conftest import World
from zonewarden import access
from zonewarden.cases.models import LegalGround
from zonewarden.domains.models import Registrar
from zonewarden.registry.models import RegistrarUser

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("defaults")]
world = api_fixtures.world  # users in each role, and registrars reg-x and reg-y with a suspended name each

PRINTED = re.compile(r"^one-time password for (\S+) \(shown only now; hand it over privately\): (\S+)$", re.M)
STRONG = "quiet-harbour-lantern-47"  # noqa: S105 - a test account's password


def users(*args: str, stdin: str | None = None, monkeypatch: pytest.MonkeyPatch | None = None) -> str:
    """Run `zonewarden users ARGS` and return what it printed."""
    if stdin is not None:
        assert monkeypatch is not None
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    out = io.StringIO()
    call_command("users", *args, stdout=out)
    return out.getvalue()


def printed_password(output: str, name: str) -> str:
    found = PRINTED.search(output)
    assert found is not None, output
    assert found.group(1) == name
    return found.group(2)


def log_in(name: str, password: str) -> Client:
    """Log in through the log-in page, as a person would."""
    client = Client()
    client.post("/login/", {"username": name, "password": password})
    return client


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def sessions_of(name: str) -> int:
    """Return how many stored sessions are logged in as the user."""
    pk = str(User.objects.get(username=name).pk)
    return sum(session.get_decoded().get("_auth_user_id") == pk for session in Session.objects.all())


@pytest.mark.parametrize(
    ("role", "group", "staff"),
    [
        ("analyst", access.ANALYST, True),
        ("lead", access.LEAD, True),
        ("auditor", access.AUDITOR, True),
        ("registry", access.REGISTRY, False),
    ],
)
def test_add_puts_the_user_in_its_roles_group_and_prints_a_working_one_time_password(
    role: str, group: str, staff: bool
) -> None:
    output = users("add", "dana", "--role", role, "--email", "dana@cert.kz")

    password = printed_password(output, "dana")
    user = User.objects.get(username="dana")
    assert list(user.groups.values_list("name", flat=True)) == [group]
    assert (user.is_staff, user.is_superuser, user.is_active, user.email) == (
        staff,
        False,
        True,
        "dana@cert.kz",
    )
    assert user.check_password(password) and len(password) >= 16
    assert f"created user dana: {role}" in output
    assert logged_in(log_in("dana", password))


def test_each_user_gets_its_own_password() -> None:
    first = printed_password(users("add", "one", "--role", "analyst"), "one")
    second = printed_password(users("add", "two", "--role", "analyst"), "two")
    assert first != second


def test_several_roles_at_once() -> None:
    users("add", "both", "--role", "registry", "--role", "auditor", "--role", "registry")

    user = User.objects.get(username="both")
    assert set(user.groups.values_list("name", flat=True)) == {access.REGISTRY, access.AUDITOR}
    assert user.is_staff  # the auditor's role reads the records in the admin


def test_a_lead_it_creates_edits_the_policy_in_the_admin_and_a_registry_operator_has_no_admin() -> None:
    lead = log_in("lena", printed_password(users("add", "lena", "--role", "lead"), "lena"))
    assert lead.get("/admin/cases/policy/").status_code == 200
    ground = LegalGround.objects.order_by("pk").first()
    assert ground is not None
    assert lead.get(f"/admin/cases/legalground/{ground.pk}/change/").status_code == 200
    assert lead.get("/admin/auth/user/").status_code == 403  # the lead does not manage accounts

    operator = log_in("omar", printed_password(users("add", "omar", "--role", "registry"), "omar"))
    assert logged_in(operator)
    answer = operator.get("/admin/")
    assert answer.status_code == 302 and answer["Location"].startswith("/admin/login/")
    assert operator.get("/registry/").status_code == 200


def test_a_registrar_user_logs_in_with_the_printed_password_and_sees_only_its_registrars_names(
    world: World,
) -> None:
    output = users("add", "kaspi-ops", "--role", "registrar", "--registrar", "reg-x", "--email", "ops@reg.kz")

    assert "for registrar reg-x" in output
    user = User.objects.get(username="kaspi-ops")
    assert not user.is_staff
    assert RegistrarUser.objects.get(user=user).registrar.code == "reg-x"
    client = log_in("kaspi-ops", printed_password(output, "kaspi-ops"))
    assert logged_in(client)
    assert client.get("/").url == "/registrar/"
    page = client.get("/registrar/").content.decode()
    assert world.case_a.domain_id in page
    assert world.case_b.domain_id not in page
    assert client.get(f"/cases/{world.case_a.pk}/").status_code == 200
    assert client.get(f"/cases/{world.case_b.pk}/").status_code == 404
    assert client.get(f"/api/cases/{world.case_b.pk}/").status_code == 404


def test_a_wrong_password_does_not_log_in(world: World) -> None:
    users("add", "kaspi-ops", "--role", "registrar", "--registrar", "reg-x")
    assert not logged_in(log_in("kaspi-ops", "not-the-printed-one"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "registrar"], "the registrar role needs --registrar CODE"),
        (
            ["--role", "registrar", "--registrar", "reg-z"],
            "there is no registrar 'reg-z'; the registrars' codes are reg-a, reg-x, reg-y",
        ),
        (["--role", "analyst", "--registrar", "reg-x"], "--registrar is only for the registrar role"),
        (["--role", "analyst", "--email", "not-an-address"], "'not-an-address' is not an e-mail address"),
    ],
)
def test_add_refuses_a_wrong_combination_and_creates_nothing(
    world: World, args: list[str], message: str
) -> None:
    before = User.objects.count()
    with pytest.raises(CommandError, match=re.escape(message)):
        users("add", "newcomer", *args)
    assert User.objects.count() == before
    assert not User.objects.filter(username="newcomer").exists()


def test_the_registrar_role_without_any_registrars_says_how_to_get_them() -> None:
    assert not Registrar.objects.exists()
    with pytest.raises(CommandError, match=r"no registrars exist yet.*zonewarden registry import FILE"):
        users("add", "early", "--role", "registrar", "--registrar", "reg-x")
    assert not User.objects.filter(username="early").exists()


def test_a_registrar_code_is_found_whatever_its_case(world: World) -> None:
    users("add", "kaspi-ops", "--role", "registrar", "--registrar", "REG-Y")
    assert RegistrarUser.objects.get(user__username="kaspi-ops").registrar.code == "reg-y"


def test_an_unknown_role_and_a_missing_role_are_refused() -> None:
    with pytest.raises(CommandError, match="invalid choice: 'admin'"):
        users("add", "x", "--role", "admin")
    with pytest.raises(CommandError, match="--role"):
        users("add", "x")
    assert not User.objects.exists()


@pytest.mark.parametrize("name", ["bad name", "", "x" * 151, "slash/name"])
def test_a_name_that_cannot_be_a_user_name_is_refused(name: str) -> None:
    with pytest.raises(CommandError, match="cannot be a user name"):
        users("add", name, "--role", "analyst")
    assert not User.objects.exists()


def test_an_existing_name_is_refused_and_its_user_is_left_as_it_was() -> None:
    password = printed_password(users("add", "dana", "--role", "analyst"), "dana")

    for name in ("dana", "Dana"):
        with pytest.raises(CommandError, match="a user 'dana' exists already; nothing was changed"):
            users("add", name, "--role", "auditor")

    user = User.objects.get()
    assert user.check_password(password)
    assert list(user.groups.values_list("name", flat=True)) == [access.ANALYST]


def test_a_password_from_standard_input_is_used_and_not_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    output = users(
        "add", "dana", "--role", "analyst", "--password-stdin", stdin=STRONG + "\n", monkeypatch=monkeypatch
    )

    assert STRONG not in output and PRINTED.search(output) is None
    assert "read from standard input" in output
    assert logged_in(log_in("dana", STRONG))


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("kz2026", "This password is too short. It must contain at least 10 characters."),
        ("password123", "This password is too common."),
        ("20260418123456", "This password is entirely numeric."),
        ("dana.sadykova", "The password is too similar to the username."),
    ],
)
def test_a_weak_password_from_standard_input_is_refused_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, password: str, reason: str
) -> None:
    with pytest.raises(CommandError, match=re.escape(f"the password is refused: {reason}")):
        users(
            "add",
            "dana.sadykova",
            "--role",
            "analyst",
            "--password-stdin",
            stdin=password + "\n",
            monkeypatch=monkeypatch,
        )
    assert not User.objects.exists()


def test_an_empty_standard_input_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    for stdin in ("", "\n"):
        with pytest.raises(CommandError, match="standard input holds no password"):
            users(
                "add", "dana", "--role", "analyst", "--password-stdin", stdin=stdin, monkeypatch=monkeypatch
            )
    assert not User.objects.exists()


def test_list_shows_roles_registrar_e_mail_state_and_last_log_in(world: World) -> None:
    password = printed_password(
        users("add", "kaspi-ops", "--role", "registrar", "--registrar", "reg-x", "--email", "ops@reg.kz"),
        "kaspi-ops",
    )
    users("add", "gone", "--role", "auditor")
    users("disable", "gone")
    log_in("kaspi-ops", password)

    rows = {row["name"]: row for row in json.loads(users("list", "--json"))}

    assert rows["kaspi-ops"]["roles"] == ["registrar"]
    assert rows["kaspi-ops"]["registrar"] == "reg-x"
    assert rows["kaspi-ops"]["email"] == "ops@reg.kz"
    assert rows["kaspi-ops"]["active"] is True
    assert rows["kaspi-ops"]["last_login"] is not None
    assert rows["gone"] == {
        "name": "gone",
        "roles": ["auditor"],
        "registrar": None,
        "email": "",
        "active": False,
        "staff": True,
        "superuser": False,
        "last_login": None,
    }
    assert rows["operator"]["roles"] == ["registry"]
    text = users("list").splitlines()
    assert text[0].split() == ["name", "roles", "registrar", "e-mail", "active", "last", "log-in"]
    gone = next(line for line in text if line.startswith("gone "))
    assert gone.split() == ["gone", "auditor", "-", "-", "NO", "never"]
    mine = next(line for line in text if line.startswith("kaspi-ops "))
    assert mine.split()[:5] == ["kaspi-ops", "registrar", "reg-x", "ops@reg.kz", "yes"]
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d$", mine)


def test_list_marks_a_superuser_and_says_when_there_are_none() -> None:
    assert "there are no users" in users("list")
    User.objects.create_superuser("admin", "", STRONG)
    assert users("list").splitlines()[1].split()[:2] == ["admin", "superuser"]
    assert json.loads(users("list", "--json"))[0]["superuser"] is True


def test_a_disabled_user_cannot_log_in_and_its_token_and_session_stop_working(world: World) -> None:
    password = printed_password(
        users("add", "kaspi-ops", "--role", "registrar", "--registrar", "reg-x"), "kaspi-ops"
    )
    user = User.objects.get(username="kaspi-ops")
    token = Token.objects.create(user=user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/cases/").status_code == 200
    browser = log_in("kaspi-ops", password)
    assert browser.get("/registrar/").status_code == 200
    bystander = log_in("registrar-y", "x")
    assert sessions_of("kaspi-ops") == 1 and sessions_of("registrar-y") == 1
    other_token = Token.objects.get(user__username="registrar-y")

    output = users("disable", "kaspi-ops")

    assert "disabled kaspi-ops" in output and "1 API token(s) deleted, 1 session(s) ended" in output
    assert api.get("/api/cases/").status_code == 401
    answer = browser.get("/registrar/")
    assert answer.status_code == 302 and answer["Location"].startswith("/login/")
    assert not logged_in(log_in("kaspi-ops", password))
    assert not Token.objects.filter(user=user).exists()
    assert sessions_of("kaspi-ops") == 0 and sessions_of("registrar-y") == 1  # only its own went
    assert logged_in(bystander) and bystander.get("/registrar/").status_code == 200
    assert Token.objects.filter(pk=other_token.pk).exists()

    assert "enabled kaspi-ops" in users("enable", "kaspi-ops")
    again = log_in("kaspi-ops", password)
    assert logged_in(again) and world.case_a.domain_id in again.get("/registrar/").content.decode()
    assert api.get("/api/cases/").status_code == 401  # the old token is gone for good


def test_a_new_password_replaces_the_old_one_and_ends_the_sessions(monkeypatch: pytest.MonkeyPatch) -> None:
    old = printed_password(users("add", "dana", "--role", "analyst"), "dana")
    session = log_in("dana", old)
    assert session.get("/cases/").status_code == 200

    new = printed_password(users("password", "dana"), "dana")

    assert new != old
    assert session.get("/cases/").status_code == 302
    assert not logged_in(log_in("dana", old))
    assert logged_in(log_in("dana", new))
    users("password", "dana", "--password-stdin", stdin=STRONG + "\n", monkeypatch=monkeypatch)
    assert logged_in(log_in("dana", STRONG))
    with pytest.raises(CommandError, match="This password is too short"):
        users("password", "dana", "--password-stdin", stdin="short\n", monkeypatch=monkeypatch)
    assert logged_in(log_in("dana", STRONG))


def test_a_new_password_for_a_disabled_user_says_it_is_still_disabled() -> None:
    users("add", "dana", "--role", "analyst")
    users("disable", "dana")
    output = users("password", "dana")
    assert "the user is disabled" in output
    assert not logged_in(log_in("dana", printed_password(output, "dana")))


@pytest.mark.parametrize("action", ["disable", "enable", "password"])
def test_an_unknown_user_is_named(action: str) -> None:
    with pytest.raises(CommandError, match="there is no user 'nobody'"):
        users(action, "nobody")


def test_the_groups_are_made_again_when_a_flushed_database_lost_them() -> None:
    from django.contrib.auth.models import Group

    Group.objects.all().delete()
    users("add", "dana", "--role", "lead")
    lead = Group.objects.get(name=access.LEAD)
    assert User.objects.get(username="dana").groups.get() == lead
    assert lead.permissions.filter(codename="change_policy").exists()
