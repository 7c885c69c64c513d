"""Workers' heartbeats: which workers run, and when each was last seen doing its rounds.

A worker writes its row when it starts (`start`), moves `beat_at` on every round of its loop with
one UPDATE (`beat`) and marks the row stopped on a clean exit (`stop`). A worker that died keeps
its last beat, so "alive" is "beat within two tick periods and not stopped" (`alive_workers`,
`any_alive`): the one rule `zonewarden doctor`, /healthz, /metrics and the pages' banner use.
The tick also notes here how long its last run took in the worker (`record_tick`).

The beat comes from the worker's supervising loop, which runs whatever its lanes do; with it goes
each lane's progress (`lanes`: {lane: {"round_at", "item_at", "busy_since", "error"}}, ISO times or
null), so a lane that hangs shows as a `busy_since` that grows old while the beats go on.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from zonewarden import __version__
from zonewarden.jobs.models import WorkerHeartbeat

# Rows of workers that stopped or died this long ago are removed when a worker starts: each start
# is a new host:pid, and the table would otherwise grow with every restart.
KEEP = dt.timedelta(days=30)
# A worker beats every round, and ticks every ZONEWARDEN_TICK_SECONDS: a worker whose last beat is
# older than this many tick periods died or hangs.
ALIVE_PERIODS = 2


def alive_within() -> dt.timedelta:
    """Return how recent a beat must be for its worker to count as alive (two tick periods)."""
    return dt.timedelta(seconds=ALIVE_PERIODS * settings.ZONEWARDEN_TICK_SECONDS)


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


def record_tick(name: str, at: dt.datetime, seconds: float) -> None:
    """Record that the worker `name` ran a tick at `at` that took `seconds` (no row: not a worker)."""
    WorkerHeartbeat.objects.filter(name=name).update(tick_at=at, tick_seconds=seconds)


def _alive(now: dt.datetime, within: dt.timedelta | None) -> QuerySet[WorkerHeartbeat]:
    since = now - (alive_within() if within is None else within)
    return WorkerHeartbeat.objects.filter(stopped_at__isnull=True, beat_at__gte=since)


def alive_workers(now: dt.datetime, within: dt.timedelta | None = None) -> list[WorkerHeartbeat]:
    """Return the workers alive at `now` (beat within `within`, default two tick periods), latest first."""
    return list(_alive(now, within).order_by("-beat_at"))


def any_alive(now: dt.datetime) -> bool:
    """Return whether a worker is alive at `now` (one query: the health check and the banner)."""
    return _alive(now, None).exists()


def last_heartbeat() -> WorkerHeartbeat | None:
    """Return the worker seen last, alive or not (None if no worker ever ran)."""
    return WorkerHeartbeat.objects.order_by("-beat_at", "-id").first()
