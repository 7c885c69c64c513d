"""`zonewarden serve` on PostgreSQL across a restart of the database: the worker comes back to work."""

from __future__ import annotations

import datetime as dt
import http.client
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection

from tests.pgcluster import restart_cluster
from tests.smtpserver import free_port
from tests.workerprocess import environment, shared_database
from zonewarden.cases import workflow
from zonewarden.cases.models import Case

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _healthz(port: int) -> int:
    try:
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        client.request("GET", "/healthz")
        return client.getresponse().status
    except OSError:
        return 0


def _wait(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_serve_keeps_its_worker_working_across_a_postgresql_restart(
    tmp_path: Path, make_case: Callable[..., Case]
) -> None:
    port = free_port()
    with shared_database(tmp_path) as database:
        env = environment(database, tmp_path / "var", ZONEWARDEN_TICK_SECONDS="2")
        log = (tmp_path / "serve.log").open("w")
        serve = subprocess.Popen(  # noqa: S603 - our own command
            [sys.executable, "-m", "zonewarden", "serve", "--addr", f"127.0.0.1:{port}", "--workers", "1"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

        def output() -> str:
            return (tmp_path / "serve.log").read_text()

        def beats_since(moment: dt.datetime) -> int:
            rows = database.rows("SELECT count(*) FROM jobs_workerheartbeat WHERE beat_at > ?", moment)
            return int(rows[0][0])

        try:
            assert _wait(lambda: _healthz(port) == 200, 60), f"not healthy before the restart:\n{output()}"
            restart_cluster()
            restarted = dt.datetime.now(dt.UTC)
            connection.close()  # the restart cut this process's connection too
            assert _wait(lambda: beats_since(restarted) > 0, 60), f"no beat after the restart:\n{output()}"
            assert _wait(lambda: _healthz(port) == 200, 30), f"not healthy after the restart:\n{output()}"
            # And it works: a case confirmed after the restart gets its first notice (the sink).
            case = workflow.confirm(make_case(restarted), actor="user:analyst", at=restarted)

            def notified() -> bool:
                rows = database.rows("SELECT state FROM notices_notice WHERE case_id = ?", case.pk)
                return [state for (state,) in rows] == ["sent"]

            assert _wait(notified, 60), f"no notice sent after the restart:\n{output()}"
            assert serve.poll() is None, f"serve gave up:\n{output()}"
        finally:
            serve.send_signal(signal.SIGTERM)
            try:
                serve.wait(timeout=60)
            except subprocess.TimeoutExpired:
                serve.kill()
                serve.wait()
            log.close()
    assert serve.returncode == 0, output()
