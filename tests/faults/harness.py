"""The fault-injection harness: real worker processes, an SMTP sink process, Knot, the suite's cluster.

Every process a fault test starts is a child of the test (never found by name), is tracked here,
and is killed at the end of the test whatever happened. Workers are `python -m zonewarden worker`
with this process's environment, pointed at the test database pytest-django made (its data is
committed: the tests are transactional), at the sink and at the test's Knot. Every wait polls
with a deadline and fails naming what it waited for, with the tail of the workers' logs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dns.name
import dns.query
import dns.rdatatype
import dns.zone
import pytest
import time_machine
from django.db import DatabaseError, connection, connections

from tests import pgcluster
from tests.knot import SECRET, Knot
from tests.smtpserver import free_port
from zonewarden import clock

SINK = Path(__file__).with_name("smtpsink.py")
POLL = 0.05


def wall_time() -> float:
    """The machine's real time, even in a session `--today` moved (the workers run on it)."""
    if time_machine.escape_hatch.is_travelling():
        return float(time_machine.escape_hatch.time.time())
    return time.time()


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class Process:
    """A child process of the test with its log file."""

    def __init__(self, label: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.label = label
        self.log = log
        with open(log, "ab") as out:
            self.popen = subprocess.Popen(  # noqa: S603 - our own interpreter and scripts
                args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal(self, signum: int) -> None:
        if self.alive():
            self.popen.send_signal(signum)

    def kill(self) -> None:
        """SIGKILL, and wait until it is gone."""
        if self.alive():
            self.popen.kill()
        self.popen.wait(10)

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM, wait for a clean exit (SIGKILL after `timeout`); return the exit status."""
        if self.alive():
            self.popen.terminate()
            try:
                return self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)
                pytest.fail(f"{self.label} did not stop within {timeout} s of SIGTERM\n{self.tail()}")
        return int(self.popen.returncode)

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return f"--- {self.label} (pid {self.pid}) ---\n" + "\n".join(text.splitlines()[-lines:])


class Sink:
    """The SMTP sink process (tests/faults/smtpsink.py): one port and one record for the whole test."""

    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.port = free_port()
        self.record = harness.folder / "sink.jsonl"
        self.record.touch()
        self.process: Process | None = None
        self.starts = 0

    def start(self, *, die_after: int | None = None) -> None:
        """Start the sink (again); with `die_after` it SIGKILLs itself after taking that many
        messages, before it answers the last one (see smtpsink.py)."""
        self.starts += 1
        self.process = self.harness.spawn(
            f"smtp sink #{self.starts}",
            [sys.executable, str(SINK), str(self.port), str(self.record)]
            + ([str(die_after)] if die_after else []),
        )
        self.harness.wait_for(lambda: _port_open(self.port), timeout=15, what="the SMTP sink to listen")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process = None

    def received(self) -> Counter[str]:
        """How often each Message-ID reached the sink."""
        ids: Counter[str] = Counter()
        for line in self.record.read_text(encoding="utf-8").splitlines():
            if line.strip():
                ids[json.loads(line)["message_id"]] += 1
        return ids

    def env(self) -> dict[str, str]:
        return {
            "ZONEWARDEN_SMTP_HOST": "127.0.0.1",
            "ZONEWARDEN_SMTP_PORT": str(self.port),
            "ZONEWARDEN_SMTP_TIMEOUT": "5",
        }


def knot_env(knot: Knot, folder: Path) -> dict[str, str]:
    """A worker's settings for publishing to the test's Knot (as tests/knot.py's `settings`)."""
    return {
        "ZONEWARDEN_PUBLISHERS": "rfc2136,zonefile,rpz",
        "ZONEWARDEN_DNS_SERVER": f"127.0.0.1:{knot.port}",
        "ZONEWARDEN_DNS_TSIG_NAME": "zonewarden",
        "ZONEWARDEN_DNS_TSIG_SECRET": SECRET,
        "ZONEWARDEN_ZONEFILE_DIR": str(folder / "zones"),
        "ZONEWARDEN_DNS_TIMEOUT": "3",
    }


class Harness:
    """What one fault test started, and the helpers to start, kill, wait and report."""

    def __init__(self, folder: Path, name: str, record: Callable[[str, object], None]) -> None:
        self.folder = folder
        self.name = name
        self.record = record
        self.processes: list[Process] = []
        self.frozen: list[Knot] = []
        self.knots: list[Knot] = []
        # What the test counts, for its report when it fails before reporting (tests set it).
        self.figures: Callable[[], dict[str, object]] | None = None
        self.reported = False

    # --- processes ------------------------------------------------------------------------

    def spawn(self, label: str, args: list[str], env: dict[str, str] | None = None) -> Process:
        log = self.folder / f"{label.replace(' ', '-').replace('#', '')}.log"
        process = Process(label, args, env if env is not None else dict(os.environ), log)
        self.processes.append(process)
        return process

    def database_url(self) -> str:
        """The URL of the test database pytest-django created (the suite's URL names another)."""
        url = os.environ.get("DATABASE_URL", "")
        if not url.startswith("postgres"):
            pytest.fail("the fault tests run on the suite's PostgreSQL (pytest --db postgres)")
        return urlunsplit(urlsplit(url)._replace(path=f"/{connection.settings_dict['NAME']}"))

    def env(self, *parts: dict[str, str], ahead: dt.timedelta = dt.timedelta(0)) -> dict[str, str]:
        """A worker's environment: ours, the test database, the parts given, and its clock.

        The worker's clock is the test's (`--today` moves only this process) plus `ahead`: how a
        test says "this worker starts after the leases of the dead ones ran out".
        """
        env = dict(os.environ)
        env["DATABASE_URL"] = self.database_url()
        env["ZONEWARDEN_VAR_DIR"] = str(self.folder / "var")
        for part in parts:
            env.update(part)
        shift = round(clock.now().timestamp() - wall_time() + ahead.total_seconds())
        if shift:
            env["ZONEWARDEN_CLOCK"] = f"{'+' if shift > 0 else '-'}{abs(shift)}s"
        else:
            env.pop("ZONEWARDEN_CLOCK", None)
        return env

    def worker(self, env: dict[str, str], label: str = "worker") -> Process:
        """Start `zonewarden worker` (a round every 0.2 s) as its own process."""
        number = sum(1 for p in self.processes if p.label.startswith("worker")) + 1
        return self.spawn(
            f"worker #{number} {label}".strip(),
            [sys.executable, "-m", "zonewarden", "worker", "--poll", "0.2"],
            env,
        )

    def command(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Run a zonewarden command on the test database (as an administrator would)."""
        return subprocess.run(  # noqa: S603 - our own interpreter
            [sys.executable, "-m", "zonewarden", *args],
            env=env or self.env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def audit_verify(self) -> str:
        done = self.command("audit", "verify")
        assert done.returncode == 0, f"zonewarden audit verify failed:\n{done.stdout}{done.stderr}"
        return done.stdout.strip()

    def logs(self) -> str:
        return "\n".join(p.tail() for p in self.processes if p.label.startswith("worker"))

    def cleanup(self) -> None:
        for knot in self.frozen:
            if knot.process is not None:
                knot.process.send_signal(signal.SIGCONT)
        for process in reversed(self.processes):
            process.kill()
        for knot in self.knots:
            knot.stop()
        connections.close_all()

    # --- waiting --------------------------------------------------------------------------

    def wait_for(
        self,
        predicate: Callable[[], object],
        *,
        timeout: float,
        what: str,
        alive: Iterable[Process] = (),
    ) -> float:
        """Poll `predicate` until it holds; fail after `timeout` s or when a process in `alive` died.

        Returns the seconds it took. A database error (the cluster restarting) counts as "not yet".
        """
        watched = list(alive)
        start = time.monotonic()
        deadline = start + timeout
        while True:
            try:
                if predicate():
                    return time.monotonic() - start
            except DatabaseError:
                connections.close_all()
            dead = [p for p in watched if not p.alive()]
            if dead:
                pytest.fail(
                    f"{self.name}: waiting for {what}, "
                    f"{', '.join(f'{p.label} (pid {p.pid}) exited with {p.popen.returncode}' for p in dead)}"
                    f"\n{self.logs()}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"{self.name}: {what} did not happen within {timeout:.0f} s\n{self.logs()}")
            time.sleep(POLL)

    def within(self, predicate: Callable[[], object], *, timeout: float) -> bool:
        """Whether `predicate` comes to hold within `timeout` s (polled; no failure if it does not)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(POLL)
        return bool(predicate())

    # --- faults ---------------------------------------------------------------------------

    def restart_postgres(self) -> float:
        """`pg_ctl restart -m fast` on the suite's cluster (tests/pgcluster.py); return its seconds."""
        start = time.monotonic()
        pgcluster.restart_cluster()
        connections.close_all()  # this process's connection died with the server
        return time.monotonic() - start

    def freeze(self, knot: Knot) -> None:
        assert knot.process is not None
        knot.process.send_signal(signal.SIGSTOP)
        self.frozen.append(knot)

    def thaw(self, knot: Knot) -> None:
        assert knot.process is not None
        knot.process.send_signal(signal.SIGCONT)
        self.frozen.remove(knot)

    def knot(self, delegations: str) -> Knot:
        """A Knot of this test's own serving kz. with `delegations` (zone file lines under kz.)."""
        server = Knot(self.folder / f"knot{len(self.knots) + 1}", delegations)
        self.knots.append(server)
        server.start()
        return server

    # --- reporting ------------------------------------------------------------------------

    def report(self, **figures: object) -> None:
        """Print the test's figures (shown with -s or -rA) and put them into its report."""
        print(f"\n[faults] {self.name}: " + ", ".join(f"{key}={value}" for key, value in figures.items()))
        for key, value in figures.items():
            self.record(key, value)
        self.reported = True

    def report_failure(self) -> None:
        """A test that failed before its report: its figures as they stand, if it can count them."""
        if self.reported or self.figures is None:
            return
        try:
            figures = self.figures()
        except (DatabaseError, OSError) as exc:
            print(f"\n[faults] {self.name}: no figures ({exc})")
            return
        self.report(**figures, at_failure=True)


def axfr(knot: Knot) -> dict[str, dict[str, list[str]]]:
    """The kz. zone from Knot by AXFR: for every name below the apex, its NS and A/AAAA records."""
    transfer = dns.query.xfr("127.0.0.1", "kz.", port=knot.port, timeout=5, lifetime=15, relativize=False)
    zone = dns.zone.from_xfr(transfer, relativize=False)
    found: dict[str, dict[str, list[str]]] = {}
    for absolute, node in zone.nodes.items():
        if absolute == zone.origin:
            continue
        for rdataset in node.rdatasets:
            if rdataset.rdtype in (dns.rdatatype.NS, dns.rdatatype.A, dns.rdatatype.AAAA):
                found.setdefault(absolute.to_text(omit_final_dot=True), {})[
                    dns.rdatatype.to_text(rdataset.rdtype)
                ] = sorted(item.to_text().rstrip(".") for item in rdataset)
    return found


def outbox_figures(received: Counter[str]) -> dict[str, int]:
    """The outbox against what the server got: sent, retried, duplicates, stranded, unconfirmed."""
    from zonewarden.notices.models import Notice

    rows = list(Notice.objects.values_list("message_id", "state", "attempts"))
    return {
        "notices": len(rows),
        "sent": sum(1 for _, state, _ in rows if state == Notice.State.SENT),
        "retried": sum(1 for _, _, attempts in rows if attempts > 1),
        "received": len(received),
        "duplicates": sum(count - 1 for count in received.values() if count > 1),
        # A notice that is not sent and whose message never reached the server: an owner not told.
        "stranded": sum(1 for mid, state, _ in rows if state != Notice.State.SENT and mid not in received),
        "unconfirmed": sum(1 for _, state, _ in rows if state == Notice.State.UNCONFIRMED),
    }


def assert_each_delivered_once(received: Counter[str], *, unconfirmed_allowed: int = 0) -> None:
    """Every notice reached the server exactly once, and is `sent` — or, at most
    `unconfirmed_allowed` of them, `unconfirmed` although the server really has it."""
    from zonewarden.notices.models import Notice

    rows = dict(Notice.objects.values_list("message_id", "state"))
    missing = sorted(mid for mid in rows if mid not in received)
    unknown = sorted(mid for mid in received if mid not in rows)
    twice = {mid: count for mid, count in received.items() if count > 1}
    assert not twice, f"delivered more than once: {twice}"
    assert not missing, f"{len(missing)} notices never reached the server: {missing[:10]}"
    assert not unknown, f"the server got messages the outbox does not know: {unknown[:10]}"
    states = Counter(rows.values())
    unconfirmed = [mid for mid, state in rows.items() if state == Notice.State.UNCONFIRMED]
    assert len(unconfirmed) <= unconfirmed_allowed, f"{len(unconfirmed)} unconfirmed: {states}"
    assert states[Notice.State.SENT] + len(unconfirmed) == len(rows), f"notices not sent: {states}"
