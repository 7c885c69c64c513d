"""Settings from the environment: typed, and loud about bad values."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from zonewarden.checks.nameservers import Nameserver, parse_nameserver
from zonewarden.envconf import database_from_url, env_bool, env_int, env_list, env_str


def test_booleans_accept_clear_words_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZW_FLAG", "Yes")
    assert env_bool("ZW_FLAG", False) is True
    monkeypatch.setenv("ZW_FLAG", "off")
    assert env_bool("ZW_FLAG", True) is False
    monkeypatch.setenv("ZW_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="ZW_FLAG='maybe' is not a boolean"):
        env_bool("ZW_FLAG", False)


def test_integers_are_checked_against_their_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZW_PORT", "70000")
    with pytest.raises(ImproperlyConfigured, match="above the maximum 65535"):
        env_int("ZW_PORT", 25, minimum=1, maximum=65535)
    monkeypatch.setenv("ZW_PORT", "twenty")
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        env_int("ZW_PORT", 25)
    monkeypatch.delenv("ZW_PORT")
    assert env_int("ZW_PORT", 25) == 25


def test_secrets_can_come_from_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_text("s3cret\n", encoding="utf-8")
    monkeypatch.delenv("ZW_KEY", raising=False)
    monkeypatch.setenv("ZW_KEY_FILE", str(secret))
    assert env_str("ZW_KEY", "") == "s3cret"
    monkeypatch.setenv("ZW_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        env_str("ZW_KEY", "")


def test_lists_drop_blanks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZW_ZONES", "kz, xn--80ao21a,,")
    assert env_list("ZW_ZONES", []) == ["kz", "xn--80ao21a"]


def test_database_urls_select_the_engine(tmp_path: Path) -> None:
    pg = database_from_url(
        "postgres://zw:p%40ss@127.0.0.1:5433/zonewarden?sslmode=disable", base_dir=tmp_path
    )
    assert pg["ENGINE"] == "django.db.backends.postgresql"
    assert (pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"], pg["NAME"]) == (
        "zw",
        "p@ss",
        "127.0.0.1",
        "5433",
        "zonewarden",
    )
    assert pg["OPTIONS"] == {"sslmode": "disable"}
    lite = database_from_url("sqlite:///var/db.sqlite3", base_dir=tmp_path)
    assert lite["NAME"] == str(tmp_path / "var" / "db.sqlite3")
    assert database_from_url("sqlite:////srv/zw.sqlite3", base_dir=tmp_path)["NAME"] == "/srv/zw.sqlite3"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://x@h/db", "unsupported scheme 'mysql'"),
        ("postgres://x@h/", "names no database"),
        ("postgres://x@h:port/db", "bad port"),
        ("sqlite:///", "names no SQLite file"),
    ],
)
def test_bad_database_urls_are_refused_clearly(url: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        database_from_url(url, base_dir=tmp_path)


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "ZONEWARDEN_VAR_DIR": str(tmp_path),
        "ZONEWARDEN_PRODUCTION": "true",
        "ZONEWARDEN_SECRET_KEY": "x" * 60 + "-not-a-real-secret-but-long-and-varied-0123456789",
        "ZONEWARDEN_ALLOWED_HOSTS": "zonewarden.cert.kz",
    }
    env.pop("PYTEST_VERSION", None)
    env.pop("DATABASE_URL", None)
    done = subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "zonewarden", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("192.0.2.53", Nameserver("192.0.2.53", 53)),
        (" 127.0.0.1:5353 ", Nameserver("127.0.0.1", 5353)),
        ("[::1]", Nameserver("::1", 53)),
        ("[2001:db8::53]:5353", Nameserver("2001:db8::53", 5353)),
    ],
)
def test_nameserver_entries_are_addresses_with_an_optional_port(entry: str, expected: Nameserver) -> None:
    assert parse_nameserver(entry) == expected


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("::1", "write an IPv6 address in brackets, e.g. [::1] or [::1]:5353"),
        ("[::1", "an IPv6 address opened with [ is not closed with ]"),
        ("[::1]5353", "expected :port after the bracket"),
        ("[127.0.0.1]", "'127.0.0.1' is not an IPv6 address"),
        ("ns1.nic.kz", "'ns1.nic.kz' is not an IP address"),
        ("127.0.0.1:0", "the port '0' is not a number from 1 to 65535"),
        ("127.0.0.1:dns", "the port 'dns' is not a number from 1 to 65535"),
        ("10.0.0.256", "'10.0.0.256' is not an IP address"),
    ],
)
def test_bad_nameserver_entries_say_what_is_wrong(entry: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_nameserver(entry)


def test_a_bad_nameserver_entry_stops_the_start_naming_it(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "ZONEWARDEN_VAR_DIR": str(tmp_path)}
    env["ZONEWARDEN_CHECK_NAMESERVERS"] = "127.0.0.1:53, ::1"
    done = subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-c", "import zonewarden.settings"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert (
        "ImproperlyConfigured: ZONEWARDEN_CHECK_NAMESERVERS entry '::1': write an IPv6 address in brackets"
        in done.stderr
    )
