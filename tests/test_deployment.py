"""The README's "Setting up a real deployment", run as written on a fresh PostgreSQL database.

The commands are read from the README's block that starts `# setting up a deployment` and run by
bash as separate processes, the way an administrator types them. Only the places differ: the
environment file, the registry's export and the first incidents are written into a temporary
folder, and the file points at this suite's PostgreSQL cluster, an SMTP server and a Knot on
loopback. The end is the first notice, received by the SMTP server.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from tests.knot import SECRET, Knot, knot  # noqa: F401 - the fixture
from tests.smtpserver import SMTPServer, smtp_server

ROOT = Path(__file__).resolve().parent.parent
MARK = "# setting up a deployment"
REGISTRY_CSV = """domain,registrar,registrar_name,registrar_email,registrant_handle,registrant_name,registrant_email,admin_handle,admin_name,admin_email,nameservers,created
shop.kz,ps-kz,PS Internet Company,abuse@ps.kz,r-1,Tulpar Sauda LLP,owner@tulpar.kz,a-1,Aida Sadykova,admin@shop.kz,ns1.shop.kz/127.0.0.10,2019-05-14
other.kz,hoster-kz,Hoster.KZ,abuse@hoster.kz,r-2,Other LLP,owner@other.kz,a-2,Marat Ospanov,admin@other.kz,ns.hoster.com,2020-01-09
"""
INCIDENTS_CSV = "url,category\nhttp://shop.kz/secure/login.php,phishing\n"

pytestmark = [pytest.mark.postgres_only, pytest.mark.dns]


def deployment_commands() -> str:
    """The README's block of deployment commands, as written."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", readme, flags=re.DOTALL)
    found = [block for block in blocks if block.startswith(MARK)]
    assert len(found) == 1, f"README.md needs exactly one ```sh block starting {MARK!r}"
    return found[0]


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """A new, empty database in the suite's PostgreSQL cluster; its URL."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("needs the suite's PostgreSQL (pytest --db postgres)")
    name = f"deploy_{uuid.uuid4().hex[:12]}"
    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')  # a name of our own making
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    with smtp_server() as server:
        yield server


def test_the_readme_deployment_reaches_the_first_notice(
    tmp_path: Path,
    fresh_database: str,
    smtp: SMTPServer,
    knot: Knot,  # noqa: F811 - the fixture
) -> None:
    etc, srv, var = tmp_path / "etc", tmp_path / "srv", tmp_path / "var"
    for folder in (etc, srv, var):
        folder.mkdir()
    (etc / "secret-key").write_text("deployment-test-" + "k" * 48 + "\n", encoding="utf-8")
    (etc / "tsig-secret").write_text(SECRET + "\n", encoding="utf-8")
    (etc / "first-password").write_text("a long and private pass phrase\n", encoding="utf-8")
    (etc / "metrics-token").write_text("m" * 64 + "\n", encoding="utf-8")
    (srv / "registry.csv").write_text(REGISTRY_CSV, encoding="utf-8")
    (srv / "first-incidents.csv").write_text(INCIDENTS_CSV, encoding="utf-8")
    assert base64.b64decode(SECRET)
    # The README's file, with this machine's servers: the test Knot serves only kz.
    (etc / "zonewarden.env").write_text(
        "\n".join(
            [
                f"DATABASE_URL={fresh_database}",
                f"ZONEWARDEN_VAR_DIR={var}",
                "ZONEWARDEN_PRODUCTION=true",
                f"ZONEWARDEN_SECRET_KEY_FILE={etc / 'secret-key'}",
                "ZONEWARDEN_ALLOWED_HOSTS=abuse.cert.kz",
                "ZONEWARDEN_BASE_URL=https://abuse.cert.kz",
                "ZONEWARDEN_BEHIND_PROXY=true",
                f"ZONEWARDEN_METRICS_TOKEN_FILE={etc / 'metrics-token'}",
                "ZONEWARDEN_ZONES=kz",
                "ZONEWARDEN_CERT_NAME=KZ-CERT",
                "ZONEWARDEN_CERT_DOMAIN=cert.kz",
                "ZONEWARDEN_SMTP_HOST=127.0.0.1",
                f"ZONEWARDEN_SMTP_PORT={smtp.port}",
                "ZONEWARDEN_PUBLISHERS=rfc2136,rpz",
                f"ZONEWARDEN_ZONEFILE_DIR={var / 'zones'}",
                f"ZONEWARDEN_DNS_SERVER=127.0.0.1:{knot.port}",
                "ZONEWARDEN_DNS_TSIG_NAME=zonewarden",
                f"ZONEWARDEN_DNS_TSIG_SECRET_FILE={etc / 'tsig-secret'}",
                f"ZONEWARDEN_CHECK_NAMESERVERS=127.0.0.1:{knot.port}",
                "ZONEWARDEN_TRUSTED_SOURCES=kz-cert-analysts",
                "",
            ]
        ),
        encoding="utf-8",
    )
    script = (
        deployment_commands().replace("/etc/zonewarden/", f"{etc}/").replace("/srv/zonewarden/", f"{srv}/")
    )
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ZONEWARDEN_", "DJANGO_", "DATABASE_URL", "PYTEST_"))
    }
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}"
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    # Five users, each with its one-time password printed once (the lead's came from the file).
    assert output.count("one-time password for") == 4
    assert re.search(r"ps-abuse\s+registrar\s+ps-kz", output), output
    # doctor: a line per check, none failed.
    doctor = [line for line in output.splitlines() if re.match(r"^(ok|warn|fail)\s", line)]
    assert {line.split()[1] for line in doctor} >= {
        "settings",
        "database",
        "mail",
        "publishing",
        "resolver",
        "worker",
        "calendar",
    }, output
    assert not [line for line in doctor if line.startswith("fail")], output
    # The first notice went to the administrative contact of shop.kz, through SMTP.
    [notice] = [message for message in smtp.received if "admin@shop.kz" in message.recipients]
    assert "shop.kz" in notice.message["Subject"]
    assert notice.sender == "incident@cert.kz"
    assert re.search(r"\bsent\b.*shop\.kz", output), output
