"""A real Knot DNS server on loopback for the publishing and resolver tests: a TSIG key and a small kz. zone."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
import dns.tsigkeyring
import dns.update
import pytest
import time_machine

from tests.smtpserver import free_port

KNOTD = "/usr/sbin/knotd"
SECRET = base64.b64encode(b"zonewarden-test-key-0123456789ab").decode()
ZONE = """$ORIGIN kz.
$TTL 300
@ SOA ns1.nic.kz. hostmaster.nic.kz. 1 3600 600 86400 300
@ NS ns1.nic.kz.
ns1.nic A 127.0.0.1
{delegations}
"""


def require_knot() -> None:
    if shutil.which(KNOTD) is None:
        reason = f"{KNOTD} is not installed (Debian package knot)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {reason}")
        print(f"skipping: {reason}")
        pytest.skip(reason)


class Knot:
    def __init__(self, folder: Path, delegations: str) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        for name in ("run", "db", "zones"):
            (folder / name).mkdir(parents=True, exist_ok=True)
        (folder / "zones" / "kz.zone").write_text(ZONE.format(delegations=delegations), encoding="utf-8")
        (folder / "knot.conf").write_text(
            f"""server:
    rundir: {folder / "run"}
    user: root:root
    listen: 127.0.0.1@{self.port}
log:
  - target: stderr
    any: warning
database:
    storage: {folder / "db"}
key:
  - id: zonewarden
    algorithm: hmac-sha256
    secret: {SECRET}
acl:
  - id: update
    key: zonewarden
    action: update
  - id: transfer
    address: 127.0.0.1
    action: transfer
template:
  - id: default
    storage: {folder / "zones"}
    file: "%s.zone"
    zonefile-sync: -1
zone:
  - domain: kz
    acl: [update, transfer]
""",
            encoding="utf-8",
        )

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own config, a fixed binary
            [KNOTD, "-c", str(self.folder / "knot.conf")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if self.serial(timeout=0.2) > 0:
                    return
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("knotd did not start answering within 15 s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            if self.process.stderr is not None:
                self.process.stderr.close()
            self.process = None

    def serial(self, timeout: float = 1.0) -> int:
        response = dns.query.udp(
            dns.message.make_query("kz.", "SOA"), "127.0.0.1", port=self.port, timeout=timeout
        )
        return int(response.answer[0][0].serial)

    def put(self, name: str, *addresses: str, ttl: int = 60) -> None:
        """Make `name` (under kz.) resolve to exactly these addresses, by a signed dynamic UPDATE."""
        update = dns.update.Update(
            "kz.", keyring=dns.tsigkeyring.from_text({"zonewarden": SECRET}), keyalgorithm="hmac-sha256"
        )
        update.delete(name + ".", "A")
        update.delete(name + ".", "AAAA")
        for address in addresses:
            update.add(name + ".", ttl, "AAAA" if ":" in address else "A", address)
        with wall_clock():  # TSIG: signed with the real time, whatever day the session plays
            response = dns.query.tcp(update, "127.0.0.1", port=self.port, timeout=2)
        if response.rcode() != dns.rcode.NOERROR:
            raise RuntimeError(f"Knot refused the update of {name}: {dns.rcode.to_text(response.rcode())}")

    def nameservers(self, name: str) -> list[str]:
        response = dns.query.udp(
            dns.message.make_query(name + ".", "NS"), "127.0.0.1", port=self.port, timeout=2
        )
        return sorted(
            str(item.target).rstrip(".")
            for section in (response.answer, response.authority)
            for rrset in section
            if rrset.rdtype == 2 and str(rrset.name).rstrip(".") == name
            for item in rrset
        )

    def settings(self, *, secret: str = SECRET) -> dict[str, object]:
        return {
            "ZONEWARDEN_PUBLISHERS": ["rfc2136", "zonefile", "rpz"],
            "ZONEWARDEN_DNS_SERVER": f"127.0.0.1:{self.port}",
            "ZONEWARDEN_DNS_TSIG_NAME": "zonewarden",
            "ZONEWARDEN_DNS_TSIG_SECRET": secret,
            "ZONEWARDEN_ZONEFILE_DIR": str(self.folder / "out"),
            "ZONEWARDEN_DNS_TIMEOUT": 2,
        }

    def environment(self, *, secret: str = SECRET) -> dict[str, str]:
        """The same, as a process started by a test reads it from its environment."""
        return {
            name: ",".join(value) if isinstance(value, list) else str(value)
            for name, value in self.settings(secret=secret).items()
        }


@contextlib.contextmanager
def wall_clock() -> Iterator[None]:
    """Bring a session moved by `--today` back to the real time for the block.

    TSIG signs each message with the time it is sent, and Knot refuses one more than five minutes
    off its own (BADTIME) — the wall clock, which time-machine cannot move for another process.
    """
    if not time_machine.escape_hatch.is_travelling():
        yield
        return
    real = dt.datetime.fromtimestamp(time_machine.escape_hatch.time.time(), tz=dt.UTC)
    with time_machine.travel(real, tick=True):
        yield


@pytest.fixture
def knot(tmp_path: Path) -> Iterator[Knot]:
    require_knot()
    server = Knot(tmp_path / "knot", "shop NS ns1.shop\nns1.shop A 192.0.2.10\nother NS ns.hoster.com.\n")
    server.start()
    try:
        with wall_clock():
            yield server
    finally:
        server.stop()
