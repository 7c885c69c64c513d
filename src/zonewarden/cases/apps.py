from __future__ import annotations

from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "zonewarden.cases"
    verbose_name = "Cases, policy and audit"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from zonewarden.access import ensure_groups

        post_migrate.connect(ensure_groups, dispatch_uid="zonewarden.roles")
