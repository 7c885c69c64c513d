"""Days an administrator adds to the calendar: decrees the holidays package does not know yet."""

from __future__ import annotations

from django.db import models

from zonewarden import clock


class ExtraDay(models.Model):
    """A date declared a day off, or a weekend day declared a working day, by an administrator."""

    class Kind(models.TextChoices):
        DAY_OFF = "day_off", "day off"
        WORKING_DAY = "working_day", "working day"

    date = models.DateField(unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    note = models.CharField(
        max_length=200, blank=True, help_text="The decree or reason, e.g. a government resolution"
    )
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.get_kind_display()}"
