from __future__ import annotations

from django.apps import AppConfig


class WorkdaysConfig(AppConfig):
    name = "zonewarden.workdays"
    verbose_name = "Working-day calendar"
