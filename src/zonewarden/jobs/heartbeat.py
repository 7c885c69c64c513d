"""Workers' heartbeats: which workers run, and when each was last seen doing its rounds.

A worker writes its row when it starts (`start`), moves `beat_at` on every round of its loop with
one UPDATE (`beat`) and marks the row stopped on a clean exit (`stop`). A worker that died keeps
its last beat, so "alive" is "beat recently and not stopped" (`alive_workers`).

The beat comes from the worker's supervising loop, which runs whatever its lanes do; with it goes
each lane's progress (`lanes`: {lane: {"round_at", "item_at", "busy_since", "error"}}, ISO times or
null), so a lane that hangs shows as a `busy_since` that grows old while the beats go on.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from zonewarden import __version__
from zonewarden.jobs.models import WorkerHeartbeat

# Rows of workers that stopped or died this long ago are removed when a worker starts: each start
# is a new host:pid, and the table would otherwise grow with every restart.
KEEP = dt.timedelta(days=30)


def start(name: str, at: dt.datetime, *, lanes: dict[str, Any] | None = None) -> WorkerHeartbeat:
    """Record that the worker `name` starts at `at`; forget workers not seen for `KEEP`."""
    WorkerHeartbeat.objects.filter(beat_at__lt=at - KEEP).exclude(name=name).delete()
    heartbeat, _ = WorkerHeartbeat.objects.update_or_create(
        name=name,
        defaults={
            "version": __version__,
            "started_at": at,
            "beat_at": at,
            "stopped_at": None,
            "lanes": lanes or {},
        },
    )
    return heartbeat


def beat(name: str, at: dt.datetime, *, lanes: dict[str, Any] | None = None) -> None:
    """Record that the worker `name` is alive at `at`, with its lanes' progress when given.

    One UPDATE; the row comes back if it was removed.
    """
    changes: dict[str, Any] = {"beat_at": at, "stopped_at": None}
    if lanes is not None:
        changes["lanes"] = lanes
    if not WorkerHeartbeat.objects.filter(name=name).update(**changes):
        start(name, at, lanes=lanes)


def stop(name: str, at: dt.datetime) -> None:
    """Record that the worker `name` stopped cleanly at `at`."""
    WorkerHeartbeat.objects.filter(name=name).update(beat_at=at, stopped_at=at)


def alive_workers(now: dt.datetime, within: dt.timedelta) -> list[WorkerHeartbeat]:
    """Return the workers that beat within `within` before `now` and have not stopped, latest first."""
    return list(
        WorkerHeartbeat.objects.filter(stopped_at__isnull=True, beat_at__gte=now - within).order_by(
            "-beat_at"
        )
    )


def last_heartbeat() -> WorkerHeartbeat | None:
    """Return the worker seen last, alive or not (None if no worker ever ran)."""
    return WorkerHeartbeat.objects.order_by("-beat_at", "-id").first()
