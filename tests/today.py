"""Pytest plugin: `--today DATE` runs the whole session as if it were that day.

The clock is moved with time-machine (every `datetime.now`, `time.time` and Django's
`timezone.now` in this process; monotonic clocks keep running), starting at 10:00 in the
configured time zone and ticking on from there. CI runs the suite a second time on a Monday in
the Nauryz holidays, so a test that depends on the day it runs fails there.
"""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

import pytest
import time_machine

_travel: list[time_machine.travel] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--today",
        metavar="DATE",
        default=os.environ.get("ZONEWARDEN_TEST_TODAY") or None,
        help="run the whole session as if today were DATE (ISO 8601, e.g. 2026-03-23)",
    )


def session_start(text: str) -> dt.datetime:
    """The moment a session run with `--today TEXT` starts at: 10:00 local time that day."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise pytest.UsageError(f"--today {text!r}: expected a date like 2026-03-23") from None
    zone = ZoneInfo(os.environ.get("ZONEWARDEN_TIME_ZONE", "Asia/Almaty"))
    return dt.datetime.combine(day, dt.time(10), tzinfo=zone)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    text = config.getoption("today")
    if text:
        travel = time_machine.travel(session_start(text), tick=True)
        travel.start()
        _travel.append(travel)


def pytest_unconfigure(config: pytest.Config) -> None:
    while _travel:
        _travel.pop().stop()


def pytest_report_header(config: pytest.Config) -> str:
    text = config.getoption("today")
    return f"today: {text} (moved with time-machine)" if text else "today: the real day"
