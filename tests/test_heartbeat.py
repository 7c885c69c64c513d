"""Workers' heartbeats: written at start, on every round and at a clean stop; read as "alive"."""

from __future__ import annotations

import datetime as dt
import io
import os
import signal
import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from django.contrib.admin.sites import site
from django.core.management import call_command
from django.test import Client

from tests.conftest import almaty
from zonewarden import __version__, clock
from zonewarden.jobs import heartbeat
from zonewarden.jobs.management.commands import worker as worker_command
from zonewarden.jobs.models import WorkerHeartbeat
from zonewarden.jobs.queue import worker_name

pytestmark = pytest.mark.django_db
T0 = almaty(2026, 4, 1, 9)
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def signals_restored() -> Iterator[None]:
    """The worker installs its own SIGTERM/SIGINT handlers; give pytest its own back."""
    saved = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


def test_a_started_worker_beats_until_it_stops() -> None:
    heartbeat.start("host:1", T0)
    heartbeat.beat("host:1", T0 + MINUTE)
    [row] = WorkerHeartbeat.objects.all()
    assert (row.name, row.version, row.started_at, row.beat_at, row.stopped_at) == (
        "host:1",
        __version__,
        T0,
        T0 + MINUTE,
        None,
    )
    assert heartbeat.alive_workers(T0 + 2 * MINUTE, 2 * MINUTE) == [row]
    heartbeat.stop("host:1", T0 + 2 * MINUTE)
    assert heartbeat.alive_workers(T0 + 2 * MINUTE, 2 * MINUTE) == []
    assert heartbeat.last_heartbeat() == WorkerHeartbeat.objects.get(stopped_at=T0 + 2 * MINUTE)


def test_a_worker_that_stopped_beating_is_not_alive() -> None:
    heartbeat.start("host:1", T0)
    heartbeat.start("host:2", T0 + 5 * MINUTE)
    assert [w.name for w in heartbeat.alive_workers(T0 + 6 * MINUTE, 2 * MINUTE)] == ["host:2"]
    assert [w.name for w in heartbeat.alive_workers(T0 + 6 * MINUTE, 10 * MINUTE)] == ["host:2", "host:1"]
    assert heartbeat.last_heartbeat().name == "host:2"  # type: ignore[union-attr]


def test_a_beat_brings_back_a_removed_row_and_a_start_forgets_long_gone_workers() -> None:
    heartbeat.start("old:1", T0)
    heartbeat.start("host:1", T0 + dt.timedelta(days=31))
    assert list(WorkerHeartbeat.objects.values_list("name", flat=True)) == ["host:1"]
    WorkerHeartbeat.objects.all().delete()
    heartbeat.beat("host:1", T0 + dt.timedelta(days=32))
    assert WorkerHeartbeat.objects.get().beat_at == T0 + dt.timedelta(days=32)


# The worker closes old connections every round: a test transaction would not survive that.
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("defaults")  # the tick needs the policy a transactional test flushes
def test_the_worker_command_records_its_start_and_its_clean_stop(signals_restored: None) -> None:
    with clock.frozen(T0):
        call_command("worker", "--once", stdout=io.StringIO())
    row = WorkerHeartbeat.objects.get()
    assert row.name == worker_name()
    assert (row.started_at, row.beat_at, row.stopped_at) == (T0, T0, T0)


@pytest.mark.django_db(transaction=True)
def test_the_worker_beats_on_every_round_with_its_lanes_and_stops_on_sigterm(
    monkeypatch: pytest.MonkeyPatch, signals_restored: None
) -> None:
    seen: list[tuple[dt.datetime, dt.datetime | None, dict[str, object]]] = []

    def between_rounds(seconds: float) -> None:
        row = WorkerHeartbeat.objects.get(name=worker_name())
        seen.append((row.beat_at, row.stopped_at, row.lanes))
        if len(seen) == 3:
            os.kill(os.getpid(), signal.SIGTERM)  # what `kill` or systemd sends
        time.sleep(0.05)

    monkeypatch.setattr(
        worker_command, "time", SimpleNamespace(monotonic=time.monotonic, sleep=between_rounds)
    )
    # One lane whose rounds touch no table (no Maildir configured): the lanes' own threads use
    # connections of their own, which the in-memory SQLite of this run shares badly; the worker
    # processes of tests/test_worker_process.py run every lane against a real database.
    out = io.StringIO()
    call_command("worker", "--poll", "0", "--lane", "maildir", stdout=out)
    assert len(seen) == 3
    beats = [beat for beat, _, _ in seen]
    assert beats == sorted(beats) and len(set(beats)) == 3  # one beat a round
    assert all(stopped is None for _, stopped, _ in seen)
    assert all(set(lanes) == {"maildir"} for _, _, lanes in seen)
    row = WorkerHeartbeat.objects.get()
    assert row.stopped_at is not None and row.stopped_at >= beats[-1]
    assert set(row.lanes) == {"maildir"} and set(row.lanes["maildir"]) == {
        "round_at",
        "item_at",
        "busy_since",
        "error",
    }
    assert "lanes maildir" in out.getvalue() and "stopped" in out.getvalue()


def test_the_admin_lists_heartbeats_read_only(admin_client: Client) -> None:
    heartbeat.start("host:1", T0)
    model_admin = site._registry[WorkerHeartbeat]
    page = admin_client.get("/admin/jobs/workerheartbeat/")
    assert page.status_code == 200
    assert "host:1" in page.content.decode()
    request = page.wsgi_request
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert admin_client.get("/admin/jobs/workerheartbeat/add/").status_code == 403
