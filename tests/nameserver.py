"""Pytest plugin: the suite's DNS look-ups go to a Knot of its own on loopback, never further.

The checker resolves names as in production — ZONEWARDEN_CHECK_DNS on, through
ZONEWARDEN_CHECK_NAMESERVERS — and this plugin points that setting, in the environment before the
settings are read (so commands the tests start inherit it too), at a Knot started on a free
loopback port. It serves the kz. zone: a test name under kz. is NXDOMAIN unless a test puts a
record there (`Knot.put`), and every other name is REFUSED, so an unknown name is unreachable at
once and no query leaves the machine.

Without knotd (Debian package knot) a stand-in on loopback answers REFUSED to every query, so the
suite still runs without DNS traffic; the tests that need Knot's zone (`test_nameserver`) skip
with the reason, and fail under CI=true.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import dns.exception
import dns.message
import dns.rcode
import pytest

from tests.knot import KNOTD, Knot

_state: dict[str, object] = {}


class Refuser:
    """A loopback UDP nameserver that answers REFUSED to everything (when Knot is missing)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                answer = dns.message.make_response(dns.message.from_wire(data))
            except dns.exception.DNSException:
                continue
            answer.set_rcode(dns.rcode.REFUSED)
            self.sock.sendto(answer.to_wire(), peer)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


def _start() -> None:
    if shutil.which(KNOTD) is None:
        _state["missing"] = f"{KNOTD} is not installed (Debian package knot)"
    else:
        folder = Path(tempfile.mkdtemp(prefix="zonewarden-dns-"))
        _state["folder"] = folder
        server = Knot(folder / "knot", "")
        try:
            server.start()
        except (RuntimeError, OSError) as exc:
            if os.environ.get("CI", "").lower() == "true":
                raise pytest.UsageError(f"the test nameserver (Knot) did not start under CI: {exc}") from exc
            _state["missing"] = f"Knot did not start: {exc}"
        else:
            _state["knot"] = server
            os.environ["ZONEWARDEN_CHECK_NAMESERVERS"] = f"127.0.0.1:{server.port}"
            return
    refuser = Refuser()
    _state["refuser"] = refuser
    os.environ["ZONEWARDEN_CHECK_NAMESERVERS"] = f"127.0.0.1:{refuser.port}"


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    # Before pytest-django reads the settings: they validate and keep the nameserver entry.
    _start()


def pytest_report_header(config: pytest.Config) -> str:
    knot = _state.get("knot")
    if isinstance(knot, Knot):
        return f"test DNS: Knot on 127.0.0.1:{knot.port} (ZONEWARDEN_CHECK_NAMESERVERS)"
    return f"test DNS: {_state.get('missing')}; a loopback stand-in refuses every query, the dns tests skip"


def pytest_unconfigure(config: pytest.Config) -> None:
    knot, refuser, folder = _state.pop("knot", None), _state.pop("refuser", None), _state.pop("folder", None)
    if isinstance(knot, Knot):
        knot.stop()
    if isinstance(refuser, Refuser):
        refuser.stop()
    if isinstance(folder, Path):
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def test_nameserver() -> Iterator[Knot]:
    """The suite's Knot (every check resolves through it); skip, or fail under CI, without it."""
    knot = _state.get("knot")
    if not isinstance(knot, Knot):
        reason = str(_state.get("missing", "the test nameserver is not running"))
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and {reason}")
        print(f"skipping: {reason}")
        pytest.skip(reason)
    yield knot
