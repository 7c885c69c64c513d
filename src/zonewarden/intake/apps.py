from __future__ import annotations

from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "zonewarden.intake"
    verbose_name = "Intake: incidents"
