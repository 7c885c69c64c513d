"""What /metrics reports: the queues, the outbox, the DNS publications, the checks and the workers.

The numbers are read from the database on every scrape by a collector made for that scrape, not
kept in process-global counters: `zonewarden serve` runs several web server processes, and the
workers run in others, so only the database knows the whole picture. Every family is named
`zonewarden_…`, with its unit in the name where it has one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from zonewarden.checks.models import Check, Verdict
from zonewarden.jobs import heartbeat
from zonewarden.jobs.models import WorkerHeartbeat
from zonewarden.notices.models import Notice
from zonewarden.publish.models import Publication
from zonewarden.queues import LANES, Backlog, backlog

# --- lanes ------------------------------------------------------------------------------------
# The lanes and their backlog are the queues' own (zonewarden.queues): one answer for the worker,
# /metrics and anyone else asking how much work waits where.


@dataclass(frozen=True)
class QueueDepth:
    """How many items of one lane are in one state, and since when the oldest due one waits."""

    lane: str
    state: str
    depth: int
    oldest_due: dt.datetime | None  # None: none of them is due yet


def queue_depths(now: dt.datetime) -> list[QueueDepth]:
    """Return the depth and oldest due time of every lane and state (due, held, later, in doubt)."""
    found: dict[tuple[str, str], list[Backlog]] = defaultdict(list)
    for lane in LANES:
        found[lane, "due"] = []  # every lane reports, empty or not
    for part in backlog(now):
        found[part.lane, part.state].append(part)
    depths = []
    for (lane, state), parts in sorted(found.items()):
        dues = [part.oldest for part in parts if part.oldest is not None and part.oldest <= now]
        depths.append(QueueDepth(lane, state, sum(part.count for part in parts), min(dues, default=None)))
    return depths


# --- the collector ----------------------------------------------------------------------------


def _by(field: str, rows: QuerySet[Any]) -> dict[str, int]:
    return {str(key): int(n) for key, n in rows.values_list(field).annotate(n=Count("pk")).order_by()}


class DatabaseCollector(Collector):
    """Read every metric from the database as of `now`, once per scrape."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def collect(self) -> Iterator[Metric]:
        yield from self._queues()
        yield from self._outcomes()
        yield from self._workers()

    def _queues(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "zonewarden_queue_depth",
            "Work waiting or in progress, by lane and state (due or not yet due)",
            labels=["lane", "state"],
        )
        age = GaugeMetricFamily(
            "zonewarden_queue_oldest_due_age_seconds",
            "How long the oldest due item of a lane and state has been due (0: none is due)",
            labels=["lane", "state"],
        )
        for row in queue_depths(self.now):
            depth.add_metric([row.lane, row.state], row.depth)
            waited = (self.now - row.oldest_due).total_seconds() if row.oldest_due else 0.0
            age.add_metric([row.lane, row.state], max(waited, 0.0))
        yield depth
        yield age

    def _outcomes(self) -> Iterator[Metric]:
        notices = GaugeMetricFamily(
            "zonewarden_notices",
            "Notices in the outbox by state (sent, failed, unconfirmed: the worker died while sending, …)",
            labels=["state"],
        )
        counts = _by("state", Notice.objects.all())
        for state in Notice.State.values:
            notices.add_metric([state], counts.get(state, 0))
        yield notices

        publications = GaugeMetricFamily(
            "zonewarden_publications",
            "Suspensions and restorations on their way to the DNS, by action and state (applied, failed, pending)",
            labels=["action", "state"],
        )
        pairs = {
            (str(action), str(state)): int(n)
            for action, state, n in Publication.objects.values_list("action", "state")
            .annotate(n=Count("pk"))
            .order_by()
        }
        for action in Publication.Action.values:
            for state in Publication.State.values:
                publications.add_metric([action, state], pairs.get((action, state), 0))
        yield publications

        total = CounterMetricFamily(
            "zonewarden_checks", "Checks of incidents' URLs ever made, by verdict", labels=["verdict"]
        )
        recent = GaugeMetricFamily(
            "zonewarden_checks_24h",
            "Checks of incidents' URLs made in the last 24 hours, by verdict",
            labels=["verdict"],
        )
        everything = _by("verdict", Check.objects.all())
        last_day = _by("verdict", Check.objects.filter(at__gt=self.now - dt.timedelta(hours=24)))
        for verdict in Verdict.values:
            total.add_metric([verdict], everything.get(verdict, 0))
            recent.add_metric([verdict], last_day.get(verdict, 0))
        yield total
        yield recent

    def _workers(self) -> Iterator[Metric]:
        alive = GaugeMetricFamily(
            "zonewarden_workers_alive",
            "Workers that beat within two tick periods (2 × ZONEWARDEN_TICK_SECONDS) and have not stopped",
        )
        alive.add_metric([], len(heartbeat.alive_workers(self.now)))
        yield alive

        beats = GaugeMetricFamily(
            "zonewarden_worker_last_heartbeat_timestamp_seconds",
            "When each worker that has not stopped cleanly last beat (Unix time); a dead one's stays until "
            "its row is removed",
            labels=["worker"],
        )
        ticked = GaugeMetricFamily(
            "zonewarden_worker_last_tick_timestamp_seconds",
            "When each worker that has not stopped cleanly last ran the tick (Unix time)",
            labels=["worker"],
        )
        took = GaugeMetricFamily(
            "zonewarden_tick_duration_seconds",
            "How long the last tick of each worker that has not stopped cleanly took",
            labels=["worker"],
        )
        for worker in WorkerHeartbeat.objects.filter(stopped_at__isnull=True).order_by("name"):
            beats.add_metric([worker.name], worker.beat_at.timestamp())
            if worker.tick_at is not None and worker.tick_seconds is not None:
                ticked.add_metric([worker.name], worker.tick_at.timestamp())
                took.add_metric([worker.name], worker.tick_seconds)
        yield beats
        yield ticked
        yield took


def exposition(now: dt.datetime) -> bytes:
    """Return the metrics as of `now` in Prometheus' text format (DatabaseError if it is unreachable)."""
    registry = CollectorRegistry(auto_describe=False)  # registering must not query: collect once
    registry.register(DatabaseCollector(now))
    return generate_latest(registry)
