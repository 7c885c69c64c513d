"""Read the times given on the command line: ISO 8601, local time zone when none is given."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import CommandError
from django.utils import timezone


def parse_moment(text: str) -> dt.datetime:
    """Return an aware datetime for an ISO 8601 date or time; a naive one is in the configured zone."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(
            f"{text!r} is not an ISO 8601 time (e.g. 2026-03-18T10:00 or 2026-03-18)"
        ) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    return moment
