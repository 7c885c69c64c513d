"""Real `zonewarden worker` processes on the test's own database, on SQLite as on PostgreSQL.

A worker process needs a database it can open: on PostgreSQL that is the test database itself
(the test must be transactional, so that its rows are committed); on SQLite the test database
lives in this process's memory, so `shared_database` copies it into a file for the workers and
copies the file back when they are done (SQLite's backup API), for the test to read with the ORM.
While the workers run, `rows` reads the shared database on both.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.db import connection


class SharedDatabase:
    def __init__(self, url: str, file: Path | None) -> None:
        self.url = url
        self.file = file

    def rows(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        """Read the shared database as the workers see it now (plain SQL, both databases)."""
        if self.file is not None:
            with sqlite3.connect(self.file, timeout=30) as reader:
                return list(reader.execute(sql, params).fetchall())
        with connection.cursor() as cursor:
            cursor.execute(sql.replace("?", "%s"), params)
            return list(cursor.fetchall())


@contextmanager
def shared_database(folder: Path) -> Iterator[SharedDatabase]:
    """Yield the test database as other processes reach it (`url` for their DATABASE_URL)."""
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        user = quote(settings["USER"] or "", safe="")
        secret = f":{quote(settings['PASSWORD'], safe='')}" if settings["PASSWORD"] else ""
        url = f"postgres://{user}{secret}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
        yield SharedDatabase(url, None)
        return
    file = folder / "shared.sqlite3"
    connection.ensure_connection()
    memory = connection.connection
    assert isinstance(memory, sqlite3.Connection)
    with sqlite3.connect(file) as target:
        memory.backup(target)
    target.close()
    try:
        yield SharedDatabase(f"sqlite:///{file}", file)
    finally:
        source = sqlite3.connect(file, timeout=30)
        try:
            source.backup(memory)
        finally:
            source.close()


def environment(database: SharedDatabase, var_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of a worker process: this one's (the suite's name server), our database."""
    kept = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "PYTEST_"))
    }
    return {**kept, "DATABASE_URL": database.url, "ZONEWARDEN_VAR_DIR": str(var_dir), **settings}


class Worker:
    """`zonewarden worker ARGS` as its own process; its output is kept in a file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = log.open("w")
        self.process = subprocess.Popen(  # noqa: S603 - our own command
            [sys.executable, "-m", "zonewarden", "worker", *args],
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self.log.read_text()

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: the process dies at once, whatever it was doing."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)
        self._out.close()

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM, as systemd sends it; return the exit status."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"the worker did not stop on SIGTERM:\n{self.output()}") from None

    def wait(self, timeout: float) -> int:
        code = self.process.wait(timeout)
        self._out.close()
        return code


def wait_for(
    condition: Callable[[], bool], seconds: float, what: str, *, worker: Worker | None = None
) -> None:
    """Wait until `condition()` holds; fail saying `what` did not happen (with the worker's output)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        if worker is not None and not worker.alive():
            raise AssertionError(f"the worker exited before {what}:\n{worker.output()}")
        time.sleep(0.05)
    detail = f":\n{worker.output()}" if worker is not None else ""
    raise AssertionError(f"{what} did not happen within {seconds:.0f} s{detail}")
