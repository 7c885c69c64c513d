"""/healthz, /metrics and the staff's banner while no worker is alive."""

from __future__ import annotations

import copy
import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.contrib.auth.models import User
from django.db import DEFAULT_DB_ALIAS, connections
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from tests.api import conftest as api_fixtures
from tests.api.conftest import World
from tests.conftest import almaty
from tests.smtpserver import free_port
from zonewarden import clock
from zonewarden.cases.models import Case
from zonewarden.cases.tick import tick
from zonewarden.checks.models import Check, Verdict
from zonewarden.intake.models import Incident
from zonewarden.jobs import heartbeat
from zonewarden.jobs.models import Job, WorkerHeartbeat
from zonewarden.jobs.queue import worker_name
from zonewarden.notices.models import Notice
from zonewarden.publish.models import Publication
from zonewarden.queues import LANES

if TYPE_CHECKING:
    from pytest_django import Settings

pytestmark = pytest.mark.django_db
NOW = almaty(2026, 4, 1, 10)
SECOND = dt.timedelta(seconds=1)
MINUTE = dt.timedelta(minutes=1)
TOKEN = "s3cret-metrics-token"
BANNER = "No worker is running: notices are not sent and no case moves on"
world = api_fixtures.world


@pytest.fixture(autouse=True)
def _tick_every_minute(settings: Settings) -> None:
    settings.ZONEWARDEN_TICK_SECONDS = 60  # alive: a beat within the last 120 s


@contextmanager
def database_out_of_reach(tmp_path: Path) -> Iterator[None]:
    """Point the default connection where no database answers: a closed port, a file that cannot open."""
    original = connections[DEFAULT_DB_ALIAS]
    where = copy.deepcopy(original.settings_dict)
    if original.vendor == "sqlite":
        where["NAME"] = str(tmp_path / "no-such-folder" / "zonewarden.sqlite3")
    else:
        where.update(HOST="127.0.0.1", PORT=str(free_port()))  # nothing listens there
    unreachable = type(original)(where, alias=DEFAULT_DB_ALIAS)
    connections[DEFAULT_DB_ALIAS] = unreachable
    try:
        yield
    finally:
        unreachable.close()
        connections[DEFAULT_DB_ALIAS] = original


def healthz(client: Client | None = None, at: dt.datetime = NOW) -> tuple[int, str]:
    with clock.frozen(at):
        response = (client or Client()).get("/healthz")
    return response.status_code, response.content.decode()


# --- /healthz ---------------------------------------------------------------------------------


def test_healthz_is_ok_while_a_worker_beat_within_two_periods() -> None:
    heartbeat.start("host:1", NOW - 119 * SECOND)
    with clock.frozen(NOW):
        response = Client().get("/healthz")
    assert (response.status_code, response.content) == (200, b"ok\n")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    assert healthz(at=NOW + 2 * SECOND) == (503, "unavailable\n")  # 121 s: two periods have passed


def test_healthz_is_unavailable_without_a_worker_or_after_a_clean_stop() -> None:
    assert healthz() == (503, "unavailable\n")
    heartbeat.start("host:1", NOW - MINUTE)
    assert healthz()[0] == 200
    heartbeat.stop("host:1", NOW - SECOND)
    response = Client().get("/healthz")
    assert response.status_code == 503 and "no-store" in response["Cache-Control"]


def test_healthz_follows_the_worker_as_time_passes(settings: Settings) -> None:
    heartbeat.start("host:1", NOW)
    assert healthz(at=NOW + 2 * MINUTE) == (200, "ok\n")
    assert healthz(at=NOW + 2 * MINUTE + SECOND)[0] == 503
    heartbeat.beat("host:1", NOW + 3 * MINUTE)  # the worker came back
    assert healthz(at=NOW + 3 * MINUTE)[0] == 200
    settings.ZONEWARDEN_TICK_SECONDS = 1
    assert healthz(at=NOW + 3 * MINUTE + 3 * SECOND)[0] == 503  # the period is the setting's


def test_healthz_is_unavailable_not_an_error_when_the_database_does_not_answer(tmp_path: Path) -> None:
    heartbeat.start("host:1", NOW)
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.create_user("someone"))  # a session cookie the view must not read
    with database_out_of_reach(tmp_path):
        assert healthz(client) == (503, "unavailable\n")
    assert healthz(client) == (200, "ok\n")  # the database is back


