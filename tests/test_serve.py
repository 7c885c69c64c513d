"""`zonewarden serve` as production runs it: gunicorn's processes and the worker, stopped by SIGTERM."""

from __future__ import annotations

import http.client
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.smtpserver import free_port


def _environment(var_dir: Path) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "PYTEST_"))
    }
    environment.update(ZONEWARDEN_VAR_DIR=str(var_dir), ZONEWARDEN_TICK_SECONDS="1")
    return environment


def _wait(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def _get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _answers(port: int) -> bool:
    try:
        return _get(port, "/login/")[0] == 200
    except OSError:
        return False


def _beats(database: Path) -> int:
    try:
        with sqlite3.connect(database) as connection:
            return int(connection.execute("SELECT count(*) FROM jobs_workerheartbeat").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_serve_runs_gunicorn_and_the_worker_and_stops_both_on_sigterm(tmp_path: Path) -> None:
    environment = _environment(tmp_path)
    command = [sys.executable, "-m", "zonewarden"]
    migrate = subprocess.run(
        [*command, "migrate", "--verbosity", "0"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert migrate.returncode == 0, migrate.stderr
    port = free_port()
    serve = subprocess.Popen(  # noqa: S603 - our own command
        [*command, "serve", "--addr", f"127.0.0.1:{port}", "--workers", "2"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    answered = beat = False
    try:
        answered = _wait(lambda: _answers(port), 60)
        if answered:
            status, stylesheet = _get(port, "/static/zonewarden/site.css")
            assert status == 200 and stylesheet  # WhiteNoise serves the static files itself
            assert _get(port, "/dashboard/")[0] == 302  # to the log-in page
            beat = _wait(lambda: _beats(tmp_path / "zonewarden.sqlite3") > 0, 60)
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            output, _ = serve.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            serve.kill()
            output, _ = serve.communicate()
            raise AssertionError(f"serve did not stop on SIGTERM:\n{output}") from None
    assert answered, f"the web server did not answer within 60 s:\n{output}"
    assert beat, f"the worker recorded no heartbeat within 60 s:\n{output}"
    assert serve.returncode == 0, output
    assert "one-time password" in output  # the first start creates the administrator
    assert output.count("Booting worker") == 2, output  # gunicorn's own processes
    assert "worker " in output and " started" in output
    assert not _answers(port)
