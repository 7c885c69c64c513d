"""/healthz on a real web server over a real worker: 503 within two tick periods of the worker's
death (SIGKILL), 200 again once another worker runs."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.smtpserver import free_port

TICK_SECONDS = 1
ZONEWARDEN = [sys.executable, "-m", "zonewarden"]


def _environment(var_dir: Path) -> dict[str, str]:
    """This test's own SQLite file, shared by the web server and the workers; one-second ticks."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "PYTEST_"))
    }
    environment.update(ZONEWARDEN_VAR_DIR=str(var_dir), ZONEWARDEN_TICK_SECONDS=str(TICK_SECONDS))
    return environment


def _healthz(port: int) -> int | None:
    """The status /healthz answers, None when nothing answers."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError:
        return None
    finally:
        connection.close()


def _until(condition: Callable[[], bool], seconds: float, step: float = 0.05) -> float | None:
    """Poll until `condition` holds; return the seconds it took, None if it did not within `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return time.monotonic() - started
        time.sleep(step)
    return None


def _stop(process: subprocess.Popen[str]) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output or ""


@pytest.fixture
def started(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start `zonewarden …` processes on the test's database; stop whichever still run at the end."""
    environment = _environment(tmp_path)
    migrate = subprocess.run(
        [*ZONEWARDEN, "migrate", "--verbosity", "0"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert migrate.returncode == 0, migrate.stderr
    processes: list[subprocess.Popen[str]] = []

    def start(*arguments: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [*ZONEWARDEN, *arguments],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        _stop(process)


def test_healthz_turns_503_within_two_periods_of_the_workers_death_and_200_after_its_return(
    started: Callable[..., subprocess.Popen[str]],
) -> None:
    port = free_port()
    web = started("serve", "--no-worker", "--addr", f"127.0.0.1:{port}", "--workers", "1")
    assert _until(lambda: _healthz(port) is not None, 60, step=0.2) is not None, _stop(web)
    assert _healthz(port) == 503  # the web server answers, but no worker runs yet

    worker = started("worker", "--poll", "0.1")
    assert _until(lambda: _healthz(port) == 200, 60) is not None, _stop(worker)
    worker.send_signal(signal.SIGKILL)  # no clean stop: its last beat just grows old
    worker.wait(timeout=10)
    two_periods = 2 * TICK_SECONDS
    # The last beat came at most one round (0.1 s and its work) before the kill; the margin is the
    # polls' own latency on a busy machine (an answer counts when it arrives, not when it was asked).
    dead_after = _until(lambda: _healthz(port) == 503, two_periods + 5)
    assert dead_after is not None, "/healthz still answers 200 long after the worker's death"
    assert dead_after <= two_periods + 1.5, f"503 only {dead_after:.2f} s after the worker's death"

    second = started("worker", "--poll", "0.1")
    back_after = _until(lambda: _healthz(port) == 200, 60)
    assert back_after is not None, _stop(second)
    print(
        f"/healthz: 503 {dead_after:.2f} s after SIGKILL (two periods: {two_periods} s), 200 {back_after:.2f} s after a new worker started"
    )

    # The worker's clean stop is no death, but no worker is alive either.
    assert "stopped" in _stop(second)
    assert _healthz(port) == 503
