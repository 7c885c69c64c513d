"""`zonewarden serve` as production runs it: gunicorn's processes and the worker, stopped by SIGTERM;
a worker that dies started again, one that cannot be kept running (or a dead gunicorn) stopping it all."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.smtpserver import free_port

COMMAND = [sys.executable, "-m", "zonewarden"]


def _environment(var_dir: Path) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "PYTEST_"))
    }
    # Where gunicorn would put its control socket if serve did not say: in $HOME, which a test sets.
    environment.pop("XDG_RUNTIME_DIR", None)
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
    return len(_heartbeats(database))


def _heartbeats(database: Path) -> list[str]:
    """The names (host:pid) of the workers that recorded a heartbeat."""
    try:
        with sqlite3.connect(database) as connection:
            return [row[0] for row in connection.execute("SELECT name FROM jobs_workerheartbeat")]
    except sqlite3.Error:
        return []


def _stopped(database: Path) -> list[str]:
    """The names of the workers that marked their heartbeat stopped (a clean exit)."""
    with sqlite3.connect(database) as connection:
        return [
            row[0]
            for row in connection.execute(
                "SELECT name FROM jobs_workerheartbeat WHERE stopped_at IS NOT NULL"
            )
        ]


def _processes() -> dict[int, tuple[int, int, str, list[str]]]:
    """Every process on the machine: pid → (parent, process group, state, command line)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().decode(errors="replace").rstrip("\0").split("\0")
        except OSError:
            continue  # it ended meanwhile
        found[int(entry.name)] = (int(fields[1]), int(fields[2]), fields[0], command)
    return found


def _descendants(pid: int) -> dict[int, list[str]]:
    """The processes `pid` started, and theirs, still running (zombies excluded): pid → command line."""
    processes = _processes()
    found: dict[int, list[str]] = {}
    parents = {pid}
    while parents:
        children = {
            child
            for child, (parent, _group, state, _command) in processes.items()
            if parent in parents and state != "Z"
        }
        parents = children - found.keys()
        found.update({child: processes[child][3] for child in parents})
    return found


def _left(pids: set[int], groups: set[int]) -> list[int]:
    """Which of `pids`, or of any process in `groups`, still run (zombies do not count)."""
    return sorted(
        pid
        for pid, (_parent, group, state, _command) in _processes().items()
        if state != "Z" and (pid in pids or group in groups)
    )


def _worker(serve: subprocess.Popen[str]) -> int | None:
    """The pid of serve's worker (None while it has none)."""
    for pid, command in _descendants(serve.pid).items():
        if command[-2:] == ["zonewarden", "worker"]:
            return pid
    return None


