from __future__ import annotations

from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "zonewarden.notices"
    verbose_name = "Notices"

    def ready(self) -> None:
        from zonewarden.notices import delivery  # noqa: F401  (registers the job handlers)
