from __future__ import annotations

from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "zonewarden.cases"
    verbose_name = "Cases, policy and audit"
