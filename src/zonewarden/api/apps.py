from __future__ import annotations

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "zonewarden.api"
    verbose_name = "REST API"
