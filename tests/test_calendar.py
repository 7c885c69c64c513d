"""The working-day calendar: Kazakh holidays, moved days, and an administrator's extra days."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import almaty
from zonewarden.workdays.calendar import (
    WorkingCalendar,
    deadline_after,
    working_days_after,
    working_days_between,
)
from zonewarden.workdays.models import ExtraDay

D = dt.date


def kz() -> WorkingCalendar:
    return WorkingCalendar("KZ", {})


def test_nauryz_2026_is_skipped_when_counting_ten_working_days() -> None:
    # 21-23 March are Nauryz; 21 and 22 fall on a weekend and move to 24 and 25 March.
    assert kz().working_days_after(D(2026, 3, 18), 10) == D(2026, 4, 6)


@pytest.mark.parametrize("day", [D(2026, 3, 23), D(2026, 3, 24), D(2026, 3, 25)])
def test_nauryz_days_and_their_moved_days_are_off(day: dt.date) -> None:
    assert not kz().is_working_day(day)


def test_new_year_2025_transfer_makes_friday_off_and_sunday_worked() -> None:
    calendar = kz()
    assert not calendar.is_working_day(D(2025, 1, 3))  # Friday, off by the government's transfer
    assert calendar.is_working_day(D(2025, 1, 5))  # Sunday, worked in its place
    # From Thursday 2 January (a holiday): Friday off, Saturday off, Sunday worked, Monday…
    assert calendar.working_days_after(D(2025, 1, 2), 1) == D(2025, 1, 5)
    assert calendar.working_days_after(D(2025, 1, 2), 2) == D(2025, 1, 6)


def test_working_days_between_counts_after_start_up_to_end() -> None:
    calendar = kz()
    assert calendar.working_days_between(D(2026, 3, 18), D(2026, 4, 6)) == 10
    assert calendar.working_days_between(D(2026, 4, 6), D(2026, 3, 18)) == -10
    assert calendar.working_days_between(D(2026, 3, 20), D(2026, 3, 25)) == 0  # a weekend and Nauryz


@pytest.mark.parametrize("start", [D(2025, 12, 29) + dt.timedelta(days=i) for i in range(0, 120, 7)])
def test_counting_forward_and_measuring_back_agree(start: dt.date) -> None:
    calendar = kz()
    for n in (0, 1, 5, 10):
        assert calendar.working_days_between(start, calendar.working_days_after(start, n)) == n


def test_negative_count_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="zero or more"):
        kz().working_days_after(D(2026, 1, 5), -1)


@pytest.mark.django_db
def test_an_administrators_day_off_moves_the_deadline() -> None:
    assert working_days_after(D(2026, 5, 4), 1) == D(2026, 5, 5)
    ExtraDay.objects.create(date=D(2026, 5, 5), kind=ExtraDay.Kind.DAY_OFF, note="decree 2026")
    assert working_days_after(D(2026, 5, 4), 1) == D(2026, 5, 6)
    assert working_days_between(D(2026, 5, 4), D(2026, 5, 6)) == 1


@pytest.mark.django_db
def test_an_administrators_working_saturday_counts() -> None:
    ExtraDay.objects.create(date=D(2026, 5, 9), kind=ExtraDay.Kind.WORKING_DAY)
    assert working_days_after(D(2026, 5, 8), 1) == D(2026, 5, 9)


@pytest.mark.django_db
def test_deadline_is_the_end_of_the_nth_working_day_in_almaty() -> None:
    # Received Friday 20 March 2026 at 17:00: the weekend and Nauryz pass; the 1st working day is Thursday 26th.
    deadline = deadline_after(almaty(2026, 3, 20, 17), 1)
    assert deadline == almaty(2026, 3, 27, 0, 0)


@pytest.mark.django_db
def test_workdays_command_prints_the_nth_working_day() -> None:
    out = StringIO()
    call_command("workdays", "add", "2026-03-18", "10", stdout=out)
    assert out.getvalue().strip() == "2026-04-06"


@pytest.mark.django_db
def test_workdays_command_adds_and_forgets_a_day_off() -> None:
    call_command("workdays", "off", "2026-04-06", "--note", "decree", stdout=StringIO())
    out = StringIO()
    call_command("workdays", "add", "2026-03-18", "10", stdout=out)
    assert out.getvalue().strip() == "2026-04-07"
    call_command("workdays", "forget", "2026-04-06", stdout=StringIO())
    out = StringIO()
    call_command("workdays", "check", "2026-04-06", stdout=out)
    assert "is a working day" in out.getvalue()


@pytest.mark.django_db
def test_workdays_command_refuses_a_bad_date() -> None:
    with pytest.raises(CommandError, match="not a date"):
        call_command("workdays", "add", "18.03.2026", "10")
