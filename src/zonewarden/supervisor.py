"""`zonewarden serve`'s children kept running: each one that exits is started again after a
growing pause, and when one cannot be kept running every child is stopped.

A child with a `RestartPolicy` (the worker, the demo's sites) is started again 1, 2, 4 … s after it
exits (at most `MAX_DELAY`; after it ran `STABLE_AFTER` s the pause starts again at 1 s). When it
exits once more after `limit` restarts within `window` seconds, serve gives up on it: a `required`
child takes the others down with it, an optional one is left stopped. A child without a policy (the
web server, gunicorn, which restarts its own processes) is not started again: its exit stops all.

The pauses are measured on the monotonic clock: they are intervals, not moments of the case clock.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

logger = logging.getLogger("zonewarden.serve")

FIRST_DELAY = 1.0
MAX_DELAY = 60.0
# A child that ran this long before it exited was not crash-looping: its next pause is FIRST_DELAY.
STABLE_AFTER = 60.0
# How long the children have to stop after SIGTERM before they are killed (gunicorn lets requests
# in progress finish for up to 30 s; a worker finishes its round).
STOP_TIMEOUT = 30.0


@dataclass(frozen=True)
class RestartPolicy:
    """At most `limit` restarts within `window` seconds; more means the child cannot be kept running."""

    limit: int
    window: float


@dataclass
class Child:
    """One process serve runs, and what to do when it exits."""

    name: str
    command: Sequence[str]
    env: dict[str, str] | None = None
    policy: RestartPolicy | None = None
    required: bool = True
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restart_at: float | None = None
    restarts: deque[float] = field(default_factory=deque)
    quick_exits: int = 0
    given_up: bool = False


class GaveUp(Exception):
    """A required child could not be kept running (what happened is the message)."""

    def __init__(self, child: Child, reason: str) -> None:
        super().__init__(reason)
        self.child = child


def describe(returncode: int) -> str:
    """Say how a process ended: its exit status or the signal that killed it."""
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with status {returncode}"


class Supervisor:
    """Start children, watch them, restart or give up, and stop them all."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, interval: float = 0.2) -> None:
        self.children: list[Child] = []
        self.clock = clock
        self.interval = interval
        self.stopping = False

    def start(self, child: Child) -> Child:
        """Start `child` now and watch it from then on."""
        self.children.append(child)
        self._spawn(child)
        return child

    def request_stop(self) -> None:
        """Ask `run` to stop every child and return (safe to call from a signal handler)."""
        self.stopping = True

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        # However serve ends (a signal, a child given up on, an error while starting), no child outlives it.
        self.stop_all()

    def run(self) -> None:
        """Watch the children until `request_stop`; raise GaveUp when a required one cannot be kept running."""
        while not self.stopping:
            self.check()
            # A signal's handler runs during the sleep, which then goes on: at most `interval` late.
            time.sleep(self.interval)

    def check(self) -> None:
        """Reap the children that exited, restart those whose pause is over; GaveUp if one cannot run."""
        now = self.clock()
        for child in self.children:
            if child.process is not None:
                returncode = child.process.poll()  # reaps it: no zombie stays behind
                if returncode is not None and not self.stopping:
                    self._exited(child, child.process, now)
            elif child.restart_at is not None and now >= child.restart_at and not self.stopping:
                child.restart_at = None
                process = self._spawn(child)
                logger.info("%s started again (pid %d)", child.name, process.pid)

    def stop_all(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM every running child, wait up to `timeout` s for all of them, SIGKILL what is left.

        The SIGTERM goes to each child alone, so that gunicorn stops its own processes gracefully; the
        SIGKILL goes to each child's whole process group, so nothing a child started outlives serve.
        """
        running = [child.process for child in self.children if child.process is not None]
        for process in running:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + timeout
        for process in running:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning("pid %d did not stop within %.0f s: killed", process.pid, timeout)
                process.kill()
                process.wait()
            kill_group(process.pid)
        for child in self.children:
            child.process = None
            child.restart_at = None

    def _spawn(self, child: Child) -> subprocess.Popen[bytes]:
        # Our own interpreter and module (or gunicorn's) with fixed arguments: no shell. Each child
        # leads a process group of its own: what it starts can be found (and stopped) after it died,
        # and a Ctrl-C in the terminal reaches serve alone, which then stops the children in order.
        child.process = subprocess.Popen(list(child.command), env=child.env, process_group=0)  # noqa: S603
        child.started_at = self.clock()
        return child.process

    def _exited(self, child: Child, process: subprocess.Popen[bytes], now: float) -> None:
        ran = now - child.started_at
        how = f"{child.name} (pid {process.pid}) {describe(process.returncode)} after {ran:.0f} s"
        child.process = None
        # What it left behind (gunicorn's processes without their master, a worker's browser) goes too.
        kill_group(process.pid)
        policy = child.policy
        if policy is None:
            raise GaveUp(child, how)
        while child.restarts and child.restarts[0] <= now - policy.window:
            child.restarts.popleft()
        if len(child.restarts) >= policy.limit:
            restarts = len(child.restarts)
            reason = (
                f"{how}, after {restarts} restart{'' if restarts == 1 else 's'} within {policy.window:.0f} s "
                f"(at most {policy.limit}): it cannot be kept running"
            )
            if child.required:
                raise GaveUp(child, reason)
            child.given_up = True
            logger.error("%s; left stopped", reason)
            return
        if ran >= STABLE_AFTER:
            child.quick_exits = 0
        delay = min(FIRST_DELAY * 2**child.quick_exits, MAX_DELAY)
        child.quick_exits += 1
        child.restarts.append(now)
        child.restart_at = now + delay
        logger.warning(
            "%s; starting it again in %.0f s (restart %d within %.0f s, at most %d)",
            how,
            delay,
            len(child.restarts),
            policy.window,
            policy.limit,
        )


def kill_group(group: int) -> None:
    """SIGKILL whatever is left in the process group `group` (nothing: nothing to do)."""
    try:
        os.killpg(group, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