def _gunicorn(serve: subprocess.Popen[str]) -> int:
    """The pid of serve's gunicorn master (its direct child)."""
    processes = _processes()
    return next(
        pid
        for pid, (parent, _group, _state, command) in processes.items()
        if parent == serve.pid and "gunicorn" in command
    )


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database, copied into each test's var folder (migrating takes a while)."""
    var_dir = tmp_path_factory.mktemp("migrated")
    migrate = subprocess.run(
        [*COMMAND, "migrate", "--verbosity", "0"],
        env=_environment(var_dir),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert migrate.returncode == 0, migrate.stderr
    return var_dir / "zonewarden.sqlite3"


class Serve:
    """`zonewarden serve` as its own process, its output in a file; stopped and checked on the way out."""

    def __init__(self, var_dir: Path, database: Path, *, workers: int = 1, **settings: str) -> None:
        var_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(database, var_dir / "zonewarden.sqlite3")
        self.var_dir = var_dir
        self.database = var_dir / "zonewarden.sqlite3"
        self.port = free_port()
        self.environment = {**_environment(var_dir), **settings}
        self.log = var_dir / "serve.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own command
                [*COMMAND, "serve", "--addr", f"127.0.0.1:{self.port}", "--workers", str(workers)],
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
            )
        self.seen: set[int] = set()

    @property
    def output(self) -> str:
        return self.log.read_text()

    def started(self) -> None:
        """Wait until the pages answer and the worker beats; remember every process serve started."""
        assert _wait(lambda: _answers(self.port), 60), f"the web server did not answer:\n{self.output}"
        assert _wait(lambda: _beats(self.database) > 0, 60), (
            f"the worker recorded no heartbeat:\n{self.output}"
        )
        self.remember()

    def remember(self) -> None:
        self.seen.update(_descendants(self.process.pid))

    def exited(self, seconds: float) -> int:
        """serve's exit status, once it exited by itself within `seconds`."""
        try:
            return self.process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"serve still runs after {seconds} s:\n{self.output}") from None

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it; its exit status."""
        self.remember()
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=45)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"serve did not stop on SIGTERM:\n{self.output}") from None

    def leftovers(self) -> list[int]:
        """What serve started (and what those started) that still runs after serve ended."""
        assert self.process.returncode is not None
        return _left(self.seen, self.seen)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for pid in _left(self.seen, self.seen):  # a failed test leaves nothing running either
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


@pytest.fixture
def serving(migrated: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Serve]]:
    started: list[Serve] = []

    def start(**settings: str) -> Serve:
        # A short var folder: gunicorn's control socket goes there, and a socket's path is short.
        serve = Serve(tmp_path_factory.mktemp("var"), migrated, **settings)
        started.append(serve)
        return serve

    yield start
    for serve in started:
        serve.close()


def test_serve_runs_gunicorn_and_the_worker_and_stops_both_on_sigterm(serving: Callable[..., Serve]) -> None:
    serve = serving(workers=2)
    serve.started()
    status, stylesheet = _get(serve.port, "/static/zonewarden/site.css")
    assert status == 200 and stylesheet  # WhiteNoise serves the static files itself
    assert _get(serve.port, "/dashboard/")[0] == 302  # to the log-in page
    assert (serve.var_dir / "run" / "gunicorn.ctl").is_socket()  # gunicorn's control socket
    assert serve.stop() == 0, serve.output
    output = serve.output
    assert "one-time password" in output  # the first start creates the administrator
    assert output.count("Booting worker") == 2, output  # gunicorn's own processes
    assert "worker " in output and " started" in output
    assert output.rstrip().endswith("stopped"), output
    assert not _answers(serve.port)
    assert serve.leftovers() == []
    assert not (serve.var_dir / "run" / "gunicorn.ctl").exists()
    assert _stopped(serve.database) == _heartbeats(serve.database)  # the worker stopped cleanly


def test_serve_starts_its_worker_again_when_it_is_killed(serving: Callable[..., Serve]) -> None:
    serve = serving()
    serve.started()
    first = _worker(serve.process)
    assert first is not None
    os.kill(first, signal.SIGKILL)
    assert _wait(lambda: _worker(serve.process) not in (None, first), 30), serve.output
    second = _worker(serve.process)
    assert _wait(lambda: any(name.endswith(f":{second}") for name in _heartbeats(serve.database)), 60), (
        f"the new worker recorded no heartbeat:\n{serve.output}"
    )
    assert _answers(serve.port)  # the pages never stopped
    assert serve.stop() == 0, serve.output
    output = serve.output
    assert f"the worker (pid {first}) was killed by SIGKILL" in output
    assert "starting it again in 1 s (restart 1 within 600 s, at most 10)" in output
    assert f"the worker started again (pid {second})" in output
    assert serve.leftovers() == []


def test_serve_stops_the_web_server_and_exits_1_when_its_worker_cannot_be_kept_running(
    serving: Callable[..., Serve],
) -> None:
    serve = serving(ZONEWARDEN_WORKER_RESTARTS="1")
    serve.started()
    first = _worker(serve.process)
    assert first is not None
    os.kill(first, signal.SIGKILL)
    assert _wait(lambda: _worker(serve.process) not in (None, first), 30), serve.output
    second = _worker(serve.process)
    assert second is not None
    serve.remember()
    os.kill(second, signal.SIGKILL)  # a second death within the window: more than the 1 restart allowed
    assert serve.exited(60) == 1, serve.output
    output = serve.output
    assert (
        f"CommandError: the worker (pid {second}) was killed by SIGKILL after" in output
        and "after 1 restart within 600 s (at most 1): it cannot be kept running; stopped the web server too"
        in output
    ), output
    assert not _answers(serve.port)
    assert serve.leftovers() == []


def test_serve_stops_its_worker_and_exits_1_when_gunicorn_dies(serving: Callable[..., Serve]) -> None:
    serve = serving(workers=2)
    serve.started()
    master = _gunicorn(serve.process)
    os.kill(master, signal.SIGKILL)
    assert serve.exited(60) == 1, serve.output
    output = serve.output
    assert f"CommandError: the web server (pid {master}) was killed by SIGKILL after" in output, output
    assert "stopped the worker too" in output
    # gunicorn's own processes, left without their master, are gone too: nothing answers.
    assert not _answers(serve.port)
    assert serve.leftovers() == []
    assert _stopped(serve.database) == _heartbeats(serve.database)  # the worker stopped cleanly


def test_two_instances_on_one_machine_keep_their_files_in_their_own_var_folders(
    serving: Callable[..., Serve], tmp_path: Path
) -> None:
    # gunicorn 27 puts its control socket in ~/.gunicorn/ unless told otherwise (without
    # XDG_RUNTIME_DIR, which _environment leaves out): one for every instance on the machine.
    home = tmp_path / "home"
    home.mkdir()
    instances = [serving(HOME=str(home)), serving(HOME=str(home))]
    for serve in instances:
        serve.started()
    assert list(home.iterdir()) == []
    for serve in instances:
        assert _answers(serve.port)
        assert (serve.var_dir / "run" / "gunicorn.ctl").is_socket()
        assert f"Control socket listening at {serve.var_dir / 'run' / 'gunicorn.ctl'}" in serve.output
    for serve in instances:
        assert serve.stop() == 0, serve.output
        assert serve.leftovers() == []
    assert list(home.iterdir()) == []