def test_healthz_takes_no_login_no_post_and_no_detail() -> None:
    heartbeat.start("host:1", NOW)
    with clock.frozen(NOW):
        assert Client().post("/healthz").status_code == 405
        assert Client().head("/healthz").status_code == 200
        assert Client().get("/healthz/").status_code == 404


def test_healthz_is_not_redirected_to_https_while_everything_else_is(settings: Settings) -> None:
    settings.SECURE_SSL_REDIRECT = True  # what ZONEWARDEN_PRODUCTION turns on
    heartbeat.start("host:1", NOW)
    client = Client()  # its middleware reads the setting when it is made
    assert client.get("/login/").status_code == 301
    assert client.get("/metrics").status_code == 301  # the token never travels in clear
    assert healthz(client) == (200, "ok\n")


def test_production_settings_exempt_healthz_from_the_https_redirect(tmp_path: Path) -> None:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "PYTEST_"))
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="zonewarden.settings",
        ZONEWARDEN_PRODUCTION="true",
        ZONEWARDEN_SECRET_KEY="x" * 50,
        ZONEWARDEN_ALLOWED_HOSTS="testserver",
        ZONEWARDEN_VAR_DIR=str(tmp_path),  # a database without tables: the view's query fails
    )
    probe = (
        "import django; django.setup(); from django.test import Client; client = Client(); "
        "print(client.get('/login/').status_code, client.get('/healthz').status_code, "
        "client.get('/healthz').content)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], env=environment, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[0] == "301 503 b'unavailable\\n'"


# --- /metrics: who may read it ----------------------------------------------------------------


def test_metrics_refuse_anyone_without_the_token_or_a_staff_session(world: World, settings: Settings) -> None:
    settings.ZONEWARDEN_METRICS_TOKEN = TOKEN
    anonymous = Client().get("/metrics")
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"].startswith("Bearer")
    wrong = Client(headers={"Authorization": "Bearer s3cret-metrics-tokeN"}).get("/metrics")
    assert wrong.status_code == 401 and 'error="invalid_token"' in wrong["WWW-Authenticate"]
    assert Client(headers={"Authorization": f"Basic {TOKEN}"}).get("/metrics").status_code == 401
    assert Client(headers={"Authorization": "Bearer"}).get("/metrics").status_code == 401
    analyst = Client()
    analyst.force_login(User.objects.get(username="analyst"))
    assert analyst.get("/metrics").status_code == 403  # sees the cases, but is not staff
    # A wrong token is refused even to a staff session: the header is what is judged.
    staff = Client(headers={"Authorization": "Bearer nope"})
    staff.force_login(User.objects.create_user("ops", is_staff=True))
    assert staff.get("/metrics").status_code == 401


def test_metrics_take_no_token_when_none_is_configured(settings: Settings) -> None:
    settings.ZONEWARDEN_METRICS_TOKEN = ""
    assert Client(headers={"Authorization": "Bearer "}).get("/metrics").status_code == 401
    assert Client(headers={"Authorization": "Bearer x"}).get("/metrics").status_code == 401


def test_metrics_answer_the_token_and_staff(settings: Settings) -> None:
    settings.ZONEWARDEN_METRICS_TOKEN = TOKEN
    scraper = Client(headers={"Authorization": f"Bearer {TOKEN}"})
    response = scraper.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "no-store" in response["Cache-Control"]
    staff = Client()
    staff.force_login(User.objects.create_user("ops", is_staff=True))
    assert staff.get("/metrics").status_code == 200


def test_metrics_are_unavailable_when_the_database_does_not_answer(
    settings: Settings, tmp_path: Path
) -> None:
    settings.ZONEWARDEN_METRICS_TOKEN = TOKEN
    scraper = Client(headers={"Authorization": f"Bearer {TOKEN}"}, raise_request_exception=False)
    staff = Client(raise_request_exception=False)
    staff.force_login(User.objects.create_user("ops", is_staff=True))
    with database_out_of_reach(tmp_path):
        assert scraper.get("/metrics").status_code == 503
        assert staff.get("/metrics").status_code == 503  # its session cannot be read either
    assert scraper.get("/metrics").status_code == 200


# --- /metrics: what it says -------------------------------------------------------------------


def scrape(settings: Settings) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    settings.ZONEWARDEN_METRICS_TOKEN = TOKEN
    with clock.frozen(NOW):
        response = Client(headers={"Authorization": f"Bearer {TOKEN}"}).get("/metrics")
    assert response.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        assert family.name.startswith("zonewarden_") and family.documentation, family.name
        for sample in family.samples:
            samples[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def _notice(state: str, due: dt.datetime, number: int) -> Notice:
    return Notice.objects.create(
        lease_until=NOW - MINUTE if state == "sending" else None,  # its worker died while sending
        dedupe_key=f"notice-{number}",
        recipients=["admin@example.kz"],
        languages="kk,ru,en",
        from_email="incident@cert.kz",
        message_id=f"<{number}@cert.kz>",
        state=state,
        next_attempt_at=due,
        created_at=due,
    )


def test_metrics_hold_the_queues_the_outcomes_and_the_workers(
    settings: Settings, make_case: Callable[..., Case], make_domain: Callable[..., object]
) -> None:
    cases = [make_case(NOW - 3 * MINUTE) for _ in range(3)]
    Case.objects.update(next_due_at=None)
    Case.objects.filter(pk=cases[0].pk).update(next_due_at=NOW - 7 * MINUTE)  # the clock is late
    Case.objects.filter(pk=cases[1].pk).update(next_due_at=NOW + MINUTE)
    for kind, state, due in [
        ("notice.send", "pending", NOW - 5 * MINUTE),
        ("notice.send", "pending", NOW + MINUTE),  # a retry later: waiting, not yet due
        ("check.case", "running", NOW - 10 * MINUTE),  # its worker's lease runs on
        ("check.case", "done", NOW - 60 * MINUTE),
        ("report.weekly", "pending", NOW - 2 * MINUTE),
    ]:
        lease = NOW + 5 * MINUTE if state == "running" else None
        Job.objects.create(kind=kind, state=state, due_at=due, created_at=due, lease_until=lease)
    for number, (state, due) in enumerate(
        [
            ("pending", NOW - 3 * MINUTE),
            ("sending", NOW - SECOND),
            ("sent", NOW - MINUTE),
            ("sent", NOW - MINUTE),
            ("failed", NOW - MINUTE),
            ("unconfirmed", NOW - MINUTE),
        ]
    ):
        _notice(state, due, number)
    for action, state in [("suspend", "pending"), ("suspend", "applied"), ("restore", "failed")]:
        Publication.objects.create(
            domain=make_domain(),
            action=action,
            state=state,
            dedupe_key=f"{action}-{state}",
            next_attempt_at=NOW - 4 * MINUTE,
            created_at=NOW - 4 * MINUTE,
        )
    incident = Incident.objects.filter(case=cases[0]).get()
    for verdict, at in [("present", NOW - 48 * 60 * MINUTE), ("present", NOW - MINUTE), ("gone", NOW)]:
        Check.objects.create(incident=incident, url=incident.url, at=at, verdict=verdict)
    heartbeat.start("host:1", NOW - 5 * MINUTE)
    heartbeat.beat("host:1", NOW - 30 * SECOND)
    heartbeat.record_tick("host:1", NOW - 40 * SECOND, 0.25)
    heartbeat.start("host:2", NOW - 10 * MINUTE)  # died: beats no more
    heartbeat.start("host:3", NOW - 10 * MINUTE)
    heartbeat.stop("host:3", NOW - 9 * MINUTE)

    got = scrape(settings)

    def value(name: str, **labels: str) -> float:
        return got[name, tuple(sorted(labels.items()))]

    depth, age = "zonewarden_queue_depth", "zonewarden_queue_oldest_due_age_seconds"
    # Due: waiting for a worker now; held: under a running lease; later: a retry or schedule to
    # come; in doubt: a notice whose worker's lease ran out while it was sending.
    assert value(depth, lane="mail", state="due") == 2  # a job and a notice
    assert value(age, lane="mail", state="due") == 300
    assert value(depth, lane="mail", state="later") == 1 and value(age, lane="mail", state="later") == 0
    assert value(depth, lane="mail", state="in_doubt") == 1
    assert value(depth, lane="mail", state="held") == 0
    assert value(depth, lane="checks", state="held") == 1
    assert value(age, lane="checks", state="held") == 600
    assert value(depth, lane="checks", state="due") == 0 and value(age, lane="checks", state="due") == 0
    assert value(depth, lane="dns", state="due") == 1
    assert value(age, lane="dns", state="due") == 240
    assert value(depth, lane="clock", state="due") == 2  # the late case and the job of no other lane
    assert value(age, lane="clock", state="due") == 420
    assert {dict(labels)["lane"] for name, labels in got if name == depth} == set(LANES)
    assert sum(v for (name, _), v in got.items() if name == depth) == 8  # finished work is no queue

    notices = {state: value("zonewarden_notices", state=state) for state in Notice.State.values}
    assert notices == {"pending": 1, "sending": 1, "sent": 2, "failed": 1, "unconfirmed": 1, "cancelled": 0}
    assert value("zonewarden_publications", action="suspend", state="applied") == 1
    assert value("zonewarden_publications", action="suspend", state="pending") == 1
    assert value("zonewarden_publications", action="restore", state="failed") == 1
    assert value("zonewarden_publications", action="restore", state="applied") == 0
    assert {v: value("zonewarden_checks_total", verdict=v) for v in Verdict.values} == {
        "present": 2,
        "gone": 1,
        "unreachable": 0,
        "refused": 0,
        "error": 0,
    }
    assert value("zonewarden_checks_24h", verdict="present") == 1
    assert value("zonewarden_checks_24h", verdict="gone") == 1

    assert value("zonewarden_workers_alive") == 1
    beat = "zonewarden_worker_last_heartbeat_timestamp_seconds"
    assert value(beat, worker="host:1") == (NOW - 30 * SECOND).timestamp()
    assert value(beat, worker="host:2") == (NOW - 10 * MINUTE).timestamp()
    assert not any(labels == (("worker", "host:3"),) for _, labels in got)  # stopped cleanly
    assert value("zonewarden_tick_duration_seconds", worker="host:1") == 0.25
    assert (
        value("zonewarden_worker_last_tick_timestamp_seconds", worker="host:1")
        == (NOW - 40 * SECOND).timestamp()
    )
    assert ("zonewarden_tick_duration_seconds", (("worker", "host:2"),)) not in got  # it never ticked


def test_metrics_of_an_empty_database_report_every_lane(settings: Settings) -> None:
    got = scrape(settings)
    for lane in LANES:
        assert got["zonewarden_queue_depth", (("lane", lane), ("state", "due"))] == 0
    assert got["zonewarden_workers_alive", ()] == 0
    assert got["zonewarden_notices", (("state", "unconfirmed"),)] == 0


def test_the_tick_notes_its_duration_on_its_workers_heartbeat() -> None:
    heartbeat.start(worker_name(), NOW)
    summary = tick(NOW + MINUTE)
    row = WorkerHeartbeat.objects.get(name=worker_name())
    assert row.tick_at == NOW + MINUTE and row.tick_seconds == summary.seconds
    assert 0 < summary.seconds < 60
    tick(NOW + 2 * MINUTE, worker="host:elsewhere")  # a tick outside this worker: no row, no note
    assert WorkerHeartbeat.objects.get(name=worker_name()).tick_at == NOW + MINUTE
    assert not WorkerHeartbeat.objects.filter(name="host:elsewhere").exists()


# --- the banner -------------------------------------------------------------------------------


def page(name: str, path: str, at: dt.datetime = NOW, headers: dict[str, str] | None = None) -> str:
    client = Client(headers=headers or {})
    client.force_login(User.objects.get(username=name))
    with clock.frozen(at):
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.content.decode()


def test_staff_see_a_banner_while_no_worker_is_alive(world: World) -> None:
    assert page("analyst", "/cases/").count(BANNER) == 1
    assert page("analyst", "/dashboard/").count(BANNER) == 1  # in the body that refreshes itself
    assert page("analyst", "/dashboard/", headers={"HX-Request": "true"}).count(BANNER) == 1
    assert BANNER not in page("registrar-x", "/registrar/")  # not the registrars' business
    User.objects.create_user("ops", is_staff=True)
    assert BANNER in page("ops", "/suspended/")
    heartbeat.start("host:1", NOW - MINUTE)
    assert BANNER not in page("analyst", "/cases/")
    assert BANNER not in page("analyst", "/dashboard/")
    assert BANNER not in page("analyst", "/dashboard/", headers={"HX-Request": "true"})
    assert page("analyst", "/dashboard/", at=NOW + 2 * MINUTE).count(BANNER) == 1  # the beat is stale


def test_the_banner_speaks_kazakh_and_russian(world: World) -> None:
    assert "өңдеуші процесс іске қосылмаған" in page("analyst", "/cases/", headers={"Accept-Language": "kk"})
    assert "Ни один обработчик не запущен" in page("analyst", "/cases/", headers={"Accept-Language": "ru"})
