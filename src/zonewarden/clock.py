"""The one place zonewarden reads the time from.

Every deadline, claim, lease and timestamp asks `now()`. It answers, in this order:

1. the moment a command was told with `--at` (`frozen(at)` for the duration of the command);
2. the replay clock of a non-production database, `ZONEWARDEN_CLOCK` — an ISO 8601 time at which
   the clock stands still (`2026-04-10T09:00`), or a shift of the real time (`-30d`, `+2d6h`,
   `+90m`) that moves with it — honoured by the web application, the worker and every command;
3. the system clock (`django.utils.timezone.now`, which time-machine moves in the tests).

`ZONEWARDEN_CLOCK` is refused under production settings: a real deployment runs on real time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

_frozen: ContextVar[dt.datetime | None] = ContextVar("zonewarden_clock_frozen", default=None)
_SHIFT = re.compile(r"^(?P<sign>[+-])(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?$")


class ReplayClock:
    """`ZONEWARDEN_CLOCK`: a fixed moment, or a shift applied to the real time."""

    def __init__(self, *, fixed: dt.datetime | None = None, shift: dt.timedelta | None = None) -> None:
        self.fixed = fixed
        self.shift = shift

    @classmethod
    def parse(cls, text: str, *, zone: dt.tzinfo | None = None) -> ReplayClock:
        value = text.strip()
        match = _SHIFT.match(value)
        if match and any(match.group(part) for part in "dhms"):
            shift = dt.timedelta(
                days=int(match.group("d") or 0),
                hours=int(match.group("h") or 0),
                minutes=int(match.group("m") or 0),
                seconds=int(match.group("s") or 0),
            )
            return cls(shift=-shift if match.group("sign") == "-" else shift)
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ImproperlyConfigured(
                f"ZONEWARDEN_CLOCK={text!r} is neither an ISO 8601 time (2026-04-10T09:00) "
                "nor a shift of the real time (-30d, +2d6h, +90m)"
            ) from None
        if moment.tzinfo is None:
            if zone is None:
                raise ImproperlyConfigured(f"ZONEWARDEN_CLOCK={text!r} needs a time zone")
            moment = moment.replace(tzinfo=zone)
        return cls(fixed=moment)

    def read(self, real: dt.datetime) -> dt.datetime:
        if self.fixed is not None:
            return self.fixed
        return real + (self.shift or dt.timedelta())

    def __str__(self) -> str:
        return self.fixed.isoformat() if self.fixed is not None else f"real time {self.shift}"


def _replay() -> ReplayClock | None:
    from django.conf import settings

    value = getattr(settings, "ZONEWARDEN_CLOCK", None)
    return value if isinstance(value, ReplayClock) else None


def now() -> dt.datetime:
    """The current moment as zonewarden sees it (aware, UTC unless `--at` gave another zone)."""
    frozen_at = _frozen.get()
    if frozen_at is not None:
        return frozen_at
    real = timezone.now()
    replay = _replay()
    return replay.read(real) if replay is not None else real


def today() -> dt.date:
    """Today's date in the configured time zone."""
    return timezone.localtime(now()).date()


@contextmanager
def frozen(at: dt.datetime | None) -> Iterator[None]:
    """Within the block, `now()` is `at` (None: leave the clock as it is)."""
    if at is None:
        yield
        return
    if timezone.is_naive(at):
        raise ValueError("frozen() needs an aware datetime")
    token = _frozen.set(at)
    try:
        yield
    finally:
        _frozen.reset(token)


def parse_moment(text: str) -> dt.datetime:
    """An aware datetime from an ISO 8601 date or time; a naive one is in the configured zone."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(
            f"{text!r} is not an ISO 8601 time (e.g. 2026-03-18T10:00 or 2026-03-18)"
        ) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    return moment


class ReplayableCommand(BaseCommand):
    """A command that takes `--at TIME` and runs with the clock standing at that moment."""

    at_help = "run as of this ISO 8601 time, e.g. 2026-04-10T09:00 (replays the process; default: now)"

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.add_argument("--at", help=self.at_help)
        # `zonewarden registry suspend 5 --at …` as well as `zonewarden registry --at … suspend 5`.
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    sub.add_argument("--at", default=argparse.SUPPRESS, help=self.at_help)
        return parser

    def execute(self, *args: Any, **options: Any) -> str | None:
        at = options.get("at")
        with frozen(parse_moment(at) if at else None):
            return super().execute(*args, **options)
