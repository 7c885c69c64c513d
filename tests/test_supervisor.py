"""The supervisor behind `zonewarden serve`, on real child processes and a clock the test moves."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from zonewarden.supervisor import MAX_DELAY, STABLE_AFTER, Child, GaveUp, RestartPolicy, Supervisor, describe

EXITS = [sys.executable, "-c", "raise SystemExit(3)"]
SLEEPS = [sys.executable, "-c", "import time; time.sleep(60)"]
# Ignores SIGTERM, as a process stuck in a round would: only SIGKILL ends it. It says when it is ready
# by creating the file named by its argument.
STUBBORN = [
    sys.executable,
    "-c",
    "import pathlib, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "pathlib.Path(sys.argv[1]).touch(); time.sleep(60)",
]

# Starts a grandchild that sleeps, writes its pid to the file named by its argument, then sleeps.
PARENT = [
    sys.executable,
    "-c",
    "import pathlib, subprocess, sys, time; "
    "grandchild = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
    "pathlib.Path(sys.argv[1]).write_text(str(grandchild.pid)); time.sleep(60)",
]


class Clock:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def supervisor(clock: Clock) -> Iterator[Supervisor]:
    with Supervisor(clock=clock) as supervisor:
        yield supervisor
    for child in supervisor.children:
        assert child.process is None  # stopped and reaped on the way out


def exited(child: Child) -> None:
    """Wait until the child's current process has ended (the supervisor has not noticed yet)."""
    assert child.process is not None
    child.process.wait(timeout=30)


def alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_child_that_exits_is_started_again_after_pauses_of_1_2_4_seconds_then_given_up(
    supervisor: Supervisor, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    child = supervisor.start(Child("the worker", EXITS, policy=RestartPolicy(limit=3, window=600)))
    pids = set()
    for pause in (1.0, 2.0, 4.0):
        assert child.process is not None
        pids.add(child.process.pid)
        exited(child)
        supervisor.check()
        assert child.process is None and child.restart_at == clock.now + pause
        clock.now += pause - 0.1
        supervisor.check()
        assert child.process is None, "started again before its pause was over"
        clock.now += 0.1
        supervisor.check()
        assert child.process is not None, "not started again after its pause"
    exited(child)
    with pytest.raises(GaveUp) as gave_up:
        supervisor.check()
    assert gave_up.value.child is child
    assert "the worker (pid" in str(gave_up.value)
    assert "exited with status 3" in str(gave_up.value)
    assert "after 3 restarts within 600 s (at most 3): it cannot be kept running" in str(gave_up.value)
    assert len(pids) == 3
    warnings = [record.getMessage() for record in caplog.records if record.name == "zonewarden.serve"]
    assert [
        message.split("starting it again in ")[1].split(" s")[0]
        for message in warnings
        if "again in" in message
    ] == [
        "1",
        "2",
        "4",
    ]
    assert sum("started again (pid" in message for message in warnings) == 3


def test_the_pause_grows_to_at_most_a_minute_and_starts_again_after_a_long_run(
    supervisor: Supervisor, clock: Clock
) -> None:
    child = supervisor.start(Child("the worker", EXITS, policy=RestartPolicy(limit=100, window=10_000)))
    pauses = []
    for _ in range(8):
        exited(child)
        supervisor.check()
        assert child.restart_at is not None
        pauses.append(child.restart_at - clock.now)
        clock.now = child.restart_at
        supervisor.check()
    assert pauses == [1, 2, 4, 8, 16, 32, MAX_DELAY, MAX_DELAY]
    # This time it ran for a while before it exited: not a crash loop, the pause is short again.
    clock.now += STABLE_AFTER
    exited(child)
    supervisor.check()
    assert child.restart_at == clock.now + 1


def test_restarts_older_than_the_window_do_not_count(supervisor: Supervisor, clock: Clock) -> None:
    child = supervisor.start(Child("the worker", EXITS, policy=RestartPolicy(limit=1, window=300)))
    exited(child)
    supervisor.check()
    clock.now += 1
    supervisor.check()
    clock.now += 300  # the first restart is out of the window by the time it exits again
    exited(child)
    supervisor.check()
    assert child.restart_at is not None
    clock.now = child.restart_at
    supervisor.check()
    exited(child)  # a second exit within 300 s of the last restart: more than 1
    with pytest.raises(GaveUp):
        supervisor.check()


def test_no_restarts_allowed_gives_up_at_the_first_exit(supervisor: Supervisor) -> None:
    child = supervisor.start(Child("the worker", EXITS, policy=RestartPolicy(limit=0, window=600)))
    exited(child)
    with pytest.raises(GaveUp, match="after 0 restarts within 600 s"):
        supervisor.check()


def test_a_child_without_a_policy_is_not_started_again(supervisor: Supervisor) -> None:
    worker = supervisor.start(Child("the worker", SLEEPS, policy=RestartPolicy(limit=10, window=600)))
    web = supervisor.start(Child("the web server", SLEEPS))
    assert web.process is not None and worker.process is not None
    web.process.kill()
    exited(web)
    with pytest.raises(GaveUp, match=r"^the web server \(pid \d+\) was killed by SIGKILL after 0 s$"):
        supervisor.check()
    assert worker.process.poll() is None  # the caller stops the rest (leaving the `with`)


def test_an_optional_child_that_cannot_run_is_left_stopped(
    supervisor: Supervisor, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    sites = supervisor.start(
        Child("the demo's sites", EXITS, policy=RestartPolicy(limit=0, window=600), required=False)
    )
    web = supervisor.start(Child("the web server", SLEEPS))
    exited(sites)
    supervisor.check()
    clock.now += 3600
    supervisor.check()
    assert sites.given_up and sites.process is None and sites.restart_at is None
    assert web.process is not None and web.process.poll() is None
    assert "it cannot be kept running; left stopped" in caplog.text


def test_exits_after_a_stop_was_asked_for_are_not_restarts(supervisor: Supervisor) -> None:
    child = supervisor.start(Child("the worker", EXITS, policy=RestartPolicy(limit=0, window=600)))
    supervisor.request_stop()
    exited(child)
    supervisor.check()  # no GaveUp: serve is stopping anyway
    supervisor.run()  # returns at once
    assert child.restart_at is None


def test_stop_all_terminates_kills_the_stubborn_and_reaps_every_child(clock: Clock, tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    supervisor = Supervisor(clock=clock)
    polite = supervisor.start(Child("polite", SLEEPS))
    stubborn = supervisor.start(Child("stubborn", [*STUBBORN, str(ready)]))
    assert polite.process is not None and stubborn.process is not None
    processes = [polite.process, stubborn.process]
    # Its handler must be in place before the SIGTERM, or the default action ends it.
    deadline = time.monotonic() + 30
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    supervisor.stop_all(timeout=1)
    assert time.monotonic() - started < 10
    assert processes[0].returncode == -signal.SIGTERM
    assert processes[1].returncode == -signal.SIGKILL
    assert not any(alive(process.pid) for process in processes)
    assert all(child.process is None for child in supervisor.children)


def test_what_a_dead_child_started_goes_with_it(supervisor: Supervisor, tmp_path: Path) -> None:
    """gunicorn's processes when its master is killed, a browser the worker started: not left running."""
    written = tmp_path / "grandchild"
    child = supervisor.start(Child("the web server", [*PARENT, str(written)]))
    deadline = time.monotonic() + 30
    while (not written.exists() or not written.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    grandchild = int(written.read_text())
    assert alive(grandchild)
    assert child.process is not None
    child.process.kill()
    exited(child)
    with pytest.raises(GaveUp):
        supervisor.check()
    deadline = time.monotonic() + 10
    while alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(grandchild)


def test_describe() -> None:
    assert describe(0) == "exited with status 0"
    assert describe(1) == "exited with status 1"
    assert describe(-9) == "was killed by SIGKILL"
    assert describe(-15) == "was killed by SIGTERM"


def test_run_watches_until_a_signal_asks_it_to_stop() -> None:
    """The real loop and a real signal: the handler asks the supervisor to stop, the loop notices."""
    with Supervisor(interval=0.05) as supervisor:
        child = supervisor.start(Child("the worker", SLEEPS, policy=RestartPolicy(limit=10, window=600)))
        previous = signal.signal(signal.SIGUSR1, lambda signum, frame: supervisor.request_stop())
        try:
            started = time.monotonic()
            threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGUSR1)).start()
            supervisor.run()
        finally:
            signal.signal(signal.SIGUSR1, previous)
        assert time.monotonic() - started < 10
        assert child.process is not None and child.process.poll() is None
    assert child.process is None


def test_a_dead_child_is_reaped_when_checked(supervisor: Supervisor, clock: Clock) -> None:
    child = supervisor.start(Child("the worker", EXITS, policy=RestartPolicy(limit=5, window=600)))
    assert child.process is not None
    pid = child.process.pid
    deadline = time.monotonic() + 30
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert Path(f"/proc/{pid}").exists(), "a zombie until its parent reaps it"
    supervisor.check()
    assert not Path(f"/proc/{pid}").exists()
