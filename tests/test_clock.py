"""One clock: `--at` on the commands, the replay clock of a test database, and the system time."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import Client, override_settings

from tests.conftest import almaty
from zonewarden import clock
from zonewarden.cases import workflow
from zonewarden.cases.models import Case
from zonewarden.cases.ownerlink import owner_token
from zonewarden.clock import ReplayClock
from zonewarden.intake.models import Incident, Ingest

ALMATY = almaty(2026, 1, 1).tzinfo
T0 = almaty(2026, 4, 10, 9)


def test_a_replay_clock_stands_at_an_iso_time_in_the_configured_zone() -> None:
    replay = ReplayClock.parse("2026-04-10T09:00", zone=ALMATY)
    assert replay.read(dt.datetime(2030, 1, 1, tzinfo=dt.UTC)) == T0


@pytest.mark.parametrize(
    ("text", "shift"),
    [
        ("-30d", dt.timedelta(days=-30)),
        ("+2d6h", dt.timedelta(days=2, hours=6)),
        ("+90m", dt.timedelta(minutes=90)),
        ("-1d2h3m4s", -dt.timedelta(days=1, hours=2, minutes=3, seconds=4)),
    ],
)
def test_a_replay_clock_shifts_the_real_time(text: str, shift: dt.timedelta) -> None:
    real = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)
    assert ReplayClock.parse(text, zone=ALMATY).read(real) == real + shift


@pytest.mark.parametrize("text", ["tomorrow", "+", "-3x", "2026-13-01", "+d"])
def test_a_bad_replay_clock_names_the_variable(text: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="ZONEWARDEN_CLOCK"):
        ReplayClock.parse(text, zone=ALMATY)


def test_now_follows_the_system_clock_when_nothing_else_is_set() -> None:
    with time_machine.travel(T0, tick=False):
        assert clock.now() == T0
        assert clock.today() == dt.date(2026, 4, 10)


def test_the_replay_clock_wins_over_the_system_clock_and_at_wins_over_both() -> None:
    with time_machine.travel(T0, tick=False):
        with override_settings(ZONEWARDEN_CLOCK=ReplayClock(shift=dt.timedelta(days=-3))):
            assert clock.now() == T0 - dt.timedelta(days=3)
            with clock.frozen(T0 + dt.timedelta(days=1)):
                assert clock.now() == T0 + dt.timedelta(days=1)
            assert clock.now() == T0 - dt.timedelta(days=3)


def _settings_process(**env: str) -> subprocess.CompletedProcess[str]:
    code = "from zonewarden import clock; import django; django.setup(); print(clock.now().isoformat())"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ZONEWARDEN_")}
    environment.pop("PYTEST_VERSION", None)
    environment.update(DJANGO_SETTINGS_MODULE="zonewarden.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=60, check=False
    )


def test_a_process_started_with_the_replay_clock_reads_it() -> None:
    done = _settings_process(ZONEWARDEN_CLOCK="2026-04-10T09:00")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2026-04-10T09:00:00+05:00"


def test_the_replay_clock_is_refused_under_production_settings() -> None:
    done = _settings_process(
        ZONEWARDEN_CLOCK="2026-04-10T09:00", ZONEWARDEN_PRODUCTION="true", ZONEWARDEN_SECRET_KEY="x" * 50
    )
    assert done.returncode != 0
    assert "ZONEWARDEN_CLOCK" in done.stderr and "ZONEWARDEN_PRODUCTION" in done.stderr


pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("defaults")
def test_ingest_at_records_the_given_moment(tmp_path: Path) -> None:
    feed = tmp_path / "feed.csv"
    feed.write_text("url,category\nhttp://phish.kz/login.php,phishing\n", encoding="utf-8")
    call_command("ingest", str(feed), "--format", "csv", "--at", "2026-04-10T09:00", stdout=StringIO())
    ingest = Ingest.objects.get()
    assert ingest.started_at == T0 and ingest.finished_at == T0
    assert Incident.objects.get().created_at == T0


def test_a_subcommand_takes_at_before_or_after_its_name(make_case: Callable[..., Case]) -> None:
    case = workflow.confirm(make_case(T0), actor="user:analyst", at=T0)
    for arguments in (["--at", "2026-04-10T10:00", "send"], ["send", "--at", "2026-04-10T10:00"]):
        out = StringIO()
        call_command("notices", *arguments, stdout=out)
        assert out.getvalue().startswith("notices:")
    with pytest.raises(Exception, match="not an ISO 8601 time"):
        call_command("notices", "send", "--at", "next tuesday", stdout=StringIO())
    assert case.pk


def test_tick_at_moves_cases_as_of_that_moment(make_case: Callable[..., Case]) -> None:
    out = StringIO()
    call_command("tick", "--at", "2026-04-10T09:00", stdout=out)
    assert out.getvalue().strip()


def test_the_owner_page_ages_links_by_the_replay_clock(make_case: Callable[..., Case]) -> None:
    case = make_case(T0)
    with override_settings(ZONEWARDEN_CLOCK=ReplayClock(fixed=T0)):
        token = owner_token(case)
        assert Client().get(f"/owner/{token}/").status_code == 200
    with override_settings(ZONEWARDEN_CLOCK=ReplayClock(fixed=T0 + dt.timedelta(days=30))):
        assert Client().get(f"/owner/{token}/").status_code == 200
    with override_settings(ZONEWARDEN_CLOCK=ReplayClock(fixed=T0 + dt.timedelta(days=91))):
        page = Client().get(f"/owner/{token}/")
        assert page.status_code == 403 and "expired" in page.content.decode()


def test_the_owner_page_records_a_reported_fix_on_the_replay_clock(make_case: Callable[..., Case]) -> None:
    case = workflow.confirm(make_case(T0), actor="user:analyst", at=T0)
    with override_settings(ZONEWARDEN_CLOCK=ReplayClock(fixed=T0 + dt.timedelta(hours=1))):
        Client().post(f"/owner/{owner_token(case)}/", {"note": "fixed it"})
    events = list(case.events.order_by("seq").values_list("action", "at"))
    reported = [at for action, at in events if action == "owner.reported_fix"]
    assert reported == [T0 + dt.timedelta(hours=1)], events


@pytest.mark.django_db(transaction=True)
def test_worker_once_at_runs_its_round_as_of_that_moment(make_case: Callable[..., Case]) -> None:
    from zonewarden.jobs.models import WorkerHeartbeat
    from zonewarden.notices.models import Notice

    workflow.confirm(make_case(T0), actor="user:analyst", at=T0)
    call_command("worker", "--once", "--at", "2026-04-10T10:00", stdout=StringIO())
    [notice] = Notice.objects.all()
    assert notice.state == Notice.State.SENT and notice.sent_at == T0 + dt.timedelta(hours=1)
    assert WorkerHeartbeat.objects.get().started_at == T0 + dt.timedelta(hours=1)


def test_worker_at_without_once_is_refused() -> None:
    with pytest.raises(Exception, match="use it with --once"):
        call_command("worker", "--at", "2026-04-10T10:00", stdout=StringIO())
