from __future__ import annotations

from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "zonewarden.jobs"
    verbose_name = "Queued work"
