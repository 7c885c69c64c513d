"""The working-day calendar every deadline is counted in.

Public holidays, holidays moved off weekends and the government's yearly transfers come from the
`holidays` package for the configured country; the `ExtraDay` table overrides it for decrees the
package does not know yet. Working days between A and B count the days after A up to and
including B, so that `working_days_between(a, working_days_after(a, n)) == n`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.utils import timezone

# Counting further than this is a configuration error (or a loop), not a deadline.
MAX_WORKING_DAYS = 3660


@lru_cache(maxsize=8)
def _country_holidays(country: str) -> holidays.HolidayBase:
    return holidays.country_holidays(country)


class WorkingCalendar:
    """A country's working days with an administrator's overrides, loaded once for a batch of sums."""

    def __init__(self, country: str, overrides: Mapping[dt.date, bool]) -> None:
        self.country = country
        self.base = _country_holidays(country)
        self.overrides = dict(overrides)

    @classmethod
    def load(cls) -> WorkingCalendar:
        """Return the configured calendar with the overrides now in the database."""
        from zonewarden.workdays.models import ExtraDay

        overrides = {
            day: kind == ExtraDay.Kind.WORKING_DAY
            for day, kind in ExtraDay.objects.values_list("date", "kind")
        }
        return cls(settings.ZONEWARDEN_CALENDAR_COUNTRY, overrides)

    def is_working_day(self, day: dt.date) -> bool:
        """Return whether `day` is a working day."""
        if day in self.overrides:
            return self.overrides[day]
        return bool(self.base.is_working_day(day))

    def holiday_name(self, day: dt.date) -> str | None:
        """Return the holiday's name on `day`, if the package knows one."""
        name = self.base.get(day)
        return str(name) if name else None

    def working_days_after(self, start: dt.date, n: int) -> dt.date:
        """Return the working day N days after `start`, skipping holidays and moved days off."""
        if n < 0:
            raise ValueError(f"cannot count {n} working days: the number must be zero or more")
        if n > MAX_WORKING_DAYS:
            raise ValueError(f"{n} working days is more than the calendar counts ({MAX_WORKING_DAYS})")
        day = start
        counted = 0
        while counted < n:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Return the number of working days after `start` up to and including `end` (negative if reversed)."""
        if end < start:
            return -self.working_days_between(end, start)
        if (end - start).days > MAX_WORKING_DAYS * 2:
            raise ValueError(f"{start} to {end} is longer than the calendar counts")
        count = 0
        day = start
        while day < end:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def deadline_after(self, moment: dt.datetime, n: int) -> dt.datetime:
        """Return the end of the Nth working day after `moment`'s local date, as an aware time."""
        local_zone = ZoneInfo(settings.TIME_ZONE)
        local_date = timezone.localtime(moment, local_zone).date()
        last_day = self.working_days_after(local_date, n)
        # The end of a day is the midnight that starts the next one, in the local zone.
        return dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time.min, tzinfo=local_zone)


def working_days_after(start: dt.date, n: int) -> dt.date:
    """Return the working day N days after `start` by the configured calendar."""
    return WorkingCalendar.load().working_days_after(start, n)


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Return the working days after `start` up to and including `end` by the configured calendar."""
    return WorkingCalendar.load().working_days_between(start, end)


def deadline_after(moment: dt.datetime, n: int) -> dt.datetime:
    """Return the end of the Nth working day after `moment` by the configured calendar."""
    return WorkingCalendar.load().deadline_after(moment, n)
