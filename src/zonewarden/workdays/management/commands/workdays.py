"""`zonewarden workdays`: count working days and add the days off and working days of new decrees."""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser, ArgumentTypeError
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from zonewarden.workdays.calendar import WorkingCalendar
from zonewarden.workdays.models import ExtraDay


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ArgumentTypeError(f"{text!r} is not a date (use YYYY-MM-DD)") from None


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise ArgumentTypeError(f"{value} is negative: count working days forward from the date")
    return value


class Command(BaseCommand):
    help = "Count working days by the configured calendar, and manage an administrator's extra days."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="print the working day N working days after DATE")
        add.add_argument("date", type=_date)
        add.add_argument("n", type=_count)
        between = sub.add_parser("between", help="print the working days after START up to and including END")
        between.add_argument("start", type=_date)
        between.add_argument("end", type=_date)
        check = sub.add_parser("check", help="say whether DATE is a working day")
        check.add_argument("date", type=_date)
        off = sub.add_parser("off", help="declare DATE a day off (a decree the package does not know)")
        off.add_argument("date", type=_date)
        off.add_argument("--note", default="")
        on = sub.add_parser("on", help="declare DATE a working day (e.g. a Saturday worked by decree)")
        on.add_argument("date", type=_date)
        on.add_argument("--note", default="")
        forget = sub.add_parser("forget", help="remove an administrator's extra day")
        forget.add_argument("date", type=_date)
        listing = sub.add_parser("list", help="list the days off and extra working days of YEAR")
        listing.add_argument("year", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action in {"off", "on"}:
            kind = ExtraDay.Kind.DAY_OFF if action == "off" else ExtraDay.Kind.WORKING_DAY
            ExtraDay.objects.update_or_create(
                date=options["date"], defaults={"kind": kind, "note": options["note"]}
            )
            self.stdout.write(f"{options['date'].isoformat()} is now a {kind.label}")
            return
        if action == "forget":
            deleted, _ = ExtraDay.objects.filter(date=options["date"]).delete()
            if not deleted:
                raise CommandError(f"{options['date'].isoformat()} is not an administrator's extra day")
            self.stdout.write(f"{options['date'].isoformat()} follows the country calendar again")
            return
        calendar = WorkingCalendar.load()
        if action == "add":
            try:
                self.stdout.write(calendar.working_days_after(options["date"], options["n"]).isoformat())
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        elif action == "between":
            self.stdout.write(str(calendar.working_days_between(options["start"], options["end"])))
        elif action == "check":
            day = options["date"]
            working = calendar.is_working_day(day)
            reason = calendar.holiday_name(day) or ("weekend" if day.weekday() >= 5 else "")
            if day in calendar.overrides:
                reason = "administrator's extra day"
            verdict = "a working day" if working else "not a working day"
            self.stdout.write(
                f"{day.isoformat()} ({day:%A}) is {verdict}" + (f": {reason}" if reason else "")
            )
        elif action == "list":
            self._list_year(calendar, options["year"])

    def _list_year(self, calendar: WorkingCalendar, year: int) -> None:
        day = dt.date(year, 1, 1)
        while day.year == year:
            weekend = day.weekday() >= 5
            working = calendar.is_working_day(day)
            if working == weekend:  # a day off on a weekday, or a working weekend day
                label = "working day" if working else "day off"
                reason = "administrator" if day in calendar.overrides else (calendar.holiday_name(day) or "")
                self.stdout.write(f"{day.isoformat()} {day:%a} {label:11} {reason}")
            day += dt.timedelta(days=1)
