"""The packages that carry legal data are pinned, and what they answer is written down here.

Every deadline is counted on the `holidays` package's Kazakh calendar, and what a registered
domain is comes from the Public Suffix List `publicsuffixlist` bundles. An upgrade that moves a
day off or a suffix changes deadlines and cases: it must fail here, loudly, and be reviewed.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path

import pytest

from zonewarden.intake.normalize import registered_domain
from zonewarden.workdays.calendar import WorkingCalendar

ROOT = Path(__file__).resolve().parent.parent

# Weekdays that are not working days (holidays, holidays moved off a weekend), by the package alone.
WEEKDAYS_OFF = {
    2026: [
        "2026-01-01",  # New Year
        "2026-01-02",
        "2026-01-07",  # Orthodox Christmas
        "2026-03-09",  # Women's Day (8 March, a Sunday)
        "2026-03-23",  # Nauryz
        "2026-03-24",  # Nauryz, moved from Saturday 21 March
        "2026-03-25",  # Nauryz, moved from Sunday 22 March
        "2026-05-01",  # Unity of the People of Kazakhstan
        "2026-05-07",  # Defender of the Fatherland
        "2026-05-11",  # Victory Day (9 May, a Saturday)
        "2026-05-27",  # Kurban ait (estimated by the package)
        "2026-07-06",  # Capital Day
        "2026-10-26",  # Republic Day (25 October, a Sunday)
        "2026-12-16",  # Independence Day
    ],
    2027: [
        "2027-01-01",
        "2027-01-04",  # New Year (2 January, a Saturday)
        "2027-01-07",
        "2027-03-08",
        "2027-03-15",  # Constitution Day (from 2027, by the package)
        "2027-03-22",
        "2027-03-23",
        "2027-03-24",  # Nauryz, moved from Sunday 21 March
        "2027-05-03",  # Unity Day (1 May, a Saturday)
        "2027-05-07",
        "2027-05-10",  # Victory Day (9 May, a Sunday)
        "2027-07-06",
        "2027-10-25",
        "2027-12-16",
    ],
}


def _pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = {}
    for requirement in project["project"]["dependencies"]:
        name, _, version = requirement.partition("==")
        if version:
            pins[name.strip().lower()] = version.strip()
    return pins


@pytest.mark.parametrize("package", ["holidays", "publicsuffixlist"])
def test_the_packages_with_legal_data_are_pinned_exactly(package: str) -> None:
    assert package in _pins(), f"{package} must be pinned with == in pyproject.toml"


@pytest.mark.parametrize("package", ["holidays", "publicsuffixlist"])
def test_the_lock_holds_the_pinned_version(package: str) -> None:
    lock = (ROOT / "requirements" / "lock.txt").read_text(encoding="utf-8")
    locked = re.search(rf"^{package}==(\S+)", lock, flags=re.MULTILINE)
    assert locked is not None and locked.group(1) == _pins()[package]


@pytest.mark.parametrize("year", sorted(WEEKDAYS_OFF))
def test_the_calendar_states_each_weekday_off_of_the_year(year: int) -> None:
    calendar = WorkingCalendar("KZ", {})
    day, off = dt.date(year, 1, 1), []
    while day.year == year:
        if day.weekday() < 5 and not calendar.is_working_day(day):
            off.append(day.isoformat())
        day += dt.timedelta(days=1)
    assert off == WEEKDAYS_OFF[year]


@pytest.mark.parametrize("year", sorted(WEEKDAYS_OFF))
def test_no_weekend_day_is_worked_without_a_decree_entered(year: int) -> None:
    # The package knows the government's transfers only up to 2025; later ones are entered by an
    # administrator (`zonewarden workdays on`), so no Saturday or Sunday is a working day by itself.
    calendar = WorkingCalendar("KZ", {})
    day = dt.date(year, 1, 1)
    while day.year == year:
        if day.weekday() >= 5:
            assert not calendar.is_working_day(day), day
        day += dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("host", "registered"),
    [
        ("a.b.kz", "b.kz"),
        ("shop.com.kz", "shop.com.kz"),
        ("x.gov.kz", "x.gov.kz"),
        ("login.x.org.kz", "x.org.kz"),
        ("x.edu.kz", "x.edu.kz"),
        ("x.mil.kz", "x.mil.kz"),
        ("x.net.kz", "x.net.kz"),
        ("com.kz", None),
        ("edu.kz", None),
        ("a.xn--80ao21a", "a.xn--80ao21a"),
        ("xn--80ao21a", None),
    ],
)
def test_the_public_suffix_list_answers_as_written(host: str, registered: str | None) -> None:
    assert registered_domain(host) == registered
